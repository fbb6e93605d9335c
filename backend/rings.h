/*
 * rings.h - what a kind needs to reach a frontend's shared rings: read the
 * ring's grant references and event channel from the frontend's nodes,
 * map the ring, bind the channel.
 *
 * Each queue binds its channel on its own xenevtchn handle, so the handle's
 * fd belongs to exactly one ring (a port maps to its ring in O(1)) and a
 * worker thread polls only its own fds (backend/worker.h).
 *
 * Reading and mapping are main-thread operations (connect); notify and ack
 * are for the queue's worker; unmap and unbind for disconnect, after the
 * worker has stopped.
 */
#ifndef XB_BACKEND_RINGS_H
#define XB_BACKEND_RINGS_H

#include <stdint.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xen/grant_table.h>

#include "backend/device.h"

/* A ring is at most 2^XB_RING_MAX_ORDER pages, as Linux backends allow. */
#define XB_RING_MAX_ORDER 4
#define XB_RING_MAX_PAGES (1U << XB_RING_MAX_ORDER)
/* Highest event channel port (FIFO ABI: 2^17 ports). */
#define XB_EVTCHN_PORT_MAX ((1U << 17) - 1)

/*
 * The core counts the ring pages mapped and channels bound through these
 * helpers per device; xenbackctl shows them ("ring_pages_mapped",
 * "channels_bound"), so a leak after disconnect is visible.
 */

/* ---- grant references of a ring ------------------------------------- */

/*
 * Reads the grant references of one ring from the frontend directory (or
 * its subdirectory dir, e.g. "queue-1"; NULL for the top):
 *   max_order == 0, or no "ring-page-order" node: the single node <prefix>
 *   (or <prefix>0, as some frontends write it);
 *   otherwise "ring-page-order" (at most max_order, as advertised in
 *   "max-ring-page-order") and <prefix>0 .. <prefix>N-1.
 * "ring-page-order" is read at the top of the frontend directory whatever
 * dir is: blkif.h and Linux blkfront have one order for all queues. *nr
 * is the number of pages (1 << order); a caller reading several queues
 * checks they agree (the guest may change the node between reads).
 * prefix is "ring-ref" (blkif) or "tx-ring-ref"/"rx-ring-ref" (netif).
 * refs must hold XB_RING_MAX_PAGES entries. Logs nothing; returns the
 * error, and names the offending node in bad_node (XBS_PATH_MAX bytes)
 * for the caller's xb_device_fail().
 */
int xb_ring_read_refs(struct xb_device *dev, const char *dir,
		      const char *prefix, unsigned int max_order,
		      grant_ref_t *refs, unsigned int *nr, char *bad_node);

/* ---- mapping ------------------------------------------------------- */

struct xb_ring_map {
	void *addr;		/* nr_pages contiguous pages, read-write */
	unsigned int nr_pages;
	xengnttab_handle *gnttab;
	struct xb_device *dev;	/* counts the device's mapped ring pages */
};

#define XB_RING_MAP_INIT                                                     \
	{                                                                    \
		.addr = NULL                                                 \
	}

/*
 * Maps nr grant references of the device's frontend domain as one
 * contiguous read-write range on dev->gnttab. Checks 1 <= nr <=
 * XB_RING_MAX_PAGES, no reference in the range the toolstack reserves
 * (below GNTTAB_NR_RESERVED_ENTRIES) and no reference twice. A failure
 * fails the device (xb_device_fail(), one line and the error node, so the
 * kind just returns the error); m is left unmapped.
 */
int xb_ring_map(struct xb_device *dev, struct xb_ring_map *m,
		const grant_ref_t *refs, unsigned int nr);
/* Unmaps; NULL-safe and idempotent. */
void xb_ring_unmap(struct xb_ring_map *m);

/*
 * The index a kind's back ring starts at (BACK_RING_ATTACH's, e.g.
 * ring_blkif_attach_at()), for a ring of nr_ents entries mapped at m:
 * 0 for a new ring; when dev->resume (the daemon adopts a device its
 * frontend kept using, see device.h), the shared ring's rsp_prod, so that
 * req_cons and rsp_prod_pvt carry on where the previous daemon's
 * published responses end. Requests it took but never answered are taken
 * again: block reads and writes are idempotent, a packet is sent twice
 * at worst. A frontend whose req_prod is more than nr_ents ahead of
 * rsp_prod fails the device (-EPROTO).
 */
int xb_ring_start_index(struct xb_device *dev, const struct xb_ring_map *m,
			unsigned int nr_ents, uint32_t *start);

/* ---- event channels ---------------------------------------------------- */

struct xb_evtchn {
	xenevtchn_handle *xce;	/* this channel's own handle */
	evtchn_port_t local_port;
	evtchn_port_t remote_port;
	int fd;			/* readable when the frontend notified */
	struct xb_device *dev;	/* counts the device's bound channels */
};

#define XB_EVTCHN_INIT                                                       \
	{                                                                    \
		.xce = NULL, .fd = -1                                        \
	}

/*
 * Reads a port number from frontend node `node` (e.g. "event-channel",
 * "queue-0/event-channel-tx"): 1 .. XB_EVTCHN_PORT_MAX.
 */
int xb_evtchn_read_port(struct xb_device *dev, const char *node,
			evtchn_port_t *port);
/*
 * Opens a handle for this channel and binds it to remote_port of the
 * frontend domain. The fd is non-blocking. A failure fails the device
 * as xb_ring_map() does.
 */
int xb_evtchn_bind(struct xb_device *dev, struct xb_evtchn *ch,
		   evtchn_port_t remote_port);
/* Unbinds and closes the handle; NULL-safe and idempotent. */
void xb_evtchn_unbind(struct xb_evtchn *ch);
/* Any thread. */
int xb_evtchn_notify(struct xb_evtchn *ch);
/*
 * On the worker, when ch->fd is readable: consumes the pending event and
 * unmasks the port. 1: the frontend notified; 0: nothing pending.
 */
int xb_evtchn_ack(struct xb_evtchn *ch);

#endif
