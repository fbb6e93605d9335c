// SPDX-License-Identifier: MIT
/*
 * evcore.c: simulated event channels, shared by the stand-in libxenevtchn
 * and the guest library.
 *
 * A port lives in its domain's port table (hv.h). A handle is what Linux's
 * /dev/xen/evtchn gives a process: its fd is the read end of a FIFO,
 * <host>/ev/<id>, on which each delivered port arrives as 4 bytes. A port
 * is delivered only when it goes from idle to pending (storms coalesce) and
 * then stays masked until unmask(), as Linux masks the irq of a port until
 * userspace unmasks it; a notification meanwhile is remembered in the
 * pending bit and delivered again at unmask. So a FIFO holds at most one
 * record per bound port and cannot fill up.
 *
 * Notifying writes straight into the peer handle's FIFO, opened O_RDWR so
 * that a peer that has gone never turns the write into SIGPIPE.
 */
#include "tests/xensim/hv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xen/event_channel.h>
#include <xen/xen.h>

static bool owned(const struct xsim_evh *e, uint32_t port)
{
	return port && port < XSIM_NR_PORTS &&
	       (e->owned[port / 8] & (1u << (port % 8)));
}

static void set_owned(struct xsim_evh *e, uint32_t port, bool on)
{
	if (on)
		e->owned[port / 8] |= 1u << (port % 8);
	else
		e->owned[port / 8] &= ~(1u << (port % 8));
}

static void fifo_path(struct xsim_host *h, uint32_t id, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%s/ev/%u", h->dir, id);
}

static struct xsim_evh *evh_alloc(void)
{
	struct xsim_evh *e = calloc(1, sizeof(*e));
	unsigned int i;

	if (!e)
		return NULL;
	e->fd = -1;
	e->restrict_dom = ~0u;
	pthread_mutex_init(&e->cache_mutex, NULL);
	for (i = 0; i < 16; i++)
		e->cache[i].fd = -1;
	return e;
}

struct xsim_evh *xsim_evh_open(int cloexec)
{
	struct xsim_host *h = xsim_host_get();
	struct xsim_handle_rec *r = NULL;
	struct xsim_evh *e;
	unsigned int i;
	int err;

	if (!h)
		return NULL;
	e = evh_alloc();
	if (!e) {
		xsim_host_put(h);
		return NULL;
	}
	e->host = h;
	xsim_lock(h);
	for (i = 0; i < XSIM_MAX_HANDLES; i++)
		if (!h->hv->handles[i].id) {
			r = &h->hv->handles[i];
			break;
		}
	if (!r) {
		xsim_reap_locked(h);
		for (i = 0; i < XSIM_MAX_HANDLES; i++)
			if (!h->hv->handles[i].id) {
				r = &h->hv->handles[i];
				break;
			}
	}
	if (!r) {
		err = EMFILE;
		goto fail;
	}
	e->id = atomic_fetch_add(&h->hv->next_handle_id, 1);
	e->rec = i;
	fifo_path(h, e->id, e->path, sizeof(e->path));
	if (mkfifo(e->path, 0600) < 0) {
		err = errno;
		goto fail;
	}
	e->fd = open(e->path, O_RDWR | (cloexec ? O_CLOEXEC : 0));
	if (e->fd < 0) {
		err = errno;
		unlink(e->path);
		goto fail;
	}
	r->domid = h->domid;
	r->pid = getpid();
	r->start = xsim_proc_start(r->pid);
	r->id = e->id;
	xsim_unlock(h);
	return e;
fail:
	xsim_unlock(h);
	xsim_host_put(h);
	free(e);
	errno = err;
	return NULL;
}

/* xenevtchn_fdopen(): find the handle behind an fd this process holds. */
struct xsim_evh *xsim_evh_adopt(int fd)
{
	struct xsim_host *h = xsim_host_get();
	char link[64], target[PATH_MAX], want[400];
	struct xsim_evh *e;
	unsigned int i, id;
	ssize_t n;
	int slot;

