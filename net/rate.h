/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * net/rate.h - credit-based transmit rate limit, as Linux netback does it.
 *
 * The toolstack's `rate` node gives "<bytes>,<microseconds>": a queue may
 * send that many bytes per interval. Credit is replenished once per
 * interval, capped at a burst of max(128 KiB, bytes) (or the packet in
 * hand, so a large packet is never starved); a packet larger than the
 * credit waits for the next replenishment.
 */
#ifndef XB_NET_RATE_H
#define XB_NET_RATE_H

#include <stdbool.h>
#include <stdint.h>

#define NET_RATE_MIN_BURST 131072u

struct net_rate {
	uint64_t credit_bytes; /* 0: unlimited */
	uint64_t credit_usec;
	uint64_t remaining;
	uint64_t window_start_us;
};

/* Parse "<bytes>,<usec>"; 0 or -EINVAL. bytes 0 means unlimited. */
int net_rate_parse(const char *s, uint64_t *bytes, uint64_t *usec);

void net_rate_init(struct net_rate *r, uint64_t bytes, uint64_t usec,
		   uint64_t now_us);

/*
 * A new limit while running (the toolstack rewrote `rate`), as netback:
 * the interval goes on, the credit left is capped at the new allowance.
 */
void net_rate_change(struct net_rate *r, uint64_t bytes, uint64_t usec);

/*
 * May a packet of size bytes go now? If so its bytes are charged. If not,
 * *wake_us is the time at which credit comes back.
 */
bool net_rate_take(struct net_rate *r, uint64_t now_us, uint32_t size,
		   uint64_t *wake_us);

#endif
