/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_poll_test.c - the adaptive polling budget of a blk queue (blk/poll.c)
 * and its operator setting, XENBACKD_BLK_POLL_US. PASS:/FAIL: lines.
 */
#include "blk/blk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS: blk poll: %s\n", name);
		return;
	}
	printf("FAIL: blk poll: %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures++;
}

static struct blk_poll fresh(uint32_t max_us)
{
	struct blk_poll p;

	memset(&p, 0, sizeof(p));
	p.max_ns = max_us * 1000u;
	return p;
}

static void test_grows_to_max(void)
{
	struct blk_poll p = fresh(50);
	uint32_t seen[8];
	unsigned int i;

	/* Each request arrives 45 us after the worker went idle. */
	for (i = 0; i < 8; i++) {
		blk_poll_adapt(&p, BLK_POLL_RING, 45000);
		seen[i] = p.ns[BLK_POLL_RING];
	}
	check(seen[0] == BLK_POLL_MIN_NS && seen[1] == 2 * BLK_POLL_MIN_NS &&
		      seen[2] == 4 * BLK_POLL_MIN_NS,
	      "short waits double the budget from the minimum",
	      "%u %u %u", seen[0], seen[1], seen[2]);
	check(seen[4] == 50000 && seen[7] == 50000,
	      "the budget stops at the maximum", "%u %u", seen[4], seen[7]);
	check(p.ns[BLK_POLL_IO] == 0, "the other state keeps its own budget",
	      "%u", p.ns[BLK_POLL_IO]);

	/* 20 us: the budget stops growing once it covers the wait. */
	p = fresh(50);
	for (i = 0; i < 8; i++)
		blk_poll_adapt(&p, BLK_POLL_RING, 20000);
	check(p.ns[BLK_POLL_RING] == 32000,
	      "the budget grows only until it covers the wait", "%u",
	      p.ns[BLK_POLL_RING]);
}

static void test_caught_keeps(void)
{
	struct blk_poll p = fresh(50);

	p.ns[BLK_POLL_IO] = 32000;
	blk_poll_adapt(&p, BLK_POLL_IO, 10000);
	check(p.ns[BLK_POLL_IO] == 32000,
	      "a wait polling caught leaves the budget as it is", "%u",
	      p.ns[BLK_POLL_IO]);
}

static void test_idle_stops(void)
{
	struct blk_poll p = fresh(50);
	unsigned int i;

	p.ns[BLK_POLL_RING] = 50000;
	blk_poll_adapt(&p, BLK_POLL_RING, 5000000000ull);
	check(p.ns[BLK_POLL_RING] == 25000, "a wait beyond the maximum halves it",
	      "%u", p.ns[BLK_POLL_RING]);
	for (i = 0; i < 4; i++)
		blk_poll_adapt(&p, BLK_POLL_RING, 5000000000ull);
	check(p.ns[BLK_POLL_RING] == 0,
	      "an idle queue stops polling after a few long sleeps", "%u",
	      p.ns[BLK_POLL_RING]);
}

static void test_off(void)
{
	struct blk_poll p = fresh(0);
	unsigned int i;

	for (i = 0; i < 4; i++)
		blk_poll_adapt(&p, BLK_POLL_RING, 1000);
	check(p.ns[BLK_POLL_RING] == 0, "a maximum of 0 never polls", "%u",
	      p.ns[BLK_POLL_RING]);
}

static void test_setting(void)
{
	struct xb_device dev;
	unsigned int v;

	memset(&dev, 0, sizeof(dev));
	snprintf(dev.name, sizeof(dev.name), "vbd/1/51712");
	unsetenv("XENBACKD_BLK_POLL_US");
	v = blk_poll_max_us(&dev);
	check(v == BLK_POLL_DEFAULT_US, "unset: the default", "%u", v);
	setenv("XENBACKD_BLK_POLL_US", "0", 1);
	v = blk_poll_max_us(&dev);
	check(v == 0, "0 turns polling off", "%u", v);
	setenv("XENBACKD_BLK_POLL_US", "200", 1);
	v = blk_poll_max_us(&dev);
	check(v == 200, "a number is taken", "%u", v);
	setenv("XENBACKD_BLK_POLL_US", "20us", 1);
	v = blk_poll_max_us(&dev);
	check(v == BLK_POLL_DEFAULT_US, "a bad value gives the default (logged)",
	      "%u", v);
	setenv("XENBACKD_BLK_POLL_US", "5000", 1);
	v = blk_poll_max_us(&dev);
	check(v == BLK_POLL_DEFAULT_US,
	      "beyond the maximum gives the default (logged)", "%u", v);
	unsetenv("XENBACKD_BLK_POLL_US");
}

int main(void)
{
	test_grows_to_max();
	test_caught_keeps();
	test_idle_stops();
	test_off();
	test_setting();
	return failures ? 1 : 0;
}
