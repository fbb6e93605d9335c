/*
 * defer.h - teardown steps run off the main thread.
 *
 * Some system calls that give a resource back wait for reasons of their
 * own, not for the device: io_destroy() waits for an RCU grace period and
 * the process's mmap lock, which the workers of other devices take while
 * their I/O runs (30-150 ms a queue measured on the simulated host under
 * load, tests/core/responsive.sh). The main thread answers xenbackctl and
 * every other device meanwhile, so such a step, once nothing depends on
 * its result any more, is handed to a thread of its own.
 */
#ifndef XB_BACKEND_DEFER_H
#define XB_BACKEND_DEFER_H

typedef void xb_defer_fn(void *arg);

/*
 * Runs fn(arg) soon on a new detached thread (signals blocked), or at
 * once on this one when no thread can be had. fn must not touch xenstore
 * or anything of a device: it gets only what arg holds.
 */
void xb_defer(xb_defer_fn *fn, void *arg);
/* Waits until every deferred call has returned (daemon stop, tests). */
void xb_defer_flush(void);

#endif