	if (!h)
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		goto bad;
	target[n] = 0;
	snprintf(want, sizeof(want), "%s/ev/", h->dir);
	if (strncmp(target, want, strlen(want)) ||
	    sscanf(target + strlen(want), "%u", &id) != 1)
		goto bad;
	e = evh_alloc();
	if (!e)
		goto fail;
	e->host = h;
	e->fd = fd;
	e->id = id;
	fifo_path(h, id, e->path, sizeof(e->path));
	xsim_lock(h);
	for (i = 0; i < XSIM_MAX_HANDLES; i++)
		if (h->hv->handles[i].id == id)
			break;
	if (i == XSIM_MAX_HANDLES) {
		xsim_unlock(h);
		free(e);
		goto bad;
	}
	e->rec = i;
	h->hv->handles[i].pid = getpid();
	h->hv->handles[i].start = xsim_proc_start(getpid());
	slot = xsim_dom_slot_any(h->hv, h->domid);
	if (slot >= 0)
		for (i = 1; i < XSIM_NR_PORTS; i++)
			if (atomic_load(&h->hv->doms[slot].ports[i].handle) ==
			    id)
				set_owned(e, i, true);
	xsim_unlock(h);
	return e;
bad:
	errno = EBADF;
fail:
	xsim_host_put(h);
	return NULL;
}

void xsim_evh_close(struct xsim_evh *e)
{
	struct xsim_host *h;
	uint32_t p;
	int slot, i;

	if (!e)
		return;
	h = e->host;
	xsim_lock(h);
	slot = xsim_dom_slot_any(h->hv, h->domid);
	for (p = 1; p < XSIM_NR_PORTS; p++)
		if (owned(e, p) && slot >= 0 &&
		    atomic_load(&h->hv->doms[slot].ports[p].handle) == e->id)
			xsim_port_close_locked(h, slot, p);
	if (h->hv->handles[e->rec].id == e->id)
		h->hv->handles[e->rec].id = 0;
	unlink(e->path);
	xsim_unlock(h);
	close(e->fd);
	for (i = 0; i < 16; i++)
		if (e->cache[i].fd >= 0)
			close(e->cache[i].fd);
	pthread_mutex_destroy(&e->cache_mutex);
	xsim_host_put(h);
	free(e);
}

/* ---- port table (under the host lock) ---- */

static int alloc_port_locked(struct xsim_dom *d)
{
	uint32_t p;

	for (p = 1; p < XSIM_NR_PORTS; p++)
		if (atomic_load(&d->ports[p].state) == XSIM_PORT_FREE)
			return p;
	return -ENOSPC;
}

void xsim_port_close_locked(struct xsim_host *h, int slot, uint32_t port)
{
	struct xsim_dom *d = xsim_dom(h, slot);
	struct xsim_port *p = &d->ports[port];
	uint32_t state = atomic_load(&p->state);

	if (state == XSIM_PORT_INTERDOMAIN) {
		uint32_t rs = atomic_load(&p->remote_slot);
		uint32_t rp = atomic_load(&p->remote_port);
		struct xsim_port *q = &h->hv->doms[rs].ports[rp];

		/* As on Xen, the peer's end goes back to unbound, bindable
		 * again by this domain. */
		if (atomic_load(&q->state) == XSIM_PORT_INTERDOMAIN &&
		    atomic_load(&q->remote_slot) == (uint32_t)slot &&
		    atomic_load(&q->remote_port) == port) {
			atomic_store(&q->remote_dom, d->domid);
			atomic_store(&q->state, XSIM_PORT_UNBOUND);
		}
	} else if (state == XSIM_PORT_VIRQ) {
		uint32_t v = atomic_load(&p->virq);

		if (v < XSIM_NR_VIRQS && d->virq_port[v] == port)
			d->virq_port[v] = 0;
	}
	atomic_store(&p->state, XSIM_PORT_FREE);
	atomic_store(&p->handle, 0);
	atomic_store(&p->ev, 0);
}

static int my_slot(struct xsim_evh *e)
{
	int slot = xsim_dom_slot(e->host->hv, e->host->domid);

	return slot < 0 ? -ESRCH : slot;
}

static void init_port(struct xsim_port *p, uint32_t handle)
{
	atomic_store(&p->ev, 0);
	atomic_store(&p->handle, handle);
}

int xsim_ev_bind_unbound(struct xsim_evh *e, uint32_t remote_dom)
{
	struct xsim_host *h = e->host;
	struct xsim_dom *d;
	int slot, port;

	if (e->restrict_dom != ~0u)
		return -EPERM;
	if (remote_dom == DOMID_SELF)
		remote_dom = h->domid;
	xsim_lock(h);
	slot = my_slot(e);
	if (slot < 0) {
		xsim_unlock(h);
		return slot;
	}
	d = xsim_dom(h, slot);
	port = alloc_port_locked(d);
	if (port > 0) {
		struct xsim_port *p = &d->ports[port];

		init_port(p, e->id);
		atomic_store(&p->remote_dom, remote_dom);
		atomic_store(&p->state, XSIM_PORT_UNBOUND);
		set_owned(e, port, true);
	}
	xsim_unlock(h);
	return port;
}

