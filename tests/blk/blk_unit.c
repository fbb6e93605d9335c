/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_unit - unit tests of blk/'s pure parts: whether the running
 * kernel's BLKSECDISCARD can be probed without erasing (Linux 5.19 and
 * later check the device's support before the range); how a discard is
 * cut into calls (granule boundaries, the chunk adapting to the time a
 * call takes); which reads go through the pool in map mode (large reads:
 * the rule, and a Xen PV domain told by /sys/hypervisor/guest_type, here
 * files standing in for it). PASS/FAIL lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* guest_type holding content (NULL: no such file) says PV or not. */
static void pv_case(const char *label, const char *content, bool want)
{
	char path[] = "/tmp/xb-blkunit.XXXXXX";
	int fd = mkstemp(path);
	bool got;

	if (fd < 0 || (content && write(fd, content, strlen(content)) < 0)) {
		failures++;
		printf("FAIL: guest_type %s: cannot write a file\n", label);
		return;
	}
	close(fd);
	if (!content)
		unlink(path);
	got = blk_xen_pv_domain(path);
	unlink(path);
	if (got == want) {
		printf("PASS: guest_type %s: %s\n", label,
		       want ? "a PV domain" : "not PV");
		return;
	}
	failures++;
	printf("FAIL: guest_type %s: %s (got %s)\n", label,
	       want ? "PV" : "not PV", got ? "PV" : "not PV");
}

static void rule_case(const char *name, bool chosen_auto, bool pv,
		      unsigned int limit, unsigned int want,
		      const char *want_why)
{
	char why[BLK_DATA_WHY_MAX];
	unsigned int got = blk_large_reads_rule(chosen_auto, pv, limit, "vda",
						why, sizeof(why));

	if (got == want && !strcmp(why, want_why)) {
		printf("PASS: large reads: %s: over %u (%s)\n", name, want, why);
		return;
	}
	failures++;
	printf("FAIL: large reads: %s: over %u (%s), got %u (%s)\n", name,
	       want, want_why, got, why);
}

static void large_reads_cases(void)
{
	pv_case("PV", "PV\n", true);
	pv_case("PV without a newline", "PV", true);
	pv_case("PVH", "PVH\n", false);
	pv_case("HVM", "HVM\n", false);
	pv_case("empty", "", false);
	pv_case("absent (not Xen)", NULL, false);
	rule_case("auto, a disk of 254", true, false, 254, 254,
		  "reads-over-254-segments-of-vda");
	rule_case("auto, a loop device's 128", true, false, 128, 128,
		  "reads-over-128-segments-of-vda");
	rule_case("auto in a PV domain", true, true, 254, 0, "xen-pv-domain");
	rule_case("vbd-data = map", false, false, 254, 0, "vbd-data=map");
	rule_case("data in memory", true, false, 0, 0,
		  "no-disk-under-the-backing");
	rule_case("a disk taking every request whole", true, false,
		  BLK_MAX_INDIRECT_SEGS, 0, "vda-takes-256-segments");
}

int main(void)
{
	large_reads_cases();
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
