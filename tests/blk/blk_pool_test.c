/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_pool_test - blk/pool.c, a queue's data pages in contiguous runs:
 * runs where the pool has them, aligned so that a 1 MiB run stays inside
 * one 2 MiB huge page, any free pages when it is fragmented, never a page
 * twice, never more than the pool; populated whole before use, and a
 * failure to get the memory reported. PASS/FAIL lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "blk/blk.h"

#define NPAGES BLK_QUEUE_POOL_PAGES

static int failures;

static void check(bool ok, const char *name, const char *why)
{
	if (ok) {
		printf("PASS: %s\n", name);
	} else {
		failures++;
		printf("FAIL: %s %s\n", name, why);
	}
}

static bool is_run(const uint32_t *page, unsigned int n)
{
	unsigned int i;

	for (i = 1; i < n; i++)
		if (page[i] != page[0] + i)
			return false;
	return true;
}

static void t_init(void)
{
	struct blk_pool p;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char thp[128] = "";
	bool thp_on;

	check(blk_pool_init(&p, NPAGES) == 0, "pool: 1024 pages reserved",
	      "init failed");
	check(p.nr_free == NPAGES && p.nr_pages == NPAGES,
	      "pool: all pages free at start", "bad counts");
	check(((uintptr_t)p.base & ((2u << 20) - 1)) == 0,
	      "pool: region aligned to 2 MiB (a huge page)", "misaligned");
	if (f) {
		if (!fgets(thp, sizeof(thp), f))
			thp[0] = 0;
		fclose(f);
	}
	thp_on = f && !strstr(thp, "[never]");
	check(p.huge == thp_on,
	      "pool: MADV_HUGEPAGE taken where transparent huge pages are on",
	      thp);
	blk_pool_destroy(&p);
	blk_pool_destroy(&p);
	check(p.map == NULL, "pool: destroy is idempotent", "map left");
	check(blk_pool_init(&p, 100) == -EINVAL &&
		      blk_pool_init(&p, BLK_POOL_MAX_PAGES + 64) == -EINVAL,
	      "pool: a size not a multiple of 64 or above the bound refused",
	      "accepted");
}

static void t_runs(void)
{
	struct blk_pool p;
	uint32_t a[256], b[256], c[256], d[256], e[256], one[1], el[11];

	blk_pool_init(&p, NPAGES);
	check(blk_pool_take(&p, 1, one) && one[0] == 0,
	      "pool: a single page comes from the bottom", "not page 0");
	check(blk_pool_take(&p, 256, a) && is_run(a, 256) && a[0] == 768,
	      "pool: 1 MiB is one run, 1 MiB-aligned, from the top",
	      "not a run at 768");
	check(blk_pool_take(&p, 11, el) && is_run(el, 11) && el[0] % 16 == 0 &&
		      el[0] < 64,
	      "pool: 11 pages are one run at a multiple of 16, at the bottom",
	      "bad placement");
	check(blk_pool_take(&p, 256, b) && is_run(b, 256) && b[0] == 512 &&
		      blk_pool_take(&p, 256, c) && is_run(c, 256) &&
		      c[0] == 256,
	      "pool: the next 1 MiB runs fill the free aligned blocks",
	      "bad placement");
	/* 256 - 12 pages left at the bottom, in pieces: no run. */
	check(!blk_pool_take(&p, 256, d) && p.nr_free == 1024 - 12 - 768,
	      "pool: a take larger than what is free fails, nothing taken",
	      "took or miscounted");
	blk_pool_put(&p, one, 1);
	blk_pool_put(&p, el, 11);
	check(blk_pool_take(&p, 256, d) && is_run(d, 256) && d[0] == 0,
	      "pool: a block freed whole is a run again", "not a run");
	blk_pool_put(&p, a, 256);
	blk_pool_put(&p, b, 256);
	check(blk_pool_take(&p, 200, e) && is_run(e, 200) && e[0] == 768,
	      "pool: a 200-page run at a 256 boundary", "bad placement");
	blk_pool_put(&p, c, 256);
	blk_pool_put(&p, d, 256);
	blk_pool_put(&p, e, 200);
	check(p.nr_free == NPAGES, "pool: every page back after puts",
	      "count off");
	blk_pool_destroy(&p);
}

static void t_fragmented(void)
{
	static uint32_t all[NPAGES];
	struct blk_pool p;
	uint32_t big[256];
	bool seen[NPAGES] = { false }, ok = true;
	unsigned int i;
	uint64_t scattered;

	blk_pool_init(&p, NPAGES);
	for (i = 0; i < NPAGES; i++)
		ok = ok && blk_pool_take(&p, 1, &all[i]);
	check(ok && p.nr_free == 0 && !blk_pool_take(&p, 1, big),
	      "pool: 1024 single takes empty it, the next fails",
	      "bad count");
	for (i = 0; i < NPAGES; i += 2)
		blk_pool_put(&p, &all[i], 1);
	scattered = p.nr_scattered;
	ok = blk_pool_take(&p, 256, big) && p.nr_scattered == scattered + 1;
	for (i = 0; ok && i < 256; i++) {
		ok = big[i] < NPAGES && big[i] % 2 == 0 && !seen[big[i]];
		if (ok)
			seen[big[i]] = true;
	}
	check(ok, "pool: fragmented, 1 MiB gets 256 distinct free pages",
	      "a page taken twice or not free");
	blk_pool_destroy(&p);
}