int xsim_ev_bind_interdomain(struct xsim_evh *e, uint32_t remote_dom,
			     uint32_t remote_port)
{
	struct xsim_host *h = e->host;
	struct xsim_dom *d, *rd;
	struct xsim_port *p, *q;
	int slot = -1, rslot, port;

	if (e->restrict_dom != ~0u && e->restrict_dom != remote_dom)
		return -EPERM;
	if (remote_dom == DOMID_SELF)
		remote_dom = h->domid;
	xsim_lock(h);
	xsim_reap_locked(h);
	slot = my_slot(e);
	if (slot < 0) {
		port = slot;
		goto out;
	}
	rslot = xsim_dom_slot(h->hv, remote_dom);
	if (rslot < 0) {
		port = -ESRCH;
		goto out;
	}
	d = xsim_dom(h, slot);
	rd = xsim_dom(h, rslot);
	if (!remote_port || remote_port >= XSIM_NR_PORTS) {
		port = -EINVAL;
		goto out;
	}
	q = &rd->ports[remote_port];
	if (atomic_load(&q->state) != XSIM_PORT_UNBOUND ||
	    atomic_load(&q->remote_dom) != d->domid) {
		port = -EINVAL;
		goto out;
	}
	port = alloc_port_locked(d);
	if (port < 0)
		goto out;
	p = &d->ports[port];
	init_port(p, e->id);
	atomic_store(&p->remote_dom, remote_dom);
	atomic_store(&p->remote_slot, rslot);
	atomic_store(&p->remote_port, remote_port);
	atomic_store(&p->state, XSIM_PORT_INTERDOMAIN);
	atomic_store(&q->remote_slot, slot);
	atomic_store(&q->remote_port, port);
	atomic_store(&q->state, XSIM_PORT_INTERDOMAIN);
	set_owned(e, port, true);
out:
	xsim_unlock(h);
	/* Xen sets the new local port pending: notifications sent to the
	 * unbound remote end before the bind would otherwise be lost. */
	if (port > 0)
		xsim_ev_deliver(e, h, slot, port);
	return port;
}

int xsim_ev_bind_virq(struct xsim_evh *e, uint32_t virq)
{
	struct xsim_host *h = e->host;
	struct xsim_dom *d;
	int slot, port;

	if (e->restrict_dom != ~0u)
		return -EPERM;
	if (virq != VIRQ_DOM_EXC)
		return -EINVAL; /* the only virtual IRQ simulated */
	if (h->domid != 0)
		return -EPERM; /* a global VIRQ: the hardware domain's */
	xsim_lock(h);
	slot = my_slot(e);
	if (slot < 0) {
		port = slot;
		goto out;
	}
	d = xsim_dom(h, slot);
	if (d->virq_port[virq]) {
		port = -EEXIST;
		goto out;
	}
	port = alloc_port_locked(d);
	if (port > 0) {
		struct xsim_port *p = &d->ports[port];

		init_port(p, e->id);
		atomic_store(&p->virq, virq);
		atomic_store(&p->state, XSIM_PORT_VIRQ);
		d->virq_port[virq] = port;
		set_owned(e, port, true);
	}
out:
	xsim_unlock(h);
	return port;
}

int xsim_ev_unbind(struct xsim_evh *e, uint32_t port)
{
	struct xsim_host *h = e->host;
	int slot;

	if (!owned(e, port))
		return -ENOTCONN;
	xsim_lock(h);
	slot = xsim_dom_slot_any(h->hv, h->domid);
	if (slot >= 0 &&
	    atomic_load(&h->hv->doms[slot].ports[port].handle) == e->id)
		xsim_port_close_locked(h, slot, port);
	set_owned(e, port, false);
	xsim_unlock(h);
	return 0;
}

/* ---- delivery (lock-free) ---- */

