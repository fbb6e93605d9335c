/* SPDX-License-Identifier: MIT */
/*
 * xsg.h: the guest side of a simulated Xen host, for test programs that
 * play a domain's kernel (frontends, hostile guests).
 *
 * A process is domain $XENSIM_DOMID of the host in $XENSIM_HOST (both set
 * by `xensim run HOST DOMID -- CMD` or `eval "$(xensim env HOST DOMID)"`).
 * It owns pages of that domain's memory, writes that domain's grant table
 * and binds that domain's event channels, as a guest kernel does; xenstore
 * is the real libxenstore, through the domain's bridge to its ring.
 * Link with build/xensim/libxsg.a -lxenstore -lpthread.
 *
 * Errors: NULL with errno, or a negative errno value, as documented.
 */
#ifndef XENSIM_GUEST_XSG_H
#define XENSIM_GUEST_XSG_H

#include <stdbool.h>
#include <stdint.h>

struct xs_handle;
struct xsg;

/* This process as domain $XENSIM_DOMID of $XENSIM_HOST; NULL+errno. */
struct xsg *xsg_open(void);
void xsg_close(struct xsg *g);
uint32_t xsg_domid(const struct xsg *g);

/* n contiguous frames of this domain's memory (zeroed), mapped rw here;
 * the first frame number in *first_frame. NULL+errno (ENOMEM). */
void *xsg_alloc_pages(struct xsg *g, unsigned int n, uint32_t *first_frame);
void xsg_free_pages(struct xsg *g, void *va, unsigned int n);
/* Whether a grant of this domain still gives access to one of the n
 * frames from first (its pages must not be freed then). */
bool xsg_frames_granted(struct xsg *g, uint32_t first, unsigned int n);
/* What this domain holds: pages of its memory allocated, grant refs
 * allocated, event-channel ports not free (a test of a frontend that
 * comes and goes asserts these stay bounded). */
struct xsg_usage {
	unsigned int pages, grants, ports;
};
void xsg_usage(struct xsg *g, struct xsg_usage *u);
/* Any frame of this domain's memory, mapped here (NULL if out of range). */
void *xsg_frame_ptr(struct xsg *g, uint32_t frame);
uint32_t xsg_nr_frames(const struct xsg *g);

/* Grant a frame to another domain: gref >= 8, or -errno. */
int xsg_grant_access(struct xsg *g, uint32_t to_domid, uint32_t frame,
		     bool readonly);
/* End access and free the ref: 0, or -EBUSY while the peer maps it. */
int xsg_end_access(struct xsg *g, uint32_t gref);
/* Hostile or special grants: write entry gref as is (domid and frame,
 * barrier, then flags; any GTF_* value, any frame, reserved refs too) and
 * read an entry's flags (GTF_reading/GTF_writing show a peer's mapping). */
int xsg_grant_raw(struct xsg *g, uint32_t gref, uint32_t domid,
		  uint32_t frame, uint16_t flags);
int xsg_grant_flags(struct xsg *g, uint32_t gref);

/* Event channels of this domain. Ports fire through one pollable fd. */
int xsg_evtchn_fd(struct xsg *g);
int xsg_evtchn_alloc_unbound(struct xsg *g, uint32_t remote_domid);
int xsg_evtchn_bind_interdomain(struct xsg *g, uint32_t remote_domid,
				uint32_t remote_port);
int xsg_evtchn_notify(struct xsg *g, uint32_t port);
/* Port that fired (already unmasked), 0 on timeout, -errno.
 * timeout_ms < 0 waits for ever. */
int xsg_evtchn_wait(struct xsg *g, int timeout_ms);
int xsg_evtchn_close(struct xsg *g, uint32_t port);

/* Real libxenstore, as this domain: through the domain's bridge to its
 * xenstore ring (dom0: xenstored's socket). Close with xs_close(). */
struct xs_handle *xsg_xs_open(struct xsg *g);

#endif
