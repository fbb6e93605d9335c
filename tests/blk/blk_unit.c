/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_unit - unit tests of blk/'s pure parts: whether the running
 * kernel's BLKSECDISCARD can be probed without erasing (Linux 5.19 and
 * later check the device's support before the range); how a discard is
 * cut into calls (granule boundaries, the chunk adapting to the time a
 * call takes). PASS/FAIL lines.
 */
#include <stdio.h>

#include "blk/blk.h"

static int failures;

static void secdiscard_case(const char *release, bool want)
{
	bool got = blk_secdiscard_checks_support_first(release);

	if (got == want) {
		printf("PASS: secure discard probe trusted on '%s': %s\n",
		       release, want ? "yes" : "no");
		return;
	}
	failures++;
	printf("FAIL: secure discard probe trusted on '%s': %s (got %s)\n",
	       release, want ? "yes" : "no", got ? "yes" : "no");
}

static void check(bool ok, const char *name, unsigned long long got)
{
	if (ok) {
		printf("PASS: %s\n", name);
		return;
	}
	failures++;
	printf("FAIL: %s (got %llu)\n", name, got);
}

#define MIB (1ull << 20)

/* The calls a whole discard is cut into, each ending on a granule. */
static void chunk_cases(void)
{
	struct blk_backing file = { .discard_granularity = 4096 };
	struct blk_backing dev = { .discard_granularity = 3 * MIB,
				   .discard_alignment = 512 * 1024 };
	uint64_t e, off, end, calls = 0;
	bool aligned = true, grows = true;

	e = blk_discard_chunk_end(&file, 16 * MIB, 0, 1ull << 40);
	check(e == 16 * MIB, "discard chunk: 16 MiB from 0 on a file", e);
	e = blk_discard_chunk_end(&file, 16 * MIB, 4096 + 512, 1ull << 40);
	check(e == 16 * MIB + 4096, "discard chunk: back to a 4 KiB boundary",
	      e);
	e = blk_discard_chunk_end(&file, 16 * MIB, 100, 100 + 16 * MIB - 8);
	check(e == 100 + 16 * MIB - 8, "discard chunk: a short tail is one call",
	      e);
	/* Granules of 3 MiB starting at 512 KiB: every end but the last on
	 * one, each call past the one before. */
	off = 1000 * 512;
	end = off + 100 * MIB + 4096;
	while (off < end && calls < 1000) {
		e = blk_discard_chunk_end(&dev, 16 * MIB, off, end);
		grows &= e > off && e - off <= 16 * MIB;
		if (e != end)
			aligned &= (e - 512 * 1024) % (3 * MIB) == 0;
		off = e;
		calls++;
	}
	check(off == end && grows && aligned,
	      "discard chunk: 3 MiB granules at 512 KiB, ends on granules",
	      calls);
	e = blk_discard_chunk_end(&dev, MIB, 0, 1ull << 40);
	check(e > 0 && (e - 512 * 1024) % (3 * MIB) == 0,
	      "discard chunk: granules larger than the chunk: one at least", e);
}

static void pace_cases(void)
{
	const uint64_t ms = 1000000;
	uint64_t c;

	c = blk_discard_pace(16 * MIB, 16 * MIB, 1 * ms);
	check(c == 32 * MIB, "discard pace: a quick chunk doubles", c);
	c = blk_discard_pace(16 * MIB, 8 * 1024, 1 * ms);
	check(c == 16 * MIB, "discard pace: a quick small tail keeps it", c);
	c = blk_discard_pace(16 * MIB, 16 * MIB, 60 * ms);
	check(c == 16 * MIB, "discard pace: a call near the aim keeps it", c);
	c = blk_discard_pace(16 * MIB, 16 * MIB, 400 * ms);
	check(c == 4 * MIB, "discard pace: four times too slow: a quarter", c);
	c = blk_discard_pace(16 * MIB, 16 * MIB, 60000 * ms);
	check(c == BLK_DISCARD_CHUNK_MIN, "discard pace: never below 1 MiB",
	      c);
	c = blk_discard_pace(BLK_DISCARD_CHUNK_MAX, BLK_DISCARD_CHUNK_MAX, 0);
	check(c == BLK_DISCARD_CHUNK_MAX, "discard pace: never above 1 GiB", c);
}

int main(void)
{
	chunk_cases();
	pace_cases();
	secdiscard_case("6.1.0-27-amd64", true);	/* Debian 12 */
	secdiscard_case("5.19.0", true);
	secdiscard_case("5.19", true);
	secdiscard_case("6.0.19", true);
	secdiscard_case("10.0.0", true);
	secdiscard_case("5.18.19", false);
	secdiscard_case("5.10.0-30-amd64", false);	/* Debian 11 */
	secdiscard_case("5.4.0", false);
	secdiscard_case("4.19.0-26-amd64", false);	/* Debian 10 */
	secdiscard_case("3.16", false);
	secdiscard_case("", false);
	secdiscard_case("linux", false);
	secdiscard_case("5", false);
	return failures ? 1 : 0;
}
