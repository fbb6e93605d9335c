/* SPDX-License-Identifier: MIT */
/*
 * tcommon.h: helpers of the simulation's own tests. Each check prints one
 * "PASS: name" or "FAIL: name why" line; a test program exits non-zero if
 * any failed. A "guest" is a forked child playing domain N through the
 * guest library, driven by the parent (dom0) over a pipe pair.
 */
#ifndef XENSIM_TCOMMON_H
#define XENSIM_TCOMMON_H

#include <stdint.h>

extern int t_failed;

void t_check(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Operations a guest child performs on request. */
enum guest_op {
	G_ALLOC,   /* a = pages -> first frame */
	G_GRANT,   /* a = to domid, b = frame, c = readonly -> gref */
	G_END,     /* a = gref -> 0 / -errno */
	G_FLAGS,   /* a = gref -> flags */
	G_POKE,    /* a = frame, b = offset, c = byte -> 0 */
	G_PEEK,    /* a = frame, b = offset -> byte */
	G_RAW,     /* a = gref, b = domid, c = frame, d = flags -> 0 */
	G_UNBOUND, /* a = remote domid -> port */
	G_NOTIFY,  /* a = port -> 0 / -errno */
	G_WAIT,    /* a = timeout ms -> port / 0 / -errno */
	G_CLOSE,   /* a = port -> 0 / -errno */
	G_PINGPONG, /* a = port, b = rounds: wait, notify back, b times */
	G_EXIT,
};

struct guest {
	int pid;
	int to, from;
	uint32_t domid;
};

/* Fork a child that opens the guest library as domid; 0 or -1. */
int guest_start(struct guest *g, uint32_t domid);
long guest_call(struct guest *g, enum guest_op op, long a, long b, long c,
		long d);
void guest_stop(struct guest *g);

#endif
