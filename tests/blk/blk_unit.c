/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_unit - unit tests of blk/'s pure parts: whether the running
 * kernel's BLKSECDISCARD can be probed without erasing (Linux 5.19 and
 * later check the device's support before the range). PASS/FAIL lines.
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

int main(void)
{
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
