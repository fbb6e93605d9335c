/*
 * worker.c - a thread per queue with its own epoll loop (see worker.h).
 */
#include "backend/worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "backend/device.h"
#include "backend/internal.h"
#include "backend/loop.h"

struct xb_worker {
	struct xb_device *dev;
	char name[16];
	struct xb_loop loop;
	int stop_fd;
	bool stopping;		/* atomic: set by xb_worker_stop() */
	bool ended;		/* atomic: drained, the thread returns */
	bool notify_end;	/* tell the device's main thread then */
	bool started;
	bool joined;
	pthread_t thread;
	xb_worker_drain_fn *drain;
	void *drain_arg;
	xb_worker_idle_fn *idle;
	xb_worker_woke_fn *woke;
	void *idle_arg;
	xb_worker_init_fn *init;
	void *init_arg;
};

/* Longest a worker busy with polled work goes without looking at its fds. */
#define WORKER_FD_CHECK_NS 1000000ull

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_stop_fd(void *arg, uint32_t events)
{
	struct xb_worker *w = arg;
	uint64_t v;

	(void)events;
	/* Level-triggered: consume, the flag carries the request. */
	if (read(w->stop_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		xb_dev_err(w->dev, "worker %s: stop eventfd: %s", w->name,
			   strerror(errno));
}

struct xb_worker *xb_worker_new(struct xb_device *dev, const char *name,
				xb_worker_drain_fn *drain, void *drain_arg)
{
	struct xb_worker *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return NULL;
	w->dev = dev;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->drain = drain;
	w->drain_arg = drain_arg;
	w->stop_fd = -1;
	rc = xb_loop_init(&w->loop);
	if (rc)
		goto fail;
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->stop_fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = xb_loop_add(&w->loop, w->stop_fd, EPOLLIN, on_stop_fd, w);
	if (rc)
		goto fail;
	return w;
fail:
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	xb_loop_fini(&w->loop);
	free(w);
	errno = -rc;
	return NULL;
}

int xb_worker_add_fd(struct xb_worker *w, int fd, uint32_t events,
		     xb_worker_cb *cb, void *arg)
{
	if (w->loop.count >= XB_WORKER_MAX_FDS + 1)
		return -ENOSPC;
	return xb_loop_add(&w->loop, fd, events, cb, arg);
}

int xb_worker_del_fd(struct xb_worker *w, int fd)
{
	if (fd == w->stop_fd)
		return -EINVAL;
	return xb_loop_del(&w->loop, fd);
}

bool xb_worker_stopping(const struct xb_worker *w)
{
	return __atomic_load_n(&w->stopping, __ATOMIC_ACQUIRE);
}

static void drain(struct xb_worker *w)
{
	uint64_t start = now_ms(), warned = start;
	unsigned int left;

	if (!w->drain)
		return;
	while ((left = w->drain(w->drain_arg)) > 0) {
		uint64_t now = now_ms();

		if (now - warned >= XB_WORKER_DRAIN_WARN_MS) {
			xb_dev_warn(w->dev,
				    "worker %s: %u operations still in flight after %llu s",
				    w->name, left,
				    (unsigned long long)(now - start) / 1000);
			warned = now;
		}
		if (xb_loop_dispatch(&w->loop, 100) < 0) {
			xb_dev_err(w->dev, "worker %s: epoll: %s", w->name,
				   strerror(errno));
			break;
		}
	}
}

uint64_t xb_worker_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void xb_worker_set_idle(struct xb_worker *w, xb_worker_idle_fn *idle,
			xb_worker_woke_fn *woke, void *arg)
{
	w->idle = idle;
	w->woke = woke;
	w->idle_arg = arg;
}

void xb_worker_set_init(struct xb_worker *w, xb_worker_init_fn *init,
			void *arg)
{
	w->init = init;
	w->init_arg = arg;
}

/* Serves nothing until disconnect() stops the worker (after a failure
 * the device is being failed for). */
static void wait_stopping(struct xb_worker *w)
{
	while (!xb_worker_stopping(w))
		usleep(10000);
}

/*
 * One round: the idle hook first (it may find work by polling and do it),
 * then the fds: without sleeping if the hook did work, else sleeping
 * until one is ready.
 */
static int worker_round(struct xb_worker *w, uint64_t *last_fds)
{
	uint64_t t0;
	int rc;

	if (w->idle) {
		if (w->idle(w->idle_arg)) {
			t0 = xb_worker_now_ns();
			if (t0 - *last_fds < WORKER_FD_CHECK_NS)
				return 0;
			*last_fds = t0;
			return xb_loop_dispatch(&w->loop, 0);
		}
		t0 = xb_worker_now_ns();
		rc = xb_loop_dispatch(&w->loop, -1);
		*last_fds = xb_worker_now_ns();
		if (w->woke)
			w->woke(w->idle_arg, *last_fds - t0);
		return rc;
	}
	return xb_loop_dispatch(&w->loop, -1);
}

static void *worker_main(void *arg)
{
	struct xb_worker *w = arg;
	uint64_t last_fds = 0;

	pthread_setname_np(pthread_self(), w->name);
	if (w->init && w->init(w->init_arg))
		wait_stopping(w);
	while (!xb_worker_stopping(w)) {
		if (worker_round(w, &last_fds) < 0) {
			xb_dev_err(w->dev, "worker %s: epoll failed: %s",
				   w->name, strerror(errno));
			xb_device_fail_async(w->dev, -EIO,
					     "worker %s cannot poll", w->name);
			/* Wait for disconnect() rather than spin. */
			wait_stopping(w);
		}
	}
	drain(w);
	__atomic_store_n(&w->ended, true, __ATOMIC_RELEASE);
	/* Last: the main thread may free w once it has joined us. */
	if (w->notify_end)
		xb_device_worker_ended_async(w->dev);
	return NULL;
}

int xb_worker_start(struct xb_worker *w)
{
	sigset_t all, old;
	int rc;

	if (w->started)
		return -EALREADY;
	/* Signals belong to the main thread's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	w->started = true;
	return 0;
}

bool xb_worker_ended(const struct xb_worker *w)
{
	return !w || !w->started || w->joined ||
	       __atomic_load_n(&w->ended, __ATOMIC_ACQUIRE);
}

void xb_worker_notify_end(struct xb_worker *w)
{
	w->notify_end = true;
}

void xb_worker_stop_begin(struct xb_worker *w)
{
	uint64_t one = 1;

	if (!w || !w->started || w->joined || xb_worker_stopping(w))
		return;
	__atomic_store_n(&w->stopping, true, __ATOMIC_RELEASE);
	if (write(w->stop_fd, &one, sizeof(one)) < 0)
		xb_dev_err(w->dev, "worker %s: cannot wake: %s", w->name,
			   strerror(errno));
}

void xb_worker_stop(struct xb_worker *w)
{
	if (!w || !w->started || w->joined)
		return;
	xb_worker_stop_begin(w);
	pthread_join(w->thread, NULL);
	w->joined = true;
}

void xb_worker_free(struct xb_worker *w)
{
	if (!w)
		return;
	xb_worker_stop(w);
	close(w->stop_fd);
	xb_loop_fini(&w->loop);
	free(w);
}
