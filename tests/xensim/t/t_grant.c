// SPDX-License-Identifier: MIT
/*
 * t_grant.c: grant tables of the simulated host, as a backend in dom0 sees
 * them through libxengnttab, against a guest (domain $1, default 5) that
 * grants pages through the guest library. Run on a started host with the
 * guest created (t_sim.sh does).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xengnttab.h>

#include "tests/xensim/t/tcommon.h"

#define PAGE 4096

static struct guest gu;
static xengnttab_handle *gt;
static uint32_t dom;

static long G(enum guest_op op, long a, long b, long c, long d)
{
	return guest_call(&gu, op, a, b, c, d);
}

static void test_map_rw(void)
{
	long frame = G(G_ALLOC, 1, 0, 0, 0);
	long gref = G(G_GRANT, 0, frame, 0, 0);
	uint8_t *p;
	long flags;

	G(G_POKE, frame, 10, 0x5a, 0);
	p = xengnttab_map_grant_ref(gt, dom, gref, PROT_READ | PROT_WRITE);
	t_check(p != NULL, "map a rw grant rw", "errno %d", errno);
	if (!p)
		return;
	t_check(p[10] == 0x5a, "mapped page shows the guest's data",
		"byte %#x", p[10]);
	p[11] = 0xa5;
	t_check(G(G_PEEK, frame, 11, 0, 0) == 0xa5,
		"guest sees the backend's write", "");
	flags = G(G_FLAGS, gref, 0, 0, 0);
	t_check((flags & (GTF_reading | GTF_writing)) ==
			(GTF_reading | GTF_writing),
		"GTF_reading|GTF_writing set while mapped rw", "flags %#lx",
		flags);
	t_check(G(G_END, gref, 0, 0, 0) == -EBUSY,
		"end of access refused while mapped", "");
	t_check(xengnttab_unmap(gt, p, 1) == 0, "unmap", "errno %d", errno);
	flags = G(G_FLAGS, gref, 0, 0, 0);
	t_check(!(flags & (GTF_reading | GTF_writing)),
		"flags cleared after unmap", "flags %#lx", flags);
	t_check(G(G_END, gref, 0, 0, 0) == 0, "end of access after unmap",
		"");
	p = xengnttab_map_grant_ref(gt, dom, gref, PROT_READ);
	t_check(!p && errno == EINVAL, "map refused after end of access",
		"p %p errno %d", (void *)p, errno);
	if (p)
		xengnttab_unmap(gt, p, 1);
}

static void test_map_refused(void)
{
	long frame = G(G_ALLOC, 1, 0, 0, 0);
	long other = G(G_GRANT, 6, frame, 0, 0);  /* granted to dom 6 */
	long ro = G(G_GRANT, 0, frame, 1, 0);
	uint8_t *p;
	long flags;

	p = xengnttab_map_grant_ref(gt, dom, other, PROT_READ);
	t_check(!p, "map refused for a grant to another domain", "");
	p = xengnttab_map_grant_ref(gt, dom, ro, PROT_READ | PROT_WRITE);
	t_check(!p && errno == EINVAL, "write map of a read-only grant refused",
		"errno %d", errno);
	p = xengnttab_map_grant_ref(gt, dom, ro, PROT_READ);
	t_check(p != NULL, "read map of a read-only grant", "errno %d", errno);
	flags = G(G_FLAGS, ro, 0, 0, 0);
	t_check((flags & (GTF_reading | GTF_writing)) == GTF_reading,
		"read-only map sets GTF_reading only", "flags %#lx", flags);
	if (p)
		xengnttab_unmap(gt, p, 1);
	p = xengnttab_map_grant_ref(gt, 77, 8, PROT_READ);
	t_check(!p, "map refused for a domain that does not exist", "");
	p = xengnttab_map_grant_ref(gt, dom, 40000, PROT_READ);
	t_check(!p, "map refused for a ref beyond the table", "");
	/* A hostile entry: a frame outside the guest's memory. */
	G(G_RAW, 100, 0, 0x7fffffff, GTF_permit_access);
	p = xengnttab_map_grant_ref(gt, dom, 100, PROT_READ);
	t_check(!p, "map refused for a frame outside the guest", "");
	G(G_END, 100, 0, 0, 0);
	G(G_END, other, 0, 0, 0);
	G(G_END, ro, 0, 0, 0);
}

