/*
 * backend.h - the device registry and lifecycle, as the daemon's main()
 * sees it: serve some kinds, report, shut down.
 *
 * Discovery: a watch on <own domain>/backend/<type> per served kind; any
 * change there triggers a mark-and-sweep rescan of that tree (a device
 * whose directory is gone is torn down), and a change of a device's own
 * node is passed to it. A watch on each device's frontend "state" node
 * and on @releaseDomain (checked with xc_domain_getinfolist) completes the
 * picture. The state machine is drawn in lifecycle.c.
 */
#ifndef XB_BACKEND_BACKEND_H
#define XB_BACKEND_BACKEND_H

#include <stdbool.h>
#include <stdio.h>

#include "backend/device.h"
#include "backend/loop.h"
#include "xenstore/xbs.h"

struct xb_backend;

/* Sets what xb_run_dir() (device.h) gives kinds; before serving any. */
void xb_set_run_dir(const char *dir);

/* Uses xs and registers its fds in loop (both outlive the backend). */
struct xb_backend *xb_backend_new(struct xb_loop *loop, struct xbs *xs);
/*
 * Starts serving a kind: watches backend/<type>, picks up the devices
 * that exist already. Serving a kind twice is a no-op. 0 or -errno.
 */
int xb_backend_serve(struct xb_backend *be, const struct xb_kind *kind);
/* Whether new devices of a served kind are taken (SIGHUP may change it). */
void xb_backend_set_enabled(struct xb_backend *be, const struct xb_kind *kind,
			    bool enabled);
bool xb_backend_serves(struct xb_backend *be, const char *type);
/* Number of devices, and of those Connected. */
unsigned int xb_backend_count(struct xb_backend *be, unsigned int *connected);
/*
 * Writes the device list: a table, or a JSON array when json is set.
 */
void xb_backend_report(struct xb_backend *be, FILE *out, bool json);
/*
 * xenbackctl resize: the device domid/devid of a kind that can resize
 * (vbd) looks at its backing's size now; its answer goes to out.
 * 0, -ENOENT (no such device) or the kind's error.
 */
int xb_backend_resize(struct xb_backend *be, unsigned int domid,
		      unsigned int devid, FILE *out);
/* True once the daemon cannot go on (the xenstore connection is lost). */
bool xb_backend_fatal(struct xb_backend *be);
/* Every few seconds (the service's health timer): a device closing for
 * long is logged once, with what it waits for. */
void xb_backend_tick(struct xb_backend *be);
/*
 * Stops taking new devices, disconnects every device (in-flight I/O
 * finished or failed by the kinds' drain), switches it to Closed, removes
 * it and drops every watch. Idempotent.
 */
void xb_backend_shutdown(struct xb_backend *be);
/*
 * The handover stop: stops taking new devices and requests, disconnects
 * every device (in-flight I/O answered by the kinds' drain) and removes
 * it (dev->daemon_stopping set) without writing any state: the frontends
 * keep their rings and see nothing but a pause, and the next daemon
 * adopts the devices still Connected (their rings resumed where this one
 * stopped, see backend/rings.h). Drops every watch. Idempotent; after it,
 * xb_backend_shutdown() does nothing.
 */
void xb_backend_handover(struct xb_backend *be);
void xb_backend_free(struct xb_backend *be);

#endif
