/*
 * loop.c - the epoll loop (see loop.h).
 */
#include "backend/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define LOOP_BATCH 32

struct xb_loop_entry {
	struct xb_loop_entry *next;
	int fd;
	bool dead;
	xb_loop_cb *cb;
	void *arg;
};

int xb_loop_init(struct xb_loop *l)
{
	*l = (struct xb_loop){ 0 };
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

static void free_list(struct xb_loop_entry *e)
{
	while (e) {
		struct xb_loop_entry *next = e->next;

		free(e);
		e = next;
	}
}

void xb_loop_fini(struct xb_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
	free_list(l->entries);
	free_list(l->dead);
	l->entries = l->dead = NULL;
	l->count = 0;
}

int xb_loop_add(struct xb_loop *l, int fd, uint32_t events, xb_loop_cb *cb,
		void *arg)
{
	struct epoll_event ev = { .events = events };
	struct xb_loop_entry *e;

	for (e = l->entries; e; e = e->next)
		if (e->fd == fd)
			return -EEXIST;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct xb_loop_entry){ .fd = fd, .cb = cb, .arg = arg };
	ev.data.ptr = e;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int rc = -errno;

		free(e);
		return rc;
	}
	e->next = l->entries;
	l->entries = e;
	l->count++;
	return 0;
}

int xb_loop_del(struct xb_loop *l, int fd)
{
	struct xb_loop_entry **pp, *e;

	for (pp = &l->entries; (e = *pp); pp = &e->next)
		if (e->fd == fd)
			break;
	if (!e)
		return -ENOENT;
	*pp = e->next;
	l->count--;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	if (l->dispatching) {
		/* An event of this batch may still point at it. */
		e->dead = true;
		e->next = l->dead;
		l->dead = e;
	} else {
		free(e);
	}
	return 0;
}

int xb_loop_dispatch(struct xb_loop *l, int timeout_ms)
{
	struct epoll_event ev[LOOP_BATCH];
	int n;

	n = epoll_wait(l->epfd, ev, LOOP_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	l->dispatching = true;
	for (int i = 0; i < n; i++) {
		struct xb_loop_entry *e = ev[i].data.ptr;

		if (!e->dead)
			e->cb(e->arg, ev[i].events);
	}
	l->dispatching = false;
	free_list(l->dead);
	l->dead = NULL;
	return n;
}