static void test_multi(void)
{
	long frame = G(G_ALLOC, 3, 0, 0, 0);
	uint32_t refs[3];
	uint8_t *p;
	long flags;
	int i, ok = 1;

	for (i = 0; i < 3; i++) {
		refs[i] = G(G_GRANT, 0, frame + 2 - i, 0, 0); /* reversed */
		G(G_POKE, frame + 2 - i, 0, 0x10 + i, 0);
	}
	p = xengnttab_map_domain_grant_refs(gt, 3, dom, refs,
					    PROT_READ | PROT_WRITE);
	t_check(p != NULL, "map three grants as one range", "errno %d", errno);
	if (!p)
		return;
	for (i = 0; i < 3; i++)
		ok &= p[i * PAGE] == 0x10 + i;
	t_check(ok, "contiguous range holds the pages in ref order", "");
	xengnttab_unmap(gt, p, 3);

	/* Consecutive frames (mapped in one go) and a write through them. */
	{
		uint32_t fw[3];

		for (i = 0; i < 3; i++)
			fw[i] = G(G_GRANT, 0, frame + i, 0, 0);
		p = xengnttab_map_domain_grant_refs(gt, 3, dom, fw,
						    PROT_READ | PROT_WRITE);
		t_check(p && p[2 * PAGE] == 0x10 &&
				(p[2 * PAGE + 1] = 0x66,
				 G(G_PEEK, frame + 2, 1, 0, 0) == 0x66),
			"consecutive frames map and write through", "");
		if (p)
			xengnttab_unmap(gt, p, 3);
		for (i = 0; i < 3; i++)
			G(G_END, fw[i], 0, 0, 0);
	}

	/* A batch with one bad ref maps nothing and leaves no pin. */
	refs[1] = 39999;
	p = xengnttab_map_domain_grant_refs(gt, 3, dom, refs, PROT_READ);
	flags = G(G_FLAGS, refs[0], 0, 0, 0);
	t_check(!p && !(flags & GTF_reading),
		"failed batch unwinds its earlier pins", "p %p flags %#lx",
		(void *)p, flags);
	G(G_END, refs[0], 0, 0, 0);
	G(G_END, refs[2], 0, 0, 0);
}

/*
 * What a backend may do with a multi-page mapping, as on gntdev: a ref
 * given twice in one batch is mapped twice (Xen pins it twice, up to its
 * 8-bit pin counters); the mapping is released only whole: libxengnttab's
 * xengnttab_unmap() asks gntdev for the map containing the address
 * (GET_OFFSET_FOR_VADDR), refuses a count other than the whole map's, and
 * the unmap ioctl finds the map by its first index and count.
 */
