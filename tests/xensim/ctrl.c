// SPDX-License-Identifier: MIT
/*
 * ctrl.c: stand-in libxenctrl.so.4.17, the domain queries xenstored and
 * xenbackd make (which domains exist, dying, shut down), from the
 * simulated hypervisor's domain table, in the real xc_dominfo_t and
 * xc_domaininfo_t layouts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>

#include "tests/xensim/hv.h"

struct xc_interface_core {
	struct xsim_host *host;
};

xc_interface *xc_interface_open(xentoollog_logger *logger,
				xentoollog_logger *dombuild_logger,
				unsigned int open_flags)
{
	xc_interface *x = calloc(1, sizeof(*x));

	(void)logger;
	(void)dombuild_logger;
	(void)open_flags;
	if (!x)
		return NULL;
	x->host = xsim_host_get();
	if (!x->host) {
		free(x);
		return NULL;
	}
	return x;
}

int xc_interface_close(xc_interface *x)
{
	if (!x)
		return 0;
	xsim_host_put(x->host);
	free(x);
	return 0;
}

struct snap {
	uint32_t domid, state, shutdown, shutdown_reason, nr_pages;
};

/* Snapshot of the existing domains with domid >= first, sorted. */
static unsigned int list_doms(struct xsim_host *h, uint32_t first,
			      unsigned int max, struct snap *out)
{
	struct xsim_dom *sorted[XSIM_MAX_DOMS];
	unsigned int n = 0, i, j;

	xsim_lock(h);
	for (i = 0; i < XSIM_MAX_DOMS; i++) {
		struct xsim_dom *d = &h->hv->doms[i];

		if (atomic_load(&d->state) == XSIM_DOM_FREE || d->domid < first)
			continue;
		for (j = n; j > 0 && sorted[j - 1]->domid > d->domid; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = d;
		n++;
	}
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		out[i].domid = sorted[i]->domid;
		out[i].state = atomic_load(&sorted[i]->state);
		out[i].shutdown = sorted[i]->shutdown;
		out[i].shutdown_reason = sorted[i]->shutdown_reason;
		out[i].nr_pages = sorted[i]->nr_pages;
	}
	xsim_unlock(h);
	return n;
}

int xc_domain_getinfo(xc_interface *x, uint32_t first_domid,
		      unsigned int max_doms, xc_dominfo_t *info)
{
	struct snap *snap;
	unsigned int n, i;

	if (!max_doms)
		return 0;
	if (max_doms > XSIM_MAX_DOMS)
		max_doms = XSIM_MAX_DOMS;
	snap = malloc(max_doms * sizeof(*snap));
	if (!snap)
		return -1;
	n = list_doms(x->host, first_domid, max_doms, snap);
	for (i = 0; i < n; i++) {
		xc_dominfo_t *o = &info[i];

		memset(o, 0, sizeof(*o));
		o->domid = snap[i].domid;
		o->dying = snap[i].state == XSIM_DOM_DYING;
		o->shutdown = snap[i].shutdown;
		o->shutdown_reason = snap[i].shutdown_reason;
		o->running = !o->dying && !o->shutdown;
		o->nr_pages = snap[i].nr_pages;
		o->max_memkb = (unsigned long)snap[i].nr_pages * 4;
		o->nr_online_vcpus = 1;
		o->cpupool = 0;
		memset(o->handle, 0, sizeof(o->handle));
	}
	free(snap);
	return n;
}

int xc_domain_getinfolist(xc_interface *x, uint32_t first_domain,
			  unsigned int max_domains, xc_domaininfo_t *info)
{
	struct snap *snap;
	unsigned int n, i;

	if (!max_domains)
		return 0;
	if (max_domains > XSIM_MAX_DOMS)
		max_domains = XSIM_MAX_DOMS;
	snap = malloc(max_domains * sizeof(*snap));
	if (!snap)
		return -1;
	n = list_doms(x->host, first_domain, max_domains, snap);
	for (i = 0; i < n; i++) {
		xc_domaininfo_t *o = &info[i];
		uint32_t flags = 0;

		memset(o, 0, sizeof(*o));
		o->domain = snap[i].domid;
		if (snap[i].state == XSIM_DOM_DYING)
			flags |= XEN_DOMINF_dying;
		if (snap[i].shutdown)
			flags |= XEN_DOMINF_shutdown |
				 ((snap[i].shutdown_reason &
				   XEN_DOMINF_shutdownmask)
				  << XEN_DOMINF_shutdownshift);
		else if (!(flags & XEN_DOMINF_dying))
			flags |= XEN_DOMINF_running;
		o->flags = flags;
		o->tot_pages = snap[i].nr_pages;
		o->max_pages = snap[i].nr_pages;
		o->nr_online_vcpus = 1;
		o->max_vcpu_id = 0;
	}
	free(snap);
	return n;
}