static int cached_fifo(struct xsim_evh *via, struct xsim_host *h,
		       uint32_t id, bool *temp)
{
	char path[400];
	int fd, i = id % 16;

	*temp = false;
	if (via && via->id == id)
		return via->fd;
	if (via && via->cache[i].id == id && via->cache[i].fd >= 0)
		return via->cache[i].fd;
	fifo_path(h, id, path, sizeof(path));
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (!via) {
		*temp = true;
		return fd;
	}
	if (via->cache[i].fd >= 0)
		close(via->cache[i].fd);
	via->cache[i].id = id;
	via->cache[i].fd = fd;
	return fd;
}

static void wake_handle(struct xsim_evh *via, struct xsim_host *h,
			uint32_t id, uint32_t port)
{
	bool temp;
	int fd;

	if (!id)
		return;
	if (via)
		pthread_mutex_lock(&via->cache_mutex);
	fd = cached_fifo(via, h, id, &temp);
	if (fd >= 0) {
		/* A full FIFO cannot happen (one record per bound port);
		 * a handle that has gone just never reads it. */
		ssize_t n = write(fd, &port, sizeof(port));

		(void)n;
		if (temp)
			close(fd);
	}
	if (via)
		pthread_mutex_unlock(&via->cache_mutex);
}

void xsim_ev_deliver(struct xsim_evh *via, struct xsim_host *h, int slot,
		     uint32_t port)
{
	struct xsim_port *p = &h->hv->doms[slot].ports[port];
	uint32_t old = atomic_load(&p->ev);

	for (;;) {
		if (old & XSIM_EV_PENDING)
			return;
		if (old & XSIM_EV_MASKED) {
			if (atomic_compare_exchange_weak(&p->ev, &old,
							 old | XSIM_EV_PENDING))
				return;
			continue;
		}
		if (atomic_compare_exchange_weak(&p->ev, &old,
						 old | XSIM_EV_MASKED))
			break;
	}
	wake_handle(via, h, atomic_load(&p->handle), port);
}

int xsim_ev_notify(struct xsim_evh *e, uint32_t port)
{
	struct xsim_host *h = e->host;
	struct xsim_port *p;
	uint32_t rs, rp;
	int slot;

	if (!owned(e, port))
		return -ENOTCONN;
	slot = xsim_dom_slot_any(h->hv, h->domid);
	if (slot < 0)
		return -ESRCH;
	p = &h->hv->doms[slot].ports[port];
	switch (atomic_load_explicit(&p->state, memory_order_acquire)) {
	case XSIM_PORT_INTERDOMAIN:
		rs = atomic_load(&p->remote_slot);
		rp = atomic_load(&p->remote_port);
		if (rs < XSIM_MAX_DOMS && rp && rp < XSIM_NR_PORTS)
			xsim_ev_deliver(e, h, rs, rp);
		return 0;
	case XSIM_PORT_UNBOUND:
		return 0; /* Xen drops it silently */
	default:
		return -EINVAL;
	}
}

void xsim_virq_raise(struct xsim_host *h, int slot, uint32_t virq)
{
	uint32_t port = h->hv->doms[slot].virq_port[virq];

	if (port)
		xsim_ev_deliver(NULL, h, slot, port);
}

int xsim_ev_pending(struct xsim_evh *e)
{
	uint32_t port;
	ssize_t n;

	/* A port unbound while its record was in flight is still returned,
	 * as Linux's evtchn device returns what its ring holds; unmask()
	 * then ignores it. */
	n = read(e->fd, &port, sizeof(port));
	if (n < 0)
		return -errno;
	if (n != sizeof(port))
		return -EIO;
	return port;
}

int xsim_ev_unmask(struct xsim_evh *e, uint32_t port)
{
	struct xsim_host *h = e->host;
	struct xsim_port *p;
	uint32_t old;
	int slot;

	if (!owned(e, port))
		return 0; /* Linux ignores ports not bound to the handle */
	slot = xsim_dom_slot_any(h->hv, h->domid);
	if (slot < 0)
		return -ESRCH;
	p = &h->hv->doms[slot].ports[port];
	old = atomic_load(&p->ev);
	for (;;) {
		if (old & XSIM_EV_PENDING) {
			/* Remembered while masked: deliver again, still
			 * masked until the next unmask. */
			if (atomic_compare_exchange_weak(&p->ev, &old,
							 XSIM_EV_MASKED)) {
				wake_handle(e, h, e->id, port);
				return 0;
			}
			continue;
		}
		if (atomic_compare_exchange_weak(&p->ev, &old,
						 old & ~XSIM_EV_MASKED))
			return 0;
	}
}
