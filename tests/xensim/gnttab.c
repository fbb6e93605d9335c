// SPDX-License-Identifier: MIT
/*
 * gnttab.c: stand-in libxengnttab.so.1 on the simulated hypervisor.
 *
 * Mapping checks what Xen checks (the grant exists and permits access, it
 * is granted to the mapping domain, a write mapping of a read-only grant is
 * refused, the frame lies in the granting domain's memory) and pins the
 * entry, setting GTF_reading/GTF_writing in the guest's entry so that the
 * guest cannot end access while it is mapped. A multi-page map is one
 * contiguous virtual range, each page a MAP_SHARED mapping of the granting
 * domain's memory file. Failures are reported as Linux's gntdev does
 * (NULL, errno EINVAL), grant copy as gntdev does: EINVAL for the whole
 * call when a foreign offset + len crosses the page or neither side is a
 * grant reference, otherwise a GNTST_* status per segment from the
 * hypervisor's checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xengnttab.h>

#include "tests/xensim/gnt.h"

struct mapping {
	struct xsim_gnt_region r;
	uint32_t recs[]; /* map record per page, 1-based */
};


xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
				 unsigned int open_flags)
{
	(void)logger;
	(void)open_flags;
	return xsim_gnt_open();
}

static void release_pages_locked(struct xsim_host *h, const uint32_t *recs,
				 uint32_t n)
{
	struct xsim_hv *hv = h->hv;
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct xsim_map_rec *m = &hv->maps[recs[i] - 1];
		uint32_t slot = m->slot;

		xsim_grant_unpin(h, slot, m->gref, m->pin & XSIM_PIN_W);
		m->used = 0;
		m->next_free = hv->map_free_head;
		hv->map_free_head = recs[i];
		hv->doms[slot].nr_maps--;
		xsim_dom_maybe_free_locked(h, slot);
	}
}

static void unmap_one(xengnttab_handle *g, struct mapping *m)
{
	struct xsim_host *h = g->host;

	xsim_gnt_unmap_region(h, &m->r);
	xsim_lock(h);
	release_pages_locked(h, m->recs, m->r.count);
	xsim_unlock(h);
	free(m);
}

int xengnttab_close(xengnttab_handle *g)
{
	struct xsim_gnt_region *r, *next;

	if (!g)
		return 0;
	/* As with Linux's gntdev, closing the handle does not unmap: a
	 * mapping lives (and keeps its grants pinned) until it is unmapped
	 * or the process ends, when the pins are reaped. */
	for (r = g->maps; r; r = next) {
		next = r->next;
		free(r);
	}
	xsim_gnt_free(g);
	return 0;
}

int xengnttab_fd(xengnttab_handle *g)
{
	return g->fd;
}

int xengnttab_set_max_grants(xengnttab_handle *g, uint32_t nr_grants)
{
	/* Linux's gntdev has a global limit and ignores this. */
	(void)g;
	(void)nr_grants;
	return 0;
}

/* Pin one grant and give it a map record; its frame in *frame. */
static int pin_page_locked(xengnttab_handle *g, uint32_t domid, uint32_t ref,
			   bool write, uint32_t *rec, uint32_t *frame)
{
	struct xsim_host *h = g->host;
	struct xsim_hv *hv = h->hv;
	struct xsim_map_rec *m;
	int slot;

	slot = xsim_dom_slot(hv, domid);
	if (slot < 0 || !hv->map_free_head)
		return -1;
	if (xsim_grant_pin(h, slot, ref, h->domid, write, true, frame))
		return -1;
	*rec = hv->map_free_head;
	m = &hv->maps[*rec - 1];
	hv->map_free_head = m->next_free;
	m->used = 1;
	m->slot = slot;
	m->gref = ref;
	m->pin = XSIM_PIN_R | (write ? XSIM_PIN_W : 0);
	m->pid = xsim_self_pid();
	m->start = xsim_self_start();
	hv->doms[slot].nr_maps++;
	return 0;
}

/* Map the pinned pages into va, one mmap() per run of consecutive frames
 * of one domain. */
