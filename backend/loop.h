/*
 * loop.h - an epoll loop of fds with callbacks. The main thread runs one
 * (xenstore watches, signals, control socket, watchdog timer); each worker
 * thread runs its own (backend/worker.h). A loop belongs to one thread.
 */
#ifndef XB_BACKEND_LOOP_H
#define XB_BACKEND_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void xb_loop_cb(void *arg, uint32_t events);

struct xb_loop_entry;

struct xb_loop {
	int epfd;
	struct xb_loop_entry *entries;	/* live */
	struct xb_loop_entry *dead;	/* removed while dispatching */
	bool dispatching;
	unsigned int count;
};

int xb_loop_init(struct xb_loop *l);
/* Closes the epoll fd and frees the entries (not the fds). */
void xb_loop_fini(struct xb_loop *l);
/* 0, -EEXIST, or the errno of epoll_ctl. */
int xb_loop_add(struct xb_loop *l, int fd, uint32_t events, xb_loop_cb *cb,
		void *arg);
/* Safe from inside a callback, even for an fd of the same batch. */
int xb_loop_del(struct xb_loop *l, int fd);
/*
 * Waits up to timeout_ms (-1: forever) and runs the callbacks of the fds
 * that fired. Returns how many fired (0 on timeout or EINTR), or -errno.
 */
int xb_loop_dispatch(struct xb_loop *l, int timeout_ms);

#endif
