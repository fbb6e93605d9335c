/*
 * control.h - the unix socket xenbackctl talks to.
 *
 * Protocol: the client sends one line, "list" (a table), "list json"
 * (a JSON array of devices), "resources" / "resources json" (what the
 * daemon holds per frontend domain: backend/resources.h), "resize DOMID
 * DEVID" (a vbd looks at its backing's size now: one line, "error: ..."
 * on failure) or "handover" (answered "handing over", then the daemon
 * stops as on SIGUSR2, leaving its devices connected for a successor),
 * and reads the answer until the daemon closes the connection. The
 * socket is created mode 0600: only root asks.
 */
#ifndef XB_BACKEND_CONTROL_H
#define XB_BACKEND_CONTROL_H

#include "backend/backend.h"
#include "backend/loop.h"

#define XB_CONTROL_CMD_MAX 64
/*
 * A client has this long to send its command and take the answer; the
 * main loop serves it as its bytes come and never waits on it. More than
 * XB_CONTROL_MAX_CLIENTS at once: the newest is refused (closed).
 */
#define XB_CONTROL_TIMEOUT_MS 1000
#define XB_CONTROL_MAX_CLIENTS 16

struct xb_control;

/*
 * Creates the socket (and its directory if missing). A stale socket left
 * by a dead daemon is replaced; a live one is an error (-EADDRINUSE).
 */
struct xb_control *xb_control_open(const char *path, struct xb_loop *loop,
				   struct xb_backend *be, int *err);
/* Closes and unlinks; NULL-safe. */
void xb_control_close(struct xb_control *c);

#endif
