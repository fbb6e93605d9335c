/*
 * defer.c - teardown steps run off the main thread (see defer.h).
 *
 * A thread per call rather than one queue: what is deferred mostly waits
 * (a grace period), so calls overlap instead of queueing behind each
 * other while a guest connects and closes many times a second; each
 * context left waiting in a queue would still count against the host's
 * aio-max-nr.
 */
#include "backend/defer.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

struct deferred {
	xb_defer_fn *fn;
	void *arg;
};

static pthread_mutex_t defer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t defer_done = PTHREAD_COND_INITIALIZER;
static unsigned int defer_pending;

static void *run_deferred(void *p)
{
	struct deferred *d = p;

	d->fn(d->arg);
	free(d);
	pthread_mutex_lock(&defer_lock);
	if (--defer_pending == 0)
		pthread_cond_broadcast(&defer_done);
	pthread_mutex_unlock(&defer_lock);
	return NULL;
}

/* A detached thread for d, with every signal blocked (they belong to the
 * main thread's signalfd). False if none could be made. */
static bool start_deferred(struct deferred *d)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int rc;

	if (pthread_attr_init(&attr))
		return false;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &attr, run_deferred, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rc == 0;
}

void xb_defer(xb_defer_fn *fn, void *arg)
{
	struct deferred *d = malloc(sizeof(*d));

	if (d) {
		*d = (struct deferred){ .fn = fn, .arg = arg };
		pthread_mutex_lock(&defer_lock);
		defer_pending++;
		pthread_mutex_unlock(&defer_lock);
		if (start_deferred(d))
			return;
		pthread_mutex_lock(&defer_lock);
		defer_pending--;
		pthread_mutex_unlock(&defer_lock);
		free(d);
	}
	/* Slower, never lost. */
	fn(arg);
}

void xb_defer_flush(void)
{
	pthread_mutex_lock(&defer_lock);
	while (defer_pending)
		pthread_cond_wait(&defer_done, &defer_lock);
	pthread_mutex_unlock(&defer_lock);
}