/* Random takes and puts: no page owned twice, memory writable, counts. */
static void t_random(void)
{
	static const unsigned int sizes[] = { 1, 1, 2, 8, 11, 32, 64, 65,
					      100, 128, 255, 256 };
	static uint32_t held[128][256];
	static int owner[NPAGES];
	unsigned int n[128] = { 0 }, free_pages = NPAGES, i, k, iter;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	struct blk_pool p;
	bool ok = true;

	blk_pool_init(&p, NPAGES);
	for (i = 0; i < NPAGES; i++)
		owner[i] = -1;
	for (iter = 0; ok && iter < 200000; iter++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		k = (unsigned int)(rng % 128);
		if (n[k]) {
			for (i = 0; i < n[k]; i++) {
				uint32_t pg = held[k][i];

				ok = ok && owner[pg] == (int)k &&
				     blk_pool_addr(&p, pg)[100] == (uint8_t)k;
				owner[pg] = -1;
			}
			blk_pool_put(&p, held[k], n[k]);
			free_pages += n[k];
			n[k] = 0;
			continue;
		}
		n[k] = sizes[(rng >> 20) % (sizeof(sizes) / sizeof(*sizes))];
		if (!blk_pool_take(&p, n[k], held[k])) {
			ok = ok && n[k] > free_pages;
			n[k] = 0;
			continue;
		}
		free_pages -= n[k];
		for (i = 0; ok && i < n[k]; i++) {
			uint32_t pg = held[k][i];

			ok = pg < NPAGES && owner[pg] == -1;
			if (ok) {
				owner[pg] = (int)k;
				blk_pool_addr(&p, pg)[100] = (uint8_t)k;
			}
		}
		ok = ok && p.nr_free == free_pages;
	}
	check(ok, "pool: 200000 random takes and puts, no page given twice",
	      "overlap or miscount");
	check(p.nr_runs > p.nr_scattered,
	      "pool: under a random mix most takes are runs", "mostly scattered");
	blk_pool_destroy(&p);
}

/*
 * blk_pool_contiguous() against the kernel's own count of huge pages in
 * the pool (smaps' AnonHugePages of its mapping): it says yes exactly
 * when all of the pool is in huge pages (THP is madvise or always here;
 * with never, both say no).
 */
static unsigned long anon_huge_kb(const void *addr)
{
	unsigned long lo, hi, kb = 0;
	bool in = false;
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = lo <= (unsigned long)addr && (unsigned long)addr < hi;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static void t_contiguous(void)
{
	struct blk_pool p;
	unsigned long kb;
	bool c;
	char why[96];

	if (blk_pool_init(&p, NPAGES) < 0) {
		check(false, "contiguous: pool set up", "init failed");
		return;
	}
	check(blk_pool_populate(&p) == 0, "contiguous: pool populated",
	      "populate failed");
	c = blk_pool_contiguous(&p);
	kb = anon_huge_kb(p.base);
	snprintf(why, sizeof(why), "(contiguous %d, AnonHugePages %lu kB)", c,
		 kb);
	check(c == (kb >= NPAGES * 4ul), "contiguous: says yes exactly when "
	      "the whole pool is in huge pages", why);
	blk_pool_destroy(&p);
	memset(&p, 0, sizeof(p));
	check(!blk_pool_contiguous(&p), "contiguous: not an empty pool", "");
}

/* Pages of the pool resident now (mincore: anonymous memory counts once
 * faulted in). */
static unsigned int resident(const struct blk_pool *p)
{
	unsigned char v[NPAGES];
	unsigned int i, n = 0;

	if (mincore(p->base, (size_t)p->nr_pages * 4096, v) < 0)
		return 0;
	for (i = 0; i < p->nr_pages; i++)
		n += v[i] & 1;
	return n;
}

/*
 * blk_pool_populate(): every page faulted in before any use (nothing
 * left for the hot path to fault), and memory it cannot have is an
 * error, not a crash (a page of the range unmapped stands in for the
 * memory the kernel cannot give).
 */
static void t_populate(void)
{
	struct blk_pool p;
	char why[64];
	unsigned int before, after;
	int rc;

	if (blk_pool_init(&p, NPAGES) < 0) {
		check(false, "populate: pool set up", "init failed");
		return;
	}
	before = resident(&p);
	rc = blk_pool_populate(&p);
	after = resident(&p);
	snprintf(why, sizeof(why), "(rc %d, resident %u then %u of %u)", rc,
		 before, after, NPAGES);
	check(before == 0 && rc == 0 && after == NPAGES,
	      "populate: no page resident after init, all after populate",
	      why);
	blk_pool_destroy(&p);

	if (blk_pool_init(&p, NPAGES) < 0) {
		check(false, "populate: pool set up", "init failed");
		return;
	}
	munmap(p.base + 512 * 4096, 4096);
	rc = blk_pool_populate(&p);
	snprintf(why, sizeof(why), "(rc %d)", rc);
	check(rc == -ENOMEM,
	      "populate: memory it cannot have is -ENOMEM, not a crash", why);
	blk_pool_destroy(&p);
	memset(&p, 0, sizeof(p));
	check(blk_pool_populate(&p) == -EINVAL,
	      "populate: an empty pool is -EINVAL", "");
}

int main(void)
{
	t_populate();
	t_contiguous();
	t_init();
	t_runs();
	t_fragmented();
	t_random();
	return failures ? 1 : 0;
}