static int map_pages_locked(xengnttab_handle *g, uint8_t *va, uint32_t count,
			    const uint32_t *recs, const uint32_t *frames,
			    int prot)
{
	struct xsim_hv *hv = g->host->hv;
	uint32_t i, run;
	int fd;

	for (i = 0; i < count; i += run) {
		uint32_t slot = hv->maps[recs[i] - 1].slot;

		for (run = 1; i + run < count &&
			      hv->maps[recs[i + run] - 1].slot == slot &&
			      frames[i + run] == frames[i] + run;
		     run++)
			;
		if (!xsim_dom_mem(g->host, slot, &fd) ||
		    mmap(va + (size_t)i * XSIM_PAGE_SIZE,
			 (size_t)run * XSIM_PAGE_SIZE, prot,
			 MAP_SHARED | MAP_FIXED, fd,
			 (off_t)frames[i] * XSIM_PAGE_SIZE) == MAP_FAILED)
			return -1;
	}
	return 0;
}

static void *map_refs(xengnttab_handle *g, uint32_t count,
		      const uint32_t *domids, uint32_t domid,
		      const uint32_t *refs, int prot, int32_t notify_offset,
		      uint32_t notify_port)
{
	struct xsim_host *h = g->host;
	struct mapping *m;
	bool write = prot & PROT_WRITE;
	uint32_t i, pinned, *frames;
	uint8_t *va;

	if (!count || count > XSIM_MAX_MAPS || (prot & ~(PROT_READ |
							  PROT_WRITE))) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m) + count * sizeof(uint32_t));
	if (!m)
		return NULL;
	va = mmap(NULL, (size_t)count * XSIM_PAGE_SIZE, PROT_NONE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (va == MAP_FAILED) {
		free(m);
		return NULL;
	}
	frames = malloc(count * sizeof(*frames));
	if (!frames) {
		munmap(va, (size_t)count * XSIM_PAGE_SIZE);
		free(m);
		return NULL;
	}
	xsim_lock(h);
	if (!h->hv->map_free_head)
		xsim_reap_locked(h); /* dead mappers' records */
	for (i = 0; i < count; i++)
		if (pin_page_locked(g, domids ? domids[i] : domid, refs[i],
				    write, &m->recs[i], &frames[i]) < 0)
			break;
	pinned = i;
	if (pinned == count &&
	    map_pages_locked(g, va, count, m->recs, frames, prot) < 0)
		i = 0; /* unwind them all */
	if (i < count)
		release_pages_locked(h, m->recs, pinned);
	xsim_unlock(h);
	free(frames);
	if (i < count) {
		munmap(va, (size_t)count * XSIM_PAGE_SIZE);
		free(m);
		errno = EINVAL; /* gntdev's answer to a failed map op */
		return NULL;
	}
	m->r.addr = va;
	m->r.count = count;
	m->r.notify_offset = notify_offset;
	m->r.notify_port = notify_port;
	pthread_mutex_lock(&g->mutex);
	m->r.next = g->maps;
	g->maps = &m->r;
	pthread_mutex_unlock(&g->mutex);
	return va;
}

void *xengnttab_map_grant_ref(xengnttab_handle *g, uint32_t domid,
			      uint32_t ref, int prot)
{
	return map_refs(g, 1, NULL, domid, &ref, prot, -1, 0);
}

void *xengnttab_map_grant_refs(xengnttab_handle *g, uint32_t count,
			       uint32_t *domids, uint32_t *refs, int prot)
{
	return map_refs(g, count, domids, 0, refs, prot, -1, 0);
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *g, uint32_t count,
				      uint32_t domid, uint32_t *refs,
				      int prot)
{
	return map_refs(g, count, NULL, domid, refs, prot, -1, 0);
}

void *xengnttab_map_grant_ref_notify(xengnttab_handle *g, uint32_t domid,
				     uint32_t ref, int prot,
				     uint32_t notify_offset,
				     evtchn_port_t notify_port)
{
	int32_t off;
	uint32_t port;

	if (xsim_gnt_notify_args(notify_offset, notify_port, &off, &port))
		return NULL;
	return map_refs(g, 1, NULL, domid, &ref, prot, off, port);
}

int xengnttab_unmap(xengnttab_handle *g, void *start_address, uint32_t count)
{
	struct xsim_gnt_region *r = xsim_gnt_take(g, &g->maps, start_address,
						  count);

	if (!r)
		return -1;
	unmap_one(g, (struct mapping *)r);
	return 0;
}

/* ---- grant copy ---- */

struct copy_side {
	int slot;
	uint32_t gref;
	bool pinned, write;
	uint8_t *ptr;
};

/* The domain a thread copies from is nearly always the one it copied
 * from last: remember its slot and memory, valid while the slot holds the
 * same incarnation (generation) of that domain. */
