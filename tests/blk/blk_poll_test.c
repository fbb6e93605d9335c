/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_poll_test.c - the adaptive polling budget of a blk queue (blk/poll.c)
 * and its operator setting, vbd-poll-us / XENBACKD_BLK_POLL_US. PASS:/FAIL:
 * lines.
 */
#include "blk/blk.h"
#include "backend/config.h"

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

/* The maximum blk_poll_max_us() gives with this configuration text and
 * XENBACKD_BLK_POLL_US (NULL: unset); *warned: the warning, if any. */
static unsigned int max_with(const char *text, const char *env,
			     char *warned, size_t len)
{
	static const struct xb_kind *const kinds[] = { &blk_kind, NULL };
	static struct xb_config cfg;
	char err[XB_CONFIG_ERR_MAX];

	xb_config_defaults(&cfg);
	cfg.known = kinds;
	if (xb_config_parse(&cfg, text, strlen(text), "t.conf", err,
			    sizeof(err))) {
		snprintf(warned, len, "refused: %.200s", err);
		return ~0u;
	}
	if (env)
		setenv("XENBACKD_BLK_POLL_US", env, 1);
	else
		unsetenv("XENBACKD_BLK_POLL_US");
	xb_config_apply_env(&cfg);
	unsetenv("XENBACKD_BLK_POLL_US");
	snprintf(warned, len, "%s", cfg.nr_warnings ? cfg.warnings[0] : "");
	xb_config_use(&cfg);
	return blk_poll_max_us();
}

static void test_setting(void)
{
	char w[XB_CONFIG_ERR_MAX];
	unsigned int v;

	xb_config_use(NULL);
	v = blk_poll_max_us();
	check(v == BLK_POLL_DEFAULT_US, "no configuration: the default", "%u",
	      v);
	v = max_with("", NULL, w, sizeof(w));
	check(v == BLK_POLL_DEFAULT_US && !w[0], "unset: the default",
	      "%u '%s'", v, w);
	v = max_with("vbd-poll-us = 0\n", NULL, w, sizeof(w));
	check(v == 0 && !w[0], "vbd-poll-us = 0 turns polling off", "%u", v);
	v = max_with("vbd-poll-us = 200\n", NULL, w, sizeof(w));
	check(v == 200, "vbd-poll-us = 200 is taken", "%u", v);
	v = max_with("\nvbd-poll-us = 20us\n", NULL, w, sizeof(w));
	check(v == BLK_POLL_DEFAULT_US &&
		      !strcmp(w, "t.conf:2: vbd-poll-us = '20us' is not a number of microseconds from 0 to 1000: ignored (the default is 50)"),
	      "a bad value: the default, one warning with file and line",
	      "%u '%s'", v, w);
	v = max_with("vbd-poll-us = 5000\n", NULL, w, sizeof(w));
	check(v == BLK_POLL_DEFAULT_US && strstr(w, "'5000'"),
	      "beyond the maximum: the default, warned", "%u '%s'", v, w);
	v = max_with("vbd-poll-us = -1\n", NULL, w, sizeof(w));
	check(v == BLK_POLL_DEFAULT_US && strstr(w, "'-1'"),
	      "negative: the default, warned", "%u '%s'", v, w);
	v = max_with("vbd-poll-us = 200\n", "300", w, sizeof(w));
	check(v == 300, "XENBACKD_BLK_POLL_US over the file", "%u", v);
	v = max_with("vbd-poll-us = 200\n", "20us", w, sizeof(w));
	check(v == 200 && strstr(w, "environment: XENBACKD_BLK_POLL_US='20us' (vbd-poll-us) is not"),
	      "a bad XENBACKD_BLK_POLL_US: the file's value, warned",
	      "%u '%s'", v, w);
	xb_config_use(NULL);
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
