// SPDX-License-Identifier: MIT
/*
 * xsg.c: the guest library (xsg.h) on the simulated hypervisor's core.
 */
#include "tests/xensim/guest/xsg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "tests/xensim/hv.h"

struct xsg {
	struct xsim_host *host;
	struct xsim_evh *ev;
	int slot;
	uint8_t *mem;
	uint32_t nr_pages;
	int64_t last_reap_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

struct xsg *xsg_open(void)
{
	struct xsg *g = calloc(1, sizeof(*g));
	int err;

	if (!g)
		return NULL;
	g->host = xsim_host_get();
	if (!g->host)
		goto fail;
	g->slot = xsim_dom_slot(g->host->hv, g->host->domid);
	if (g->slot < 0) {
		errno = ESRCH;
		goto fail;
	}
	g->nr_pages = xsim_dom(g->host, g->slot)->nr_pages;
	g->mem = xsim_dom_mem(g->host, g->slot, NULL);
	if (!g->mem)
		goto fail;
	g->ev = xsim_evh_open(1);
	if (!g->ev)
		goto fail;
	/* Never block in pending() on a record dropped as stale. */
	fcntl(g->ev->fd, F_SETFL, fcntl(g->ev->fd, F_GETFL) | O_NONBLOCK);
	return g;
fail:
	err = errno;
	if (g->host)
		xsim_host_put(g->host);
	free(g);
	errno = err;
	return NULL;
}

void xsg_close(struct xsg *g)
{
	if (!g)
		return;
	xsim_evh_close(g->ev);
	xsim_host_put(g->host);
	free(g);
}

uint32_t xsg_domid(const struct xsg *g)
{
	return g->host->domid;
}

uint32_t xsg_nr_frames(const struct xsg *g)
{
	return g->nr_pages;
}

void *xsg_frame_ptr(struct xsg *g, uint32_t frame)
{
	if (frame >= g->nr_pages)
		return NULL;
	return g->mem + (size_t)frame * XSIM_PAGE_SIZE;
}

void *xsg_alloc_pages(struct xsg *g, unsigned int n, uint32_t *first_frame)
{
	int frame = xsim_page_alloc(g->host, g->slot, n);
	void *va;

	if (frame < 0) {
		errno = -frame;
		return NULL;
	}
	va = g->mem + (size_t)frame * XSIM_PAGE_SIZE;
	memset(va, 0, (size_t)n * XSIM_PAGE_SIZE);
	if (first_frame)
		*first_frame = frame;
	return va;
}

void xsg_free_pages(struct xsg *g, void *va, unsigned int n)
{
	size_t off = (uint8_t *)va - g->mem;

	if (!va || off % XSIM_PAGE_SIZE || off / XSIM_PAGE_SIZE >= g->nr_pages)
		return;
	xsim_page_free(g->host, g->slot, off / XSIM_PAGE_SIZE, n);
}

bool xsg_frames_granted(struct xsg *g, uint32_t first, unsigned int n)
{
	const grant_entry_v1_t *t = xsim_dom(g->host, g->slot)->gnttab;

	for (uint32_t i = XSIM_NR_RESERVED_GRANTS; i < XSIM_NR_GRANTS; i++) {
		uint16_t flags = __atomic_load_n(&t[i].flags,
						 __ATOMIC_ACQUIRE);

		if ((flags & GTF_type_mask) != GTF_invalid &&
		    t[i].frame - first < n)
			return true;
	}
	return false;
}

static unsigned int count_bits(const uint64_t *w, unsigned int nbits)
{
	unsigned int n = 0, i;

	for (i = 0; i < nbits / 64; i++)
		n += (unsigned int)__builtin_popcountll(
			__atomic_load_n(&w[i], __ATOMIC_RELAXED));
	return n;
}

void xsg_usage(struct xsg *g, struct xsg_usage *u)
{
	struct xsim_dom *d = xsim_dom(g->host, g->slot);
	unsigned int i;

	xsim_lock(g->host);
	u->pages = count_bits(d->page_used, d->nr_pages + 63);
	xsim_unlock(g->host);
	/* The allocator's atomics: readable without the host lock. */
	u->grants = count_bits((const uint64_t *)d->gref_used,
			       XSIM_NR_GRANTS);
	u->ports = 0;
	for (i = 1; i < XSIM_NR_PORTS; i++)
		if (atomic_load(&d->ports[i].state) != XSIM_PORT_FREE)
			u->ports++;
}

int xsg_grant_access(struct xsg *g, uint32_t to_domid, uint32_t frame,
		     bool readonly)
{
	int gref;

	if (frame >= g->nr_pages || to_domid >= XSIM_DOMID_SELF)
		return -EINVAL;
	gref = xsim_gref_alloc(g->host, g->slot);
	if (gref < 0)
		return gref;
	xsim_grant_write(g->host, g->slot, gref, to_domid, frame,
			 GTF_permit_access | (readonly ? GTF_readonly : 0));
	return gref;
}

int xsg_end_access(struct xsg *g, uint32_t gref)
{
	int rc;

	if (gref < XSIM_NR_RESERVED_GRANTS || gref >= XSIM_NR_GRANTS)
		return -EINVAL;
	rc = xsim_grant_end(g->host, g->slot, gref);
	if (rc == -EBUSY && now_ms() - g->last_reap_ms >= 100) {
		/* A mapper that died leaves its pins until reaped. Reaping
		 * walks every mapping: at most every 100 ms, so that a guest
		 * polling a grant a live backend holds stays cheap. */
		g->last_reap_ms = now_ms();
		xsim_lock(g->host);
		xsim_reap_locked(g->host);
		xsim_unlock(g->host);
		rc = xsim_grant_end(g->host, g->slot, gref);
	}
	if (!rc)
		xsim_gref_free(g->host, g->slot, gref);
	return rc;
}

int xsg_grant_raw(struct xsg *g, uint32_t gref, uint32_t domid,
		  uint32_t frame, uint16_t flags)
{
	struct xsim_dom *d = xsim_dom(g->host, g->slot);

	if (gref >= XSIM_NR_GRANTS)
		return -EINVAL;
	if (gref >= XSIM_NR_RESERVED_GRANTS)
		atomic_fetch_or(&d->gref_used[gref / 64], 1ull << (gref % 64));
	xsim_grant_write(g->host, g->slot, gref, domid, frame, flags);
	return 0;
}

int xsg_grant_flags(struct xsg *g, uint32_t gref)
{
	if (gref >= XSIM_NR_GRANTS)
		return -EINVAL;
	return __atomic_load_n(&xsim_dom(g->host, g->slot)->gnttab[gref].flags,
			       __ATOMIC_ACQUIRE);
}

int xsg_evtchn_fd(struct xsg *g)
{
	return g->ev->fd;
}

int xsg_evtchn_alloc_unbound(struct xsg *g, uint32_t remote_domid)
{
	return xsim_ev_bind_unbound(g->ev, remote_domid);
}

int xsg_evtchn_bind_interdomain(struct xsg *g, uint32_t remote_domid,
				uint32_t remote_port)
{
	return xsim_ev_bind_interdomain(g->ev, remote_domid, remote_port);
}

int xsg_evtchn_notify(struct xsg *g, uint32_t port)
{
	return xsim_ev_notify(g->ev, port);
}

int xsg_evtchn_wait(struct xsg *g, int timeout_ms)
{
	struct pollfd pfd = { .fd = g->ev->fd, .events = POLLIN };
	int64_t end = now_ms() + timeout_ms;
	int rc, port, left = timeout_ms;

	for (;;) {
		rc = poll(&pfd, 1, left);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0) {
			port = xsim_ev_pending(g->ev);
			if (port > 0) {
				rc = xsim_ev_unmask(g->ev, port);
				return rc < 0 ? rc : port;
			}
			if (port != -EAGAIN)
				return port < 0 ? port : -EIO;
		}
		if (timeout_ms >= 0) {
			left = end - now_ms();
			if (left <= 0)
				return 0;
		}
	}
}

int xsg_evtchn_close(struct xsg *g, uint32_t port)
{
	return xsim_ev_unbind(g->ev, port);
}

struct xs_handle *xsg_xs_open(struct xsg *g)
{
	char path[400];

	if (g->host->domid == 0) {
		snprintf(path, sizeof(path), "%s/xenstored", g->host->dir);
		unsetenv("XENSTORED_PATH");
		setenv("XENSTORED_RUNDIR", path, 1);
	} else {
		snprintf(path, sizeof(path), "%s/d%u.xs", g->host->dir,
			 g->host->domid);
		setenv("XENSTORED_PATH", path, 1);
	}
	return xs_open(0);
}
