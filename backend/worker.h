/*
 * worker.h - a worker thread per queue, with its own epoll loop.
 *
 * A kind's connect() makes one worker per queue (a blkif ring, a netif
 * tx/rx pair), adds that queue's fds (event channel, libaio eventfd, TAP
 * queue) with a callback each, and starts it; one busy guest thus never
 * stalls another. Callbacks run on the worker thread, one at a time. A
 * worker never touches xenstore: to give up on its device it calls
 * xb_device_fail_async().
 *
 * Stopping (disconnect(), on the main thread) must not pull a ring from
 * under I/O in flight. xb_worker_stop() sets the stopping flag, wakes the
 * worker through its stop eventfd and waits; the worker then calls the
 * kind's drain hook, which stops taking new requests and returns how many
 * operations are still in flight. While that is not zero the worker keeps
 * dispatching its fds (so completions arrive and are answered or failed)
 * and asks again after every round. When it returns 0 the thread ends, and
 * only then may the kind unmap the ring and unbind the channel.
 *
 * The fds are level-triggered: while stopping, a callback must still
 * consume what woke it (xb_evtchn_ack() the channel even if it takes no
 * request) or remove its fd, or the drain rounds spin.
 */
#ifndef XB_BACKEND_WORKER_H
#define XB_BACKEND_WORKER_H

#include <stdbool.h>
#include <stdint.h>

struct xb_device;
struct xb_worker;

/* events are the EPOLL* bits that fired. */
typedef void xb_worker_cb(void *arg, uint32_t events);
/* Operations still in flight; 0 lets the worker end. */
typedef unsigned int xb_worker_drain_fn(void *arg);

/* A drain warning is logged every this long while I/O stays in flight. */
#define XB_WORKER_DRAIN_WARN_MS 10000
/* Most fds one worker polls. */
#define XB_WORKER_MAX_FDS 16

/*
 * name (at most 15 characters show) names the thread, e.g. "vbd5.51712q0".
 * drain may be NULL when nothing is ever in flight between callbacks.
 * Returns NULL with errno set.
 */
struct xb_worker *xb_worker_new(struct xb_device *dev, const char *name,
				xb_worker_drain_fn *drain, void *drain_arg);
/*
 * Before xb_worker_start(), or on the worker thread itself. events as for
 * epoll (EPOLLIN ...). 0 or a negative errno.
 */
int xb_worker_add_fd(struct xb_worker *w, int fd, uint32_t events,
		     xb_worker_cb *cb, void *arg);
int xb_worker_del_fd(struct xb_worker *w, int fd);
int xb_worker_start(struct xb_worker *w);
/* For callbacks: stop taking new requests from the ring once true. */
bool xb_worker_stopping(const struct xb_worker *w);
/*
 * Optional busy-polling before sleeping (set before xb_worker_start()).
 * Before each sleep the worker calls idle(arg), which may look for work in
 * shared memory (rings) for a while and do it: it returns true if it did
 * any, and the worker then calls it again without sleeping (its fds are
 * still looked at, without sleeping, at least every millisecond). When
 * idle() returns false it must have re-armed every notification it relies
 * on, and the worker sleeps in epoll; woke(arg, ns) then says how long it
 * slept. Neither is called while draining.
 */
typedef bool xb_worker_idle_fn(void *arg);
typedef void xb_worker_woke_fn(void *arg, uint64_t slept_ns);
void xb_worker_set_idle(struct xb_worker *w, xb_worker_idle_fn *idle,
			xb_worker_woke_fn *woke, void *arg);
/*
 * Optional (set before xb_worker_start()): init(arg) runs on the worker
 * thread before it serves any fd, for set-up that may take a while and
 * so is no work for the main thread (blk: faulting a queue's buffers
 * in). Non-zero: the worker serves nothing and waits to be stopped; the
 * hook has reported why (xb_device_fail_async()).
 */
typedef int xb_worker_init_fn(void *arg);
void xb_worker_set_init(struct xb_worker *w, xb_worker_init_fn *init,
			void *arg);
/* CLOCK_MONOTONIC in ns (vDSO: no system call). */
uint64_t xb_worker_now_ns(void);

/*
 * Asks the worker to drain and end, without waiting: a kind stopping
 * several queues asks them all first, so that they drain together and
 * the main thread waits for the slowest, not for their sum. Idempotent.
 */
void xb_worker_stop_begin(struct xb_worker *w);
/*
 * Whether the worker has drained and its thread is ending: joining it
 * (xb_worker_stop(), xb_worker_free()) then waits for nothing else. Never
 * blocks. True for a worker never started.
 */
bool xb_worker_ended(const struct xb_worker *w);
/*
 * For a kind with disconnect_begin() (backend/device.h): once this
 * worker has drained and ends, it tells the main thread, which then asks
 * disconnect_begin() again. Before xb_worker_start().
 */
void xb_worker_notify_end(struct xb_worker *w);
/* Asks the worker to drain and end, and joins it. Idempotent. */
void xb_worker_stop(struct xb_worker *w);
/* Stops it if needed and frees it; NULL-safe. */
void xb_worker_free(struct xb_worker *w);

#endif