static void test_multi_whole(void)
{
	long frame = G(G_ALLOC, 4, 0, 0, 0);
	uint32_t refs[200], four[4];
	uint8_t *p;
	long flags;
	int i, ok;

	for (i = 0; i < 4; i++) {
		four[i] = refs[i] = G(G_GRANT, 0, frame + i, 0, 0);
		G(G_POKE, frame + i, 0, 0x20 + i, 0);
	}
	refs[4] = refs[1];
	p = xengnttab_map_domain_grant_refs(gt, 5, dom, refs,
					    PROT_READ | PROT_WRITE);
	ok = p && p[4 * PAGE] == 0x21;
	if (p)
		p[4 * PAGE + 9] = 0x5c;
	t_check(ok && p[PAGE + 9] == 0x5c,
		"a ref given twice in a batch: both pages are its frame",
		"p %p", (void *)p);
	if (!p)
		return;
	t_check(xengnttab_unmap(gt, p, 4) == -1 && errno == EINVAL,
		"unmap of the first pages of a batch refused (EINVAL)",
		"errno %d", errno);
	t_check(xengnttab_unmap(gt, p + PAGE, 4) == -1 && errno == EINVAL,
		"unmap from inside a batch refused (EINVAL)", "errno %d",
		errno);
	t_check(xengnttab_unmap(gt, p + 4 * PAGE, 1) == -1 && errno == EINVAL,
		"unmap of the last page of a batch refused (EINVAL)",
		"errno %d", errno);
	ok = 1;
	for (i = 0; i < 4; i++)
		ok &= p[i * PAGE] == 0x20 + i &&
		      (G(G_FLAGS, refs[i], 0, 0, 0) & GTF_reading);
	t_check(ok && G(G_END, refs[1], 0, 0, 0) == -EBUSY,
		"after refused partial unmaps the whole batch is still mapped",
		"");
	t_check(xengnttab_unmap(gt, p, 5) == 0, "the whole batch unmaps",
		"errno %d", errno);
	ok = 1;
	for (i = 0; i < 4; i++)
		ok &= !(G(G_FLAGS, refs[i], 0, 0, 0) &
			(GTF_reading | GTF_writing));
	t_check(ok, "every pin released, the twice-mapped ref's both", "");

	/* Xen's pin counters: 128 maps of one grant, not 129. */
	for (i = 0; i < 200; i++)
		refs[i] = refs[0];
	p = xengnttab_map_domain_grant_refs(gt, 128, dom, refs, PROT_READ);
	t_check(p != NULL, "one grant mapped 128 times in a batch",
		"errno %d", errno);
	if (p)
		xengnttab_unmap(gt, p, 128);
	p = xengnttab_map_domain_grant_refs(gt, 129, dom, refs, PROT_READ);
	flags = G(G_FLAGS, refs[0], 0, 0, 0);
	t_check(!p && errno == EINVAL && !(flags & GTF_reading),
		"a 129th pin of one grant refused (Xen's 8-bit counter)",
		"p %p flags %#lx", (void *)p, flags);
	if (p)
		xengnttab_unmap(gt, p, 129);
	for (i = 0; i < 4; i++)
		G(G_END, four[i], 0, 0, 0);
}

static int16_t copy_one(uint32_t ref, uint16_t off, uint16_t len, bool to,
			void *local, uint16_t domid, int *rc)
{
	xengnttab_grant_copy_segment_t s = { .len = len };

	if (to) {
		s.flags = GNTCOPY_dest_gref;
		s.dest.foreign.ref = ref;
		s.dest.foreign.offset = off;
		s.dest.foreign.domid = domid;
		s.source.virt = local;
	} else {
		s.flags = GNTCOPY_source_gref;
		s.source.foreign.ref = ref;
		s.source.foreign.offset = off;
		s.source.foreign.domid = domid;
		s.dest.virt = local;
	}
	s.status = 99;
	*rc = xengnttab_grant_copy(gt, 1, &s);
	return s.status;
}

