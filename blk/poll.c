/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk/poll.c - adaptive busy-polling of a queue before its worker sleeps.
 *
 * On a virtual machine, waking a thread whose CPU went idle costs a trip
 * through the host; a frontend at queue depth 1 makes the worker sleep
 * twice per request (for the request, then for the disk). Before sleeping,
 * the worker may instead watch the ring's producer index and libaio's
 * completion ring (both in memory) for a while, as QEMU's AioContext
 * polling does. How long adapts, separately for "nothing in flight"
 * (waiting for the guest) and "I/O in flight" (waiting for the disk or
 * the guest): after each sleep, a wait that polling for up to the maximum
 * would have caught doubles that state's budget (from BLK_POLL_MIN_NS), a
 * longer one halves it (to 0 below the minimum). An idle queue thus stops
 * polling after a few long sleeps, and a queue with no I/O never wakes.
 */
#include "blk/blk.h"

#include <errno.h>
#include <stdlib.h>

void blk_poll_adapt(struct blk_poll *p, unsigned int state,
		    uint64_t waited_ns)
{
	uint32_t *b = &p->ns[state];

	if (waited_ns <= *b)
		return; /* polling caught it, or would have */
	if (waited_ns > p->max_ns) {
		*b /= 2;
		if (*b < BLK_POLL_MIN_NS)
			*b = 0;
	} else if (*b < p->max_ns) {
		*b = *b ? *b * 2 : BLK_POLL_MIN_NS;
		if (*b > p->max_ns)
			*b = p->max_ns;
	}
}

/* A number of microseconds from 0 to BLK_POLL_MAX_US, digits only. */
static bool parse_poll_us(const char *v, unsigned int *us)
{
	unsigned long n;
	char *end;

	if (!v || *v < '0' || *v > '9')
		return false;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n > BLK_POLL_MAX_US)
		return false;
	*us = (unsigned int)n;
	return true;
}

bool blk_poll_us_valid(const char *value)
{
	unsigned int us;

	return parse_poll_us(value, &us);
}

unsigned int blk_poll_max_us(void)
{
	unsigned int us;

	/* The core hands out only values blk_poll_us_valid() accepted. */
	if (!parse_poll_us(xb_setting_get(&blk_kind, "poll-us", NULL), &us))
		return BLK_POLL_DEFAULT_US;
	return us;
}
