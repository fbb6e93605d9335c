// SPDX-License-Identifier: MIT
/*
 * gtcore.c: the guest's side of grants and memory, shared by the guest
 * library and the stand-in libxengnttab's gntshr (gntalloc) calls.
 *
 * A guest writes its grant entries itself, as on Xen: domid and frame
 * first, a write barrier, then the flags that make the entry valid; it ends
 * access with a cmpxchg of the flags to 0 that fails while the hypervisor
 * has GTF_reading/GTF_writing set (the entry is mapped or being copied).
 */
#include "tests/xensim/hv.h"

#include <errno.h>

int xsim_page_alloc(struct xsim_host *h, int slot, unsigned int n)
{
	struct xsim_dom *d = xsim_dom(h, slot);
	uint32_t first = 0, run = 0, f;
	int ret = -ENOMEM;

	if (!n || n > d->nr_pages)
		return -EINVAL;
	xsim_lock(h);
	for (f = 0; f < d->nr_pages; f++) {
		if (d->page_used[f / 64] & (1ull << (f % 64))) {
			run = 0;
			continue;
		}
		if (!run)
			first = f;
		if (++run == n) {
			for (f = first; f < first + n; f++)
				d->page_used[f / 64] |= 1ull << (f % 64);
			ret = first;
			break;
		}
	}
	xsim_unlock(h);
	return ret;
}

void xsim_page_free(struct xsim_host *h, int slot, uint32_t frame,
		    unsigned int n)
{
	struct xsim_dom *d = xsim_dom(h, slot);
	uint32_t f;

	xsim_lock(h);
	for (f = frame; f < frame + n && f < d->nr_pages; f++)
		d->page_used[f / 64] &= ~(1ull << (f % 64));
	xsim_unlock(h);
}

int xsim_gref_alloc(struct xsim_host *h, int slot)
{
	struct xsim_dom *d = xsim_dom(h, slot);
	unsigned int w, b;

	for (w = 0; w < XSIM_NR_GRANTS / 64; w++) {
		uint64_t used = atomic_load(&d->gref_used[w]);

		if (w == 0)
			used |= (1ull << XSIM_NR_RESERVED_GRANTS) - 1;
		while (~used) {
			b = __builtin_ctzll(~used);
			if (!(atomic_fetch_or(&d->gref_used[w], 1ull << b) &
			      (1ull << b)))
				return w * 64 + b;
			used = atomic_load(&d->gref_used[w]);
			if (w == 0)
				used |= (1ull << XSIM_NR_RESERVED_GRANTS) - 1;
		}
	}
	return -ENOSPC;
}

void xsim_gref_free(struct xsim_host *h, int slot, uint32_t gref)
{
	struct xsim_dom *d = xsim_dom(h, slot);

	if (gref < XSIM_NR_GRANTS)
		atomic_fetch_and(&d->gref_used[gref / 64],
				 ~(1ull << (gref % 64)));
}

void xsim_grant_write(struct xsim_host *h, int slot, uint32_t gref,
		      uint32_t domid, uint32_t frame, uint16_t flags)
{
	grant_entry_v1_t *e = &xsim_dom(h, slot)->gnttab[gref];

	__atomic_store_n(&e->domid, (domid_t)domid, __ATOMIC_RELAXED);
	__atomic_store_n(&e->frame, frame, __ATOMIC_RELAXED);
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
}

int xsim_grant_end(struct xsim_host *h, int slot, uint32_t gref)
{
	grant_entry_v1_t *e = &xsim_dom(h, slot)->gnttab[gref];
	uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

	do {
		if (flags & (GTF_reading | GTF_writing))
			return -EBUSY;
	} while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, false,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return 0;
}