static void test_copy(void)
{
	long frame = G(G_ALLOC, 1, 0, 0, 0);
	long rw = G(G_GRANT, 0, frame, 0, 0);
	long ro = G(G_GRANT, 0, frame, 1, 0);
	long other = G(G_GRANT, 6, frame, 0, 0);
	uint8_t buf[PAGE];
	int16_t st;
	int rc;

	G(G_POKE, frame, 100, 0x42, 0);
	memset(buf, 0, sizeof(buf));
	st = copy_one(ro, 100, 1, false, buf, dom, &rc);
	t_check(rc == 0 && st == GNTST_okay && buf[0] == 0x42,
		"copy from a read-only grant", "rc %d st %d byte %#x", rc, st,
		buf[0]);
	buf[0] = 0x77;
	st = copy_one(rw, 200, 1, true, buf, dom, &rc);
	t_check(st == GNTST_okay && G(G_PEEK, frame, 200, 0, 0) == 0x77,
		"copy into a rw grant", "st %d", st);
	st = copy_one(ro, 200, 1, true, buf, dom, &rc);
	t_check(st == GNTST_general_error,
		"copy into a read-only grant: GNTST_general_error", "st %d",
		st);
	st = copy_one(other, 0, 1, false, buf, dom, &rc);
	t_check(st == GNTST_general_error,
		"copy from a grant to another domain: GNTST_general_error",
		"st %d", st);
	st = copy_one(40000, 0, 1, false, buf, dom, &rc);
	t_check(st == GNTST_bad_gntref,
		"copy with a ref beyond the table: GNTST_bad_gntref", "st %d",
		st);
	st = copy_one(rw, 0, 1, false, buf, 77, &rc);
	t_check(st == GNTST_bad_domain,
		"copy from a missing domain: GNTST_bad_domain", "st %d", st);
	st = copy_one(rw, 4000, 200, false, buf, dom, &rc);
	t_check(rc == -1 && errno == EINVAL,
		"copy crossing the foreign page: EINVAL (as gntdev)",
		"rc %d errno %d", rc, errno);
	{
		xengnttab_grant_copy_segment_t segs[3];
		uint8_t out[3][16];

		memset(segs, 0, sizeof(segs));
		for (int i = 0; i < 3; i++) {
			segs[i].flags = GNTCOPY_source_gref;
			segs[i].source.foreign.ref = i == 1 ? 7 : ro;
			segs[i].source.foreign.domid = dom;
			segs[i].source.foreign.offset = 100;
			segs[i].dest.virt = out[i];
			segs[i].len = 16;
		}
		rc = xengnttab_grant_copy(gt, 3, segs);
		t_check(rc == 0 && !segs[0].status &&
				segs[1].status == GNTST_general_error &&
				!segs[2].status && out[2][0] == 0x42,
			"a status per segment in a batch", "%d %d %d",
			segs[0].status, segs[1].status, segs[2].status);
	}
	t_check(!(G(G_FLAGS, rw, 0, 0, 0) & (GTF_reading | GTF_writing)),
		"copy leaves no pin", "");
	G(G_END, rw, 0, 0, 0);
	st = copy_one(rw, 0, 1, false, buf, dom, &rc);
	t_check(st == GNTST_general_error,
		"copy after end of access: GNTST_general_error", "st %d", st);
	G(G_END, ro, 0, 0, 0);
	G(G_END, other, 0, 0, 0);
}

/* A backend that dies with a page mapped must not pin it for ever. */
static void test_mapper_death(void)
{
	long frame = G(G_ALLOC, 1, 0, 0, 0);
	long gref = G(G_GRANT, 0, frame, 0, 0);
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		xengnttab_handle *h = xengnttab_open(NULL, 0);

		_exit(h && xengnttab_map_grant_ref(h, dom, gref, PROT_READ) ?
			      0 : 1);
	}
	waitpid(pid, &st, 0);
	t_check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		"a child maps a grant and dies", "status %#x", st);
	{
		/* The guest reaps dead mappers at most every 100 ms. */
		long rc;
		int tries = 0;

		while ((rc = G(G_END, gref, 0, 0, 0)) == -EBUSY && tries++ < 50)
			usleep(20000);
		t_check(rc == 0, "end of access succeeds once the mapper died",
			"rc %ld after %d tries", rc, tries);
	}
}

/* Pages of dom0 shared with xengntshr (gntalloc), mapped back by dom0. */
static void test_share(void)
{
	xengntshr_handle *sh = xengntshr_open(NULL, 0);
	uint32_t ref;
	uint8_t *p, *q = NULL;

	t_check(sh != NULL, "xengntshr_open", "errno %d", errno);
	if (!sh)
		return;
	p = xengntshr_share_pages(sh, 0, 1, &ref, 1);
	t_check(p && ref >= 8, "share a page of dom0", "errno %d", errno);
	if (p) {
		p[5] = 0x99;
		q = xengnttab_map_grant_ref(gt, 0, ref, PROT_READ);
	}
	t_check(q && q[5] == 0x99, "the shared page maps through its ref",
		"");
	if (p)
		t_check(xengntshr_unshare(sh, p, 1) == 0,
			"unshare while mapped (kept until unmapped)", "");
	if (q)
		xengnttab_unmap(gt, q, 1);
	xengntshr_close(sh);
}

