// SPDX-License-Identifier: GPL-2.0-only
/*
 * net/rate.c - credit-based transmit rate limit.
 */
#include "net/rate.h"

#include <errno.h>
#include <stdlib.h>

/* Microseconds in a rate interval at most: one hour. */
#define NET_RATE_MAX_USEC 3600000000ull

static int parse_u64(const char *s, char stop, uint64_t *out,
		     const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != stop)
		return -EINVAL;
	*out = v;
	*end = p;
	return 0;
}

int net_rate_parse(const char *s, uint64_t *bytes, uint64_t *usec)
{
	const char *end;

	if (parse_u64(s, ',', bytes, &end) ||
	    parse_u64(end + 1, '\0', usec, &end))
		return -EINVAL;
	if (*usec == 0 || *usec > NET_RATE_MAX_USEC)
		return -EINVAL;
	return 0;
}

void net_rate_init(struct net_rate *r, uint64_t bytes, uint64_t usec,
		   uint64_t now_us)
{
	r->credit_bytes = bytes;
	r->credit_usec = usec;
	r->remaining = bytes;
	r->window_start_us = now_us;
}

void net_rate_change(struct net_rate *r, uint64_t bytes, uint64_t usec)
{
	if (r->credit_bytes == 0 || r->remaining > bytes)
		r->remaining = bytes;
	r->credit_bytes = bytes;
	r->credit_usec = usec;
}

static void add_credit(struct net_rate *r, uint32_t size)
{
	uint64_t burst = r->credit_bytes, max;

	if (burst < NET_RATE_MIN_BURST)
		burst = NET_RATE_MIN_BURST;
	if (burst < size)
		burst = size;
	max = r->remaining + r->credit_bytes;
	if (max < r->remaining) /* wrapped */
		max = UINT64_MAX;
	r->remaining = max < burst ? max : burst;
}

bool net_rate_take(struct net_rate *r, uint64_t now_us, uint32_t size,
		   uint64_t *wake_us)
{
	uint64_t next;

	if (r->credit_bytes == 0)
		return true;
	next = r->window_start_us + r->credit_usec;
	if (now_us >= next) {
		r->window_start_us = now_us;
		add_credit(r, size);
		next = now_us + r->credit_usec;
	}
	if (size > r->remaining) {
		*wake_us = next;
		return false;
	}
	r->remaining -= size;
	return true;
}
