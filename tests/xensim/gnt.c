// SPDX-License-Identifier: MIT
/*
 * gnt.c: what the two halves of the stand-in libxengnttab do alike
 * (gnt.h): the handle, and the regions of pages mapped here.
 */
#include "tests/xensim/gnt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

xengnttab_handle *xsim_gnt_open(void)
{
	xengnttab_handle *g = calloc(1, sizeof(*g));
	char path[400];

	if (!g)
		return NULL;
	g->host = xsim_host_get();
	if (!g->host) {
		free(g);
		return NULL;
	}
	/* Like the gntdev/gntalloc fd: something real, tied to this host. */
	snprintf(path, sizeof(path), "%s/hv", g->host->shm);
	g->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (g->fd < 0) {
		xsim_host_put(g->host);
		free(g);
		return NULL;
	}
	pthread_mutex_init(&g->mutex, NULL);
	return g;
}

void xsim_gnt_free(xengnttab_handle *g)
{
	close(g->fd);
	pthread_mutex_destroy(&g->mutex);
	xsim_host_put(g->host);
	free(g);
}

struct xsim_gnt_region *xsim_gnt_take(xengnttab_handle *g,
				      struct xsim_gnt_region **list,
				      const void *addr, uint32_t count)
{
	struct xsim_gnt_region **pp, *r;

	pthread_mutex_lock(&g->mutex);
	for (pp = list; (r = *pp); pp = &r->next)
		if (r->addr == addr && r->count == count)
			break;
	if (r)
		*pp = r->next;
	pthread_mutex_unlock(&g->mutex);
	if (!r)
		errno = EINVAL;
	return r;
}

int xsim_gnt_notify_args(uint32_t notify_offset, evtchn_port_t notify_port,
			 int32_t *off, uint32_t *port)
{
	*off = -1;
	if (notify_offset != (uint32_t)-1) {
		if (notify_offset >= XSIM_PAGE_SIZE) {
			errno = EINVAL;
			return -1;
		}
		*off = notify_offset;
	}
	*port = notify_port == (evtchn_port_t)-1 ? 0 : notify_port;
	return 0;
}

void xsim_gnt_unmap_region(struct xsim_host *h, struct xsim_gnt_region *r)
{
	if (r->notify_offset >= 0)
		r->addr[r->notify_offset] = 0;
	if (r->notify_port) {
		int slot = xsim_dom_slot_any(h->hv, h->domid);

		if (slot >= 0 && r->notify_port < XSIM_NR_PORTS) {
			struct xsim_port *p =
				&h->hv->doms[slot].ports[r->notify_port];

			if (atomic_load(&p->state) == XSIM_PORT_INTERDOMAIN)
				xsim_ev_deliver(NULL, h,
						atomic_load(&p->remote_slot),
						atomic_load(&p->remote_port));
		}
	}
	munmap(r->addr, (size_t)r->count * XSIM_PAGE_SIZE);
}
