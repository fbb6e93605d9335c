// SPDX-License-Identifier: MIT
/*
 * t_ctrl.c: domains as libxenctrl reports them, and a destroyed domain
 * whose page a backend still maps (a zombie until unmapped).
 *
 *   t_ctrl list                   "domid dying shutdown" per domain, from
 *                                 xc_domain_getinfo, checked against
 *                                 xc_domain_getinfolist
 *   t_ctrl zombie XENSIM HOST D   PASS:/FAIL: lines
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xenctrl.h>
#include <xengnttab.h>

#include "tests/xensim/t/tcommon.h"

static int listed(xc_interface *xc, uint32_t domid, int *dying)
{
	xc_dominfo_t info;

	if (xc_domain_getinfo(xc, domid, 1, &info) != 1 ||
	    info.domid != domid)
		return 0;
	*dying = info.dying;
	return 1;
}

static int list(xc_interface *xc)
{
	xc_dominfo_t info[64];
	xc_domaininfo_t li[64];
	int n = xc_domain_getinfo(xc, 0, 64, info);
	int m = xc_domain_getinfolist(xc, 0, 64, li);
	int i, bad = n != m;

	for (i = 0; i < n; i++) {
		printf("%u %u %u\n", info[i].domid, info[i].dying,
		       info[i].shutdown);
		if (i < m &&
		    (li[i].domain != info[i].domid ||
		     !!(li[i].flags & XEN_DOMINF_dying) != info[i].dying ||
		     !!(li[i].flags & XEN_DOMINF_shutdown) != info[i].shutdown))
			bad = 1;
	}
	if (bad)
		printf("MISMATCH between getinfo and getinfolist\n");
	return bad;
}

static int zombie(xc_interface *xc, const char *xensim, const char *host,
		  uint32_t dom)
{
	struct guest gu;
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	char cmd[1024];
	uint8_t *p;
	long frame, gref;
	int dying = 0;

	if (!gt || guest_start(&gu, dom) < 0) {
		printf("FAIL: zombie set-up\n");
		return 1;
	}
	frame = guest_call(&gu, G_ALLOC, 1, 0, 0, 0);
	gref = guest_call(&gu, G_GRANT, 0, frame, 0, 0);
	guest_call(&gu, G_POKE, frame, 0, 0x33, 0);
	p = xengnttab_map_grant_ref(gt, dom, gref, PROT_READ | PROT_WRITE);
	t_check(p != NULL, "backend maps a page of the guest", "errno %d",
		errno);
	guest_stop(&gu);
	snprintf(cmd, sizeof(cmd), "%s destroy %s %u", xensim, host, dom);
	t_check(system(cmd) == 0, "destroy the guest while mapped", "");
	t_check(listed(xc, dom, &dying) && dying,
		"a destroyed domain still mapped is listed as dying", "");
	t_check(p && p[0] == 0x33, "the backend's mapping stays valid", "");
	t_check(!xengnttab_map_grant_ref(gt, dom, gref, PROT_READ),
		"no new map of a dying domain", "");
	if (p)
		xengnttab_unmap(gt, p, 1);
	t_check(!listed(xc, dom, &dying), "unmapped, the domain is gone", "");
	xengnttab_close(gt);
	return t_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	xc_interface *xc = xc_interface_open(NULL, NULL, 0);

	if (!xc) {
		printf("FAIL: xc_interface_open (errno %d)\n", errno);
		return 1;
	}
	if (argc == 2 && !strcmp(argv[1], "list"))
		return list(xc);
	if (argc == 5 && !strcmp(argv[1], "zombie"))
		return zombie(xc, argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: t_ctrl list | zombie XENSIM HOST DOMID\n");
	return 2;
}