static __thread struct {
	uint32_t domid;
	int slot;
	uint64_t generation;
	uint8_t *base;
} copy_cache = { .slot = -1 };

static uint8_t *cached_domain(struct xsim_host *h, uint32_t domid, int *slot)
{
	struct xsim_dom *d;

	if (copy_cache.slot >= 0 && copy_cache.domid == domid) {
		d = xsim_dom(h, copy_cache.slot);
		if (atomic_load_explicit(&d->state, memory_order_acquire) ==
			    XSIM_DOM_ALIVE &&
		    d->domid == domid &&
		    d->generation == copy_cache.generation) {
			*slot = copy_cache.slot;
			return copy_cache.base;
		}
	}
	*slot = xsim_dom_slot(h->hv, domid);
	if (*slot < 0)
		return NULL;
	d = xsim_dom(h, *slot);
	copy_cache.base = xsim_dom_mem(h, *slot, NULL);
	if (!copy_cache.base) {
		copy_cache.slot = -1;
		return NULL;
	}
	copy_cache.domid = domid;
	copy_cache.slot = *slot;
	copy_cache.generation = d->generation;
	return copy_cache.base;
}

static int16_t claim(xengnttab_handle *g, const union xengnttab_copy_ptr *p,
		     bool is_gref, bool write, struct copy_side *s)
{
	struct xsim_host *h = g->host;
	uint32_t frame;
	uint8_t *base;
	int16_t st;

	s->pinned = false;
	if (!is_gref) {
		s->ptr = p->virt;
		return GNTST_okay;
	}
	base = cached_domain(h, p->foreign.domid, &s->slot);
	if (!base)
		return GNTST_bad_domain;
	st = xsim_grant_pin(h, s->slot, p->foreign.ref, h->domid, write, false,
			    &frame);
	if (st)
		return st;
	s->pinned = true;
	s->write = write;
	s->gref = p->foreign.ref;
	s->ptr = base + (size_t)frame * XSIM_PAGE_SIZE + p->foreign.offset;
	return GNTST_okay;
}

static void unclaim(xengnttab_handle *g, struct copy_side *s)
{
	if (s->pinned)
		xsim_grant_unpin(g->host, s->slot, s->gref, s->write);
}

int xengnttab_grant_copy(xengnttab_handle *g, uint32_t count,
			 xengnttab_grant_copy_segment_t *segs)
{
	uint32_t i;

	for (i = 0; i < count; i++) {
		xengnttab_grant_copy_segment_t *s = &segs[i];
		bool sg = s->flags & GNTCOPY_source_gref;
		bool dg = s->flags & GNTCOPY_dest_gref;
		struct copy_side src, dst;
		int16_t st;

		if ((!sg && !dg) ||
		    (sg &&
		     s->source.foreign.offset + s->len > XSIM_PAGE_SIZE) ||
		    (dg && s->dest.foreign.offset + s->len > XSIM_PAGE_SIZE)) {
			errno = EINVAL;
			return -1;
		}
		st = claim(g, &s->source, sg, false, &src);
		if (st == GNTST_okay) {
			st = claim(g, &s->dest, dg, true, &dst);
			if (st == GNTST_okay) {
				memcpy(dst.ptr, src.ptr, s->len);
				unclaim(g, &dst);
			}
			unclaim(g, &src);
		}
		s->status = st;
	}
	return 0;
}

/* ---- dma-buf: a kernel without it ---- */

int xengnttab_dmabuf_exp_from_refs(xengnttab_handle *g, uint32_t domid,
				   uint32_t flags, uint32_t count,
				   const uint32_t *refs, uint32_t *fd)
{
	(void)g, (void)domid, (void)flags, (void)count, (void)refs, (void)fd;
	errno = EOPNOTSUPP;
	return -1;
}

int xengnttab_dmabuf_exp_wait_released(xengnttab_handle *g, uint32_t fd,
				       uint32_t wait_to_ms)
{
	(void)g, (void)fd, (void)wait_to_ms;
	errno = EOPNOTSUPP;
	return -1;
}

int xengnttab_dmabuf_imp_to_refs(xengnttab_handle *g, uint32_t domid,
				 uint32_t fd, uint32_t count, uint32_t *refs)
{
	(void)g, (void)domid, (void)fd, (void)count, (void)refs;
	errno = EOPNOTSUPP;
	return -1;
}

int xengnttab_dmabuf_imp_release(xengnttab_handle *g, uint32_t fd)
{
	(void)g, (void)fd;
	errno = EOPNOTSUPP;
	return -1;
}
