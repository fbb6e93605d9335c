// SPDX-License-Identifier: MIT
/*
 * gntshr.c: the xengntshr_* half of the stand-in libxengnttab (Linux's
 * gntalloc): pages of the calling process's own domain, granted to another
 * domain and mapped here. As with gntalloc, a page still mapped by the
 * peer at unshare keeps its grant until the peer lets go (retried at every
 * later call and at close).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xengnttab.h>

#include "tests/xensim/gnt.h"

struct share {
	struct xsim_gnt_region r;
	uint32_t frame;
	uint32_t refs[];
};


xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger,
				 unsigned int open_flags)
{
	(void)logger;
	(void)open_flags;
	return xsim_gnt_open();
}

int xengntshr_fd(xengntshr_handle *s)
{
	return s->fd;
}

/* End what can be ended; true once every grant of the share is gone. */
static bool try_end(xengntshr_handle *s, struct share *sh)
{
	struct xsim_host *h = s->host;
	int slot = xsim_dom_slot_any(h->hv, h->domid);
	bool all = true;
	uint32_t i;

	if (slot < 0)
		return true;
	for (i = 0; i < sh->r.count; i++) {
		if (sh->refs[i] == ~0u)
			continue;
		if (xsim_grant_end(h, slot, sh->refs[i]) < 0) {
			all = false;
			continue;
		}
		xsim_gref_free(h, slot, sh->refs[i]);
		sh->refs[i] = ~0u;
	}
	if (all)
		xsim_page_free(h, slot, sh->frame, sh->r.count);
	return all;
}

static void retry_lingering(xengntshr_handle *s)
{
	struct xsim_gnt_region **pp = &s->lingering, *r;

	while ((r = *pp)) {
		if (try_end(s, (struct share *)r)) {
			*pp = r->next;
			free(r);
		} else {
			pp = &r->next;
		}
	}
}

static void *share(xengntshr_handle *s, uint32_t domid, int count,
		   uint32_t *refs, int writable, int32_t notify_offset,
		   uint32_t notify_port)
{
	struct xsim_host *h = s->host;
	struct share *sh;
	int slot, frame, fd, i, r;
	uint8_t *va;

	slot = xsim_dom_slot(h->hv, h->domid);
	if (slot < 0 || count <= 0 || count > 1024) {
		errno = slot < 0 ? ESRCH : EINVAL;
		return NULL;
	}
	sh = calloc(1, sizeof(*sh) + count * sizeof(uint32_t));
	if (!sh)
		return NULL;
	frame = xsim_page_alloc(h, slot, count);
	if (frame < 0) {
		free(sh);
		errno = -frame;
		return NULL;
	}
	if (!xsim_dom_mem(h, slot, &fd))
		goto fail_pages;
	va = mmap(NULL, (size_t)count * XSIM_PAGE_SIZE, PROT_READ | PROT_WRITE,
		  MAP_SHARED, fd, (off_t)frame * XSIM_PAGE_SIZE);
	if (va == MAP_FAILED)
		goto fail_pages;
	for (i = 0; i < count; i++)
		sh->refs[i] = ~0u;
	for (i = 0; i < count; i++) {
		r = xsim_gref_alloc(h, slot);
		if (r < 0)
			goto fail_grants;
		sh->refs[i] = r;
		xsim_grant_write(h, slot, r, domid, frame + i,
				 GTF_permit_access |
					 (writable ? 0 : GTF_readonly));
		refs[i] = r;
	}
	sh->r.addr = va;
	sh->r.count = count;
	sh->frame = frame;
	sh->r.notify_offset = notify_offset;
	sh->r.notify_port = notify_port;
	pthread_mutex_lock(&s->mutex);
	retry_lingering(s);
	sh->r.next = s->shares;
	s->shares = &sh->r;
	pthread_mutex_unlock(&s->mutex);
	return va;
fail_grants:
	for (i = 0; i < count; i++)
		if (sh->refs[i] != ~0u) {
			xsim_grant_end(h, slot, sh->refs[i]);
			xsim_gref_free(h, slot, sh->refs[i]);
		}
	munmap(va, (size_t)count * XSIM_PAGE_SIZE);
	errno = ENOSPC;
fail_pages:
	xsim_page_free(h, slot, frame, count);
	free(sh);
	return NULL;
}

void *xengntshr_share_pages(xengntshr_handle *s, uint32_t domid, int count,
			    uint32_t *refs, int writable)
{
	return share(s, domid, count, refs, writable, -1, 0);
}

void *xengntshr_share_page_notify(xengntshr_handle *s, uint32_t domid,
				  uint32_t *ref, int writable,
				  uint32_t notify_offset,
				  evtchn_port_t notify_port)
{
	int32_t off;
	uint32_t port;

	if (xsim_gnt_notify_args(notify_offset, notify_port, &off, &port))
		return NULL;
	return share(s, domid, 1, ref, writable, off, port);
}

static void unshare_one(xengntshr_handle *s, struct share *sh)
{
	xsim_gnt_unmap_region(s->host, &sh->r);
	if (try_end(s, sh)) {
		free(sh);
	} else {
		sh->r.next = s->lingering;
		s->lingering = &sh->r;
	}
}

int xengntshr_unshare(xengntshr_handle *s, void *start_address,
		      uint32_t count)
{
	struct xsim_gnt_region *r = xsim_gnt_take(s, &s->shares,
						  start_address, count);

	if (!r)
		return -1;
	pthread_mutex_lock(&s->mutex);
	unshare_one(s, (struct share *)r);
	retry_lingering(s);
	pthread_mutex_unlock(&s->mutex);
	return 0;
}

int xengntshr_close(xengntshr_handle *s)
{
	struct xsim_gnt_region *r, *next;

	if (!s)
		return 0;
	for (r = s->shares; r; r = next) {
		next = r->next;
		unshare_one(s, (struct share *)r);
	}
	retry_lingering(s);
	/* What a peer still maps stays granted: the process leaves it as a
	 * guest kernel would leave a page it cannot take back. */
	for (r = s->lingering; r; r = next) {
		next = r->next;
		free(r);
	}
	xsim_gnt_free(s);
	return 0;
}