/* The unmap notifications of libxengnttab: an offset outside the page is
 * refused; a byte inside it is cleared when the page is unmapped. */
static void test_notify(void)
{
	xengntshr_handle *sh = xengntshr_open(NULL, 0);
	long frame = G(G_ALLOC, 1, 0, 0, 0);
	long gref = G(G_GRANT, 0, frame, 0, 0);
	uint8_t *p;
	uint32_t ref;

	p = xengnttab_map_grant_ref_notify(gt, dom, gref, PROT_READ | PROT_WRITE,
					   PAGE, -1);
	t_check(!p && errno == EINVAL,
		"map with a notify offset outside the page refused", "");
	G(G_POKE, frame, 12, 0x33, 0);
	p = xengnttab_map_grant_ref_notify(gt, dom, gref, PROT_READ | PROT_WRITE,
					   12, -1);
	t_check(p && p[12] == 0x33, "map with an unmap notification",
		"errno %d", errno);
	if (p)
		xengnttab_unmap(gt, p, 1);
	t_check(G(G_PEEK, frame, 12, 0, 0) == 0,
		"unmap clears the notification byte", "");
	t_check(sh != NULL, "xengntshr_open", "errno %d", errno);
	if (!sh)
		return;
	p = xengntshr_share_page_notify(sh, 0, &ref, 1, PAGE, -1);
	t_check(!p && errno == EINVAL,
		"share with a notify offset outside the page refused", "");
	xengntshr_close(sh);
}

/* A hostile guest ends and re-grants an entry as fast as it can while
 * the backend copies from it: every copy either succeeds or fails with
 * GNTST_general_error, and no pin is left behind. */
static void test_copy_race(void)
{
	long frame = G(G_ALLOC, 1, 0, 0, 0);
	long gref = G(G_GRANT, 0, frame, 0, 0);
	uint8_t buf[64];
	int i, rc, ok = 0, refused = 0, other = 0;
	pid_t pid = fork();

	if (pid == 0) {
		/* Drive the guest from a second process while this one
		 * copies (the guest serves whoever writes its pipe). */
		for (i = 0; i < 2000; i++)
			if (G(G_END, gref, 0, 0, 0) == 0)
				G(G_RAW, gref, 0, frame, GTF_permit_access);
		_exit(0);
	}
	while (waitpid(pid, &rc, WNOHANG) == 0) {
		int16_t st = copy_one(gref, 0, sizeof(buf), false, buf, dom,
				      &rc);

		if (st == GNTST_okay)
			ok++;
		else if (st == GNTST_general_error)
			refused++;
		else
			other++;
	}
	printf("copy race: %d copied, %d refused\n", ok, refused);
	/* How often each side wins depends on scheduling; what must hold
	 * is that a copy either happens or is refused, and that no pin
	 * survives. */
	t_check(!other && ok + refused > 0,
		"copies racing a guest that ends and re-grants",
		"ok %d refused %d other %d", ok, refused, other);
	t_check(!(G(G_FLAGS, gref, 0, 0, 0) & (GTF_reading | GTF_writing)),
		"no pin left after the race", "");
	G(G_END, gref, 0, 0, 0);
}

int main(int argc, char **argv)
{
	dom = argc > 1 ? atoi(argv[1]) : 5;
	if (guest_start(&gu, dom) < 0) {
		printf("FAIL: guest %u starts\n", dom);
		return 1;
	}
	gt = xengnttab_open(NULL, 0);
	t_check(gt != NULL, "xengnttab_open in dom0", "errno %d", errno);
	if (!gt)
		return 1;
	test_map_rw();
	test_map_refused();
	test_multi();
	test_multi_whole();
	test_copy();
	test_mapper_death();
	test_share();
	test_notify();
	test_copy_race();
	xengnttab_close(gt);
	guest_stop(&gu);
	return t_failed ? 1 : 0;
}
