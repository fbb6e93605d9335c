/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_pgrant_test.c - the guest pages a blk queue maps in map mode
 * (blk/pgrant.c), against a recording stand-in for libxengnttab's map
 * and unmap that holds them to what the real library accepts: an unmap
 * names exactly the start and count one map call gave (libxengnttab's
 * xengnttab_unmap() compares the count with the whole gntdev map's, and
 * gntdev finds the map by its first index and count). PASS:/FAIL: lines.
 */
#include "blk/blk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE RING_BLKIF_PAGE_SIZE
#define DOMID 7
/* References at or above this one are refused, as bad grants. */
#define BAD_REF 0xf0000000u

static int failures;
/* The ASan/UBSan build says so in its lines. */
static const char *suite = "blk pgrant";

static void check(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS: %s: %s\n", suite, name);
		return;
	}
	printf("FAIL: %s: %s: ", suite, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures++;
}

/* ---- the stand-in: every mapping made, and what was asked ---------------- */

#define MAX_MAPS 4096
static struct {
	uint8_t *addr;
	uint32_t count;
	uint32_t refs[BLK_MAX_INDIRECT_SEGS];
} maps[MAX_MAPS];
static unsigned int nr_maps, map_calls, bad_unmaps;
static long live_pages;
static uint32_t last_map_count;

void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count,
				      uint32_t domid, uint32_t *refs,
				      int prot);
int xengnttab_unmap(xengnttab_handle *xgt, void *start_address,
		    uint32_t count);

void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count,
				      uint32_t domid, uint32_t *refs,
				      int prot)
{
	uint8_t *addr;
	uint32_t i;

	(void)xgt;
	(void)prot;
	map_calls++;
	last_map_count = count;
	if (domid != DOMID || !count || count > BLK_MAX_INDIRECT_SEGS ||
	    nr_maps == MAX_MAPS) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < count; i++)
		if (refs[i] >= BAD_REF) {
			errno = EINVAL; /* gntdev: one failed op fails all */
			return NULL;
		}
	addr = mmap(NULL, (size_t)count * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (addr == MAP_FAILED)
		return NULL;
	for (i = 0; i < count; i++) /* each page says which ref it is */
		memcpy(addr + (size_t)i * PAGE, &refs[i], sizeof(refs[i]));
	maps[nr_maps].addr = addr;
	maps[nr_maps].count = count;
	memcpy(maps[nr_maps].refs, refs, count * sizeof(*refs));
	nr_maps++;
	live_pages += count;
	return addr;
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address,
		    uint32_t count)
{
	unsigned int i;

	(void)xgt;
	for (i = 0; i < nr_maps; i++)
		if (maps[i].addr == start_address && maps[i].count == count)
			break;
	if (i == nr_maps) {
		bad_unmaps++;
		errno = EINVAL;
		return -1;
	}
	munmap(maps[i].addr, (size_t)count * PAGE);
	live_pages -= count;
	maps[i] = maps[--nr_maps];
	return 0;
}

/* Is gref mapped at page? (Its first bytes name the ref.) */
static bool page_is(const uint8_t *page, uint32_t gref)
{
	uint32_t v;

	if (!page)
		return false;
	memcpy(&v, page, sizeof(v));
	return v == gref;
}

/* ---- helpers -------------------------------------------------------------- */

static xengnttab_handle *const gt = (xengnttab_handle *)&maps;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t blkrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static struct ring_blkif_seg seg[BLK_MAX_INDIRECT_SEGS];
static uint8_t *page[BLK_MAX_INDIRECT_SEGS];

static void segs(unsigned int n, uint32_t first_ref, int step)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		seg[i].gref = (uint32_t)((int)first_ref + step * (int)i);
		seg[i].first_sect = 0;
		seg[i].last_sect = 7;
	}
}

static int map_req(struct blk_pgrants *c, unsigned int n,
		   struct blk_pgrant_hold *h)
{
	return blk_pgrants_map_request(c, gt, DOMID, seg, n,
				       PROT_READ | PROT_WRITE, page, h);
}

static bool all_adjacent(unsigned int n)
{
	unsigned int i;

	for (i = 1; i < n; i++)
		if (page[i] != page[0] + (size_t)i * PAGE)
			return false;
	return true;
}

static bool all_right(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!page_is(page[i], seg[i].gref))
			return false;
	return true;
}

static long counted(void)
{
	return xb_res_get(DOMID, XB_RES_GRANTS);
}

static struct blk_pgrant_hold h[8];

/* n grants from first, in order, mapped and answered: one batch. */
static void batch_of(struct blk_pgrants *c, unsigned int n, uint32_t first)
{
	segs(n, first, 1);
	map_req(c, n, &h[7]);
	blk_pgrants_release(c, gt, DOMID, &h[7]);
}

/* The segments in seg[] requested into h[k], map calls counted from 0. */
static int request(struct blk_pgrants *c, unsigned int n, unsigned int k)
{
	map_calls = 0;
	return map_req(c, n, &h[k]);
}

/* What a failed check shows: the request's answer and the set's state. */
static const char *state(int rc, const struct blk_pgrants *c)
{
	static char s[256];

	snprintf(s, sizeof(s),
		 "rc %d, %u map calls (the last of %u pages), %u in the set, "
		 "%ld pages live, %llu twins (%llu segments, %llu dropped), "
		 "%llu evictions",
		 rc, map_calls, last_map_count, c->mapped, live_pages,
		 (unsigned long long)c->twins,
		 (unsigned long long)c->twin_segs,
		 (unsigned long long)c->twin_drops,
		 (unsigned long long)c->evictions);
	return s;
}

/* Everything unmapped, each mapping whole, the domain's count back to 0. */
static void check_nothing_left(const char *name)
{
	check(live_pages == 0 && !bad_unmaps && counted() == 0, name,
	      "%ld pages live, %u bad unmaps, %ld counted", live_pages,
	      bad_unmaps, counted());
}

/* Batches first..first + n - 1 of 256 grants each (batch k: grants
 * 1 + 1000 k to 256 + 1000 k), mapped in that order. */
static void add_batches(struct blk_pgrants *c, unsigned int first,
			unsigned int n)
{
	unsigned int k;

	for (k = first; k < first + n; k++)
		batch_of(c, 256, 1 + k * 1000);
}

/* A new set of max grants holding batches 0..n - 1. */
static void set_of_batches(struct blk_pgrants *c, unsigned int max,
			   unsigned int n)
{
	blk_pgrants_init(c, max);
	add_batches(c, 0, n);
}

/* ---- cases ----------------------------------------------------------------- */

static void test_own(void)
{
	struct blk_pgrants c;
	int rc;

	blk_pgrants_init(&c, 0);
	segs(256, 1000, 1);
	rc = request(&c, 256, 0);
	check(rc == 0 && map_calls == 1 && last_map_count == 256,
	      "no persistence: 256 grants mapped in one call",
	      "%s", state(rc, &c));
	check(all_adjacent(256) && all_right(256),
	      "no persistence: pages adjacent, in segment order", "no");
	check(h[0].own && h[0].own_count == 256 && !h[0].nr_pins,
	      "no persistence: the mapping is the request's own", "own %p",
	      (void *)h[0].own);
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	check_nothing_left("no persistence: unmapped whole when answered");

	/* A grant given twice is mapped once; both segments see it. */
	seg[2].gref = seg[0].gref;
	rc = request(&c, 4, 0);
	check(rc == 0 && map_calls == 1 && last_map_count == 3 &&
		      page[2] == page[0] && all_right(4),
	      "a grant given twice in a request is mapped once",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);

	/* One bad reference in the middle: nothing mapped, nothing held. */
	segs(64, 2000, 1);
	seg[31].gref = BAD_REF + 1;
	rc = map_req(&c, 64, &h[0]);
	check(rc < 0 && live_pages == 0 && !h[0].own && !h[0].nr_pins &&
		      counted() == 0,
	      "a bad reference in the middle: refused, nothing mapped",
	      "%s", state(rc, &c));
	blk_pgrants_destroy(&c, gt);
}

static void test_persistent(void)
{
	struct blk_pgrants c;
	uint8_t *first[256];
	unsigned int i;
	bool same = true;
	int rc;

	blk_pgrants_init(&c, BLK_MAX_PGRANTS);
	segs(256, 1, 1);
	rc = request(&c, 256, 0);
	check(rc == 0 && map_calls == 1 && last_map_count == 256 &&
		      all_adjacent(256) && all_right(256) && !h[0].own,
	      "persistent: a request's new grants in one call, kept",
	      "%s", state(rc, &c));
	memcpy(first, page, sizeof(first));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	check(live_pages == 256, "persistent: kept mapped after the answer",
	      "%ld pages live", live_pages);

	rc = request(&c, 256, 0);
	check(rc == 0 && map_calls == 0 && all_adjacent(256) &&
		      page[0] == first[0],
	      "persistent: the same grants again: no map call, one range",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);

	/* Reused in reverse (Linux blkfront's free list is LIFO): the
	 * batch's twin, mapped once, in one range. */
	segs(256, 256, -1);
	rc = request(&c, 256, 0);
	for (i = 0; i < 256; i++)
		same &= page[i] != first[255 - i];
	check(rc == 0 && map_calls == 1 && last_map_count == 256 && same &&
		      all_adjacent(256) && all_right(256) && c.twins == 1 &&
		      c.twin_segs == 256,
	      "persistent: grants reused in reverse: a twin, one range",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	rc = request(&c, 256, 0);
	check(rc == 0 && map_calls == 0 && all_adjacent(256) &&
		      all_right(256),
	      "persistent: reversed again: the twin, no map call",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	segs(256, 1, 1);
	rc = request(&c, 256, 0);
	check(rc == 0 && map_calls == 0 && page[0] == first[0] &&
		      all_adjacent(256),
	      "persistent: in order again: the batch itself",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	/* Grants reused in other positions, not reversed: their pages. */
	for (i = 0; i < 256; i++)
		seg[i].gref = 1 + (i * 37) % 256;
	rc = request(&c, 256, 0);
	check(rc == 0 && map_calls == 0 && all_right(256),
	      "persistent: grants reused in other positions: their pages",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);

	/* Half known, half new: the new half in one call. */
	segs(256, 129, 1);
	rc = request(&c, 256, 0);
	check(rc == 0 && map_calls == 1 && last_map_count == 128 &&
		      all_right(256) &&
		      page[128] + 127 * PAGE == page[255],
	      "persistent: only the new grants mapped, adjacent",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);

	/* Known grants and a bad new one: refused, the known ones freed. */
	segs(16, 1, 1);
	seg[8].gref = BAD_REF;
	rc = map_req(&c, 16, &h[0]);
	check(rc < 0 && !h[0].nr_pins && live_pages == 640 &&
		      c.mapped == 640,
	      "persistent: a bad reference among known ones: refused",
	      "rc %d, %u pins, %ld live", rc, h[0].nr_pins, live_pages);
	blk_pgrants_destroy(&c, gt);
	check_nothing_left("persistent: everything unmapped when the queue goes");
}

static void test_bound(void)
{
	struct blk_pgrants c;
	long most = 0;
	unsigned int r, i;
	int rc = 0;

	blk_pgrants_init(&c, BLK_MAX_PGRANTS);
	/* 40 requests of 256 new grants each, answered one by one. */
	for (r = 0; r < 40 && rc == 0; r++) {
		segs(256, 10000 + r * 256, 1);
		rc = map_req(&c, 256, &h[0]);
		if (live_pages > most)
			most = live_pages;
		rc |= !all_right(256) || h[0].own;
		blk_pgrants_release(&c, gt, DOMID, &h[0]);
	}
	check(rc == 0 && most <= BLK_MAX_PGRANTS && !bad_unmaps,
	      "bound: 10240 grants through a set of 1056",
	      "rc %d, at most %ld mapped, %u bad unmaps", rc, most,
	      bad_unmaps);
	check(c.evictions > 0 && c.mapped <= BLK_MAX_PGRANTS,
	      "bound: least recently used batches unmapped whole",
	      "%llu evictions", (unsigned long long)c.evictions);

	/* Four requests in flight on 1024 new grants: their batches stay. */
	for (i = 0; i < 4; i++) {
		segs(256, 30000 + i * 256, 1);
		rc |= map_req(&c, 256, &h[i]);
	}
	segs(256, 40000, 1);
	rc |= map_req(&c, 256, &h[4]);
	check(rc == 0 && h[4].own && all_right(256) &&
		      c.mapped <= BLK_MAX_PGRANTS,
	      "bound: a set full of batches in use: the request maps its own",
	      "rc %d, own %p, %u in the set", rc, (void *)h[4].own,
	      c.mapped);
	for (i = 0; i < 4; i++) {
		segs(256, 30000 + i * 256, 1);
		rc |= map_req(&c, 256, &h[5]);
		rc |= !all_right(256);
		blk_pgrants_release(&c, gt, DOMID, &h[5]);
	}
	check(rc == 0, "bound: batches in use were not unmapped under I/O",
	      "rc %d", rc);
	blk_pgrants_release(&c, gt, DOMID, &h[4]);
	check(live_pages == (long)c.mapped,
	      "bound: the request's own mapping goes with its answer",
	      "%ld live, %u in the set", live_pages, c.mapped);
	for (i = 0; i < 4; i++)
		blk_pgrants_release(&c, gt, DOMID, &h[i]);
	/* Idle now: a new request makes room by unmapping old batches. */
	segs(256, 50000, 1);
	rc = map_req(&c, 256, &h[0]);
	check(rc == 0 && !h[0].own && c.mapped <= BLK_MAX_PGRANTS,
	      "bound: once idle, old batches make room", "rc %d, own %p", rc,
	      (void *)h[0].own);
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	blk_pgrants_destroy(&c, gt);
	check_nothing_left("bound: nothing left mapped, every unmap whole");
}

/* A grant given twice, and given again by later requests, in the set. */
static void test_duplicates(void)
{
	struct blk_pgrants c;
	int rc;

	blk_pgrants_init(&c, BLK_MAX_PGRANTS);
	segs(8, 500, 1);
	seg[5].gref = 501;
	seg[7].gref = 501;
	rc = request(&c, 8, 0);
	check(rc == 0 && map_calls == 1 && last_map_count == 6 &&
		      page[5] == page[1] && page[7] == page[1] && all_right(8),
	      "persistent: a grant given three times is mapped once",
	      "%s", state(rc, &c));
	rc = map_req(&c, 8, &h[1]); /* the same request, in flight twice */
	check(rc == 0 && h[1].nr_pins == 8 && all_right(8),
	      "persistent: two requests in flight on the same grants",
	      "rc %d, %u pins", rc, h[1].nr_pins);
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	blk_pgrants_release(&c, gt, DOMID, &h[1]);
	check(c.b[c.head].pins == 0 && c.mapped == 6,
	      "persistent: pins dropped with the answers", "%u pins",
	      c.b[c.head].pins);
	blk_pgrants_destroy(&c, gt);
	check_nothing_left("duplicates: nothing left");
}

/* Twins: only in spare room, first to go, never under I/O. */
static void test_twins(void)
{
	struct blk_pgrants c;
	unsigned int i;
	int rc;

	/* A full set: no room for a twin, and none is made by evicting. */
	set_of_batches(&c, BLK_MAX_PGRANTS, 4);
	batch_of(&c, 32, 4001);
	segs(32, 4032, -1);
	rc = request(&c, 32, 0);
	check(rc == 0 && map_calls == 0 && all_right(32) && !c.twins &&
		      !c.evictions && c.mapped == BLK_MAX_PGRANTS,
	      "twins: a full set makes none (nothing evicted for one)",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	blk_pgrants_destroy(&c, gt);

	/* Room for the twin, but not for it and the request's new grants:
	 * the new grants have it, no twin. */
	set_of_batches(&c, BLK_MAX_PGRANTS, 3);
	segs(256, 10001, 1);		/* 128 reversed, then 128 new */
	for (i = 0; i < 128; i++)
		seg[i].gref = 128 - i;
	rc = request(&c, 256, 0);
	check(rc == 0 && map_calls == 1 && last_map_count == 128 &&
		      all_right(256) && !c.twins && !c.evictions,
	      "twins: none when the request's new grants need the room",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	blk_pgrants_destroy(&c, gt);

	/* Twins are the first to go when a batch needs room. */
	set_of_batches(&c, BLK_MAX_PGRANTS, 1);
	segs(256, 256, -1);
	map_req(&c, 256, &h[0]);	/* the twin of 1..256 */
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	/* 1001.., 2001..: 1024 mapped, 1..256 oldest; 3001.. needs 224:
	 * the idle twin goes. */
	add_batches(&c, 1, 3);
	segs(256, 1, 1);
	rc = request(&c, 256, 0);
	check(rc == 0 && map_calls == 0 && c.twin_drops == 1 &&
		      !c.evictions && all_right(256) &&
		      c.mapped == 1024 && live_pages == 1024,
	      "twins: the first to go; the oldest batch stays",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	blk_pgrants_destroy(&c, gt);

	/* A twin in use keeps itself and its batch mapped. */
	set_of_batches(&c, BLK_MAX_PGRANTS, 1);
	segs(256, 256, -1);
	rc = map_req(&c, 256, &h[0]);	/* the twin of 1..256, held */
	add_batches(&c, 1, 2);		/* 1024 mapped */
	segs(256, 5001, 1);	/* needs 224: 1001.. goes, 1..256 not */
	rc |= map_req(&c, 256, &h[1]);
	check(rc == 0 && c.mapped <= BLK_MAX_PGRANTS && all_right(256),
	      "twins: room made around a twin in use",
	      "%s", state(rc, &c));
	segs(256, 256, -1);
	rc = request(&c, 256, 2);
	check(rc == 0 && map_calls == 0 && all_adjacent(256) &&
		      all_right(256),
	      "twins: the twin in use and its batch were not unmapped",
	      "%s", state(rc, &c));
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	blk_pgrants_release(&c, gt, DOMID, &h[1]);
	blk_pgrants_release(&c, gt, DOMID, &h[2]);
	blk_pgrants_destroy(&c, gt);
	check_nothing_left("twins: nothing left mapped, every unmap whole");
}

/* Pages the holds keep outside the set (their own mappings). */
static long own_pages(unsigned int nr)
{
	long n = 0;
	unsigned int i;

	for (i = 0; i < nr; i++)
		n += h[i].own ? (long)h[i].own_count : 0;
	return n;
}

/*
 * A guest choosing references to defeat the twins: reversed pairs out
 * of many batches at once (each wanting a twin), grants given twice
 * around a reversed pair, in-order runs to reverse, over references
 * that move on (old batches go cold, new ones push twins out), up to 6
 * requests in flight. After every request: the set within its bound
 * (twins counted), at most two map calls, every page the right grant;
 * at the end nothing left.
 */
static void test_twins_hostile(void)
{
	struct blk_pgrants c;
	unsigned int r, i, n, held = 0, worst_calls = 0;
	unsigned long long worst_steps = 0, steps;
	long worst = 0;
	bool right = true;
	int rc = 0;

	blk_pgrants_init(&c, BLK_MAX_PGRANTS);
	for (r = 0; r < 30000; r++) {
		unsigned int kind = (unsigned int)(blkrand() % 4);

		n = 1 + (unsigned int)(blkrand() % 256);
		for (i = 0; i < n; i++) {
			/* 800 references, moving on by 500 every 3000
			 * requests: old batches go cold, new ones push
			 * twins out. */
			uint32_t base = 1 + (r / 3000) * 500 +
					(uint32_t)(blkrand() % 800);

			switch (kind) {
			case 0: /* pairs reversed, each from elsewhere */
				seg[i].gref = i % 2 ? seg[i - 1].gref - 1 :
						      base + 1;
				break;
			case 1: /* one long reversed run */
				seg[i].gref = (i ? seg[0].gref : base + 300) - i;
				break;
			case 2: /* a grant twice around a reversed pair */
				seg[i].gref = i % 3 == 2 ? seg[i - 2].gref :
					      i % 3 == 1 ? seg[i - 1].gref - 1 :
							   base + 1;
				break;
			default: /* in order: batches to reverse */
				seg[i].gref = (i ? seg[0].gref : base) + i;
			}
		}
		map_calls = 0;
		if (held == 6 || (held && blkrand() % 2))
			blk_pgrants_release(&c, gt, DOMID, &h[--held]);
		steps = c.steps;
		rc |= map_req(&c, n, &h[held]);
		if (c.steps - steps > worst_steps)
			worst_steps = c.steps - steps;
		right &= all_right(n);
		held++;
		if (map_calls > worst_calls)
			worst_calls = map_calls;
		if ((long)c.mapped > worst)
			worst = c.mapped;
		if (live_pages != (long)c.mapped + own_pages(held))
			rc |= 1;
	}
	while (held)
		blk_pgrants_release(&c, gt, DOMID, &h[--held]);
	check(rc == 0 && right && worst <= BLK_MAX_PGRANTS && worst_calls <= 2,
	      "twins, hostile refs: within the bound, <= 2 map calls, data right",
	      "rc %d, right %d, at most %ld mapped, %u calls", rc, right,
	      worst, worst_calls);
	/* Lookups (a few steps a segment) and two walks for room (one for
	 * a twin, one for new grants), each at most 3 x 1056 batches. */
	check(worst_steps <= 8 * 256 + 6 * BLK_MAX_PGRANTS,
	      "twins, hostile refs: a request's work stays bounded",
	      "%llu steps in one request", worst_steps);
	check(c.twins > 0 && c.twin_drops > 0,
	      "twins, hostile refs: twins made and pushed out",
	      "%llu made, %llu dropped", (unsigned long long)c.twins,
	      (unsigned long long)c.twin_drops);
	blk_pgrants_destroy(&c, gt);
	check_nothing_left("twins, hostile refs: nothing left mapped, every unmap whole");
}

/* The longest hash chain of the set. */
static unsigned int longest_chain(const struct blk_pgrants *c)
{
	unsigned int b, len, most = 0;
	uint32_t i;

	for (b = 0; b < c->nbuckets; b++) {
		len = 0;
		for (i = c->bucket[b]; i != UINT32_MAX; i = c->e[i].hnext)
			len++;
		if (len > most)
			most = len;
	}
	return most;
}

/*
 * References a hostile guest chose to share one chain of an unkeyed hash
 * (equal modulo the table size, 4096, and modulo the new-grant table's
 * 512): with the set's secret key they spread as any others do. Without
 * it a lookup walked ~530 entries and a request of new grants ~33k.
 */
static void test_hostile_refs(void)
{
	struct blk_pgrants c, other;
	unsigned int k, i, n, most;
	int rc = 0;

	blk_pgrants_init(&c, BLK_MAX_PGRANTS);
	c.steps = 0;
	for (k = 0; k < BLK_MAX_PGRANTS; k += n) {
		n = BLK_MAX_PGRANTS - k < 256 ? BLK_MAX_PGRANTS - k : 256;
		for (i = 0; i < n; i++)
			seg[i].gref = (k + i) * 4096u + 1;
		rc |= map_req(&c, n, &h[0]) || !all_right(n);
		blk_pgrants_release(&c, gt, DOMID, &h[0]);
	}
	most = longest_chain(&c);
	check(rc == 0 && c.mapped == BLK_MAX_PGRANTS && most <= 8,
	      "hostile refs: 1056 of one old chain spread (longest <= 8)",
	      "rc %d, %u mapped, longest chain %u", rc, c.mapped, most);
	check(c.steps <= 8 * BLK_MAX_PGRANTS,
	      "hostile refs: new grants found their slots in a few steps",
	      "%llu steps for 1056 grants", (unsigned long long)c.steps);

	c.steps = 0;
	for (i = 0; i < 256; i++)
		seg[i].gref = ((i * 37) % BLK_MAX_PGRANTS) * 4096u + 1;
	rc = request(&c, 256, 0);
	check(rc == 0 && map_calls == 0 && all_right(256) &&
		      c.steps <= 4 * 256,
	      "hostile refs: 256 found in the set in a few steps each",
	      "rc %d, %u calls, %llu steps", rc, map_calls,
	      (unsigned long long)c.steps);
	blk_pgrants_release(&c, gt, DOMID, &h[0]);
	blk_pgrants_destroy(&c, gt);

	blk_pgrants_init(&c, BLK_MAX_PGRANTS);
	blk_pgrants_init(&other, BLK_MAX_PGRANTS);
	check(memcmp(c.sip, other.sip, sizeof(c.sip)) != 0,
	      "hostile refs: each queue's set has its own key", "same key");
	blk_pgrants_destroy(&other, gt);
	blk_pgrants_destroy(&c, gt);
	check_nothing_left("hostile refs: nothing left mapped");
}

/* ---- measuring (--bench): CPU per lookup, printed, never asserted -------- */

/* Grants k * 4096 + 1: one hash chain under the old unkeyed hash. */
static uint32_t bench_ref(bool hostile, unsigned int k)
{
	return hostile ? k * 4096u + 1 : k + 1;
}

static double cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* A full set, then requests of 256 grants found in it, as a guest that
 * reuses its grants does. */
static void bench(bool hostile)
{
	const unsigned int rounds = hostile ? 200 : 20000;
	struct blk_pgrants c;
	unsigned int k, r, i, n;
	double t0, t;

	blk_pgrants_init(&c, BLK_MAX_PGRANTS);
	for (k = 0; k < BLK_MAX_PGRANTS; k += n) {
		n = BLK_MAX_PGRANTS - k < 256 ? BLK_MAX_PGRANTS - k : 256;
		for (i = 0; i < n; i++)
			seg[i].gref = bench_ref(hostile, k + i);
		map_req(&c, n, &h[0]);
		blk_pgrants_release(&c, gt, DOMID, &h[0]);
	}
	t0 = cpu_ns();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < 256; i++)
			seg[i].gref = bench_ref(hostile,
						(r * 257 + i * 37) %
							BLK_MAX_PGRANTS);
		map_req(&c, 256, &h[0]);
		blk_pgrants_release(&c, gt, DOMID, &h[0]);
	}
	t = cpu_ns() - t0;
	printf("bench blk pgrant %s: %.1f ns CPU per grant looked up "
	       "(%u requests of 256, %llu hits)\n",
	       hostile ? "hostile" : "benign", t / (rounds * 256.0), rounds,
	       (unsigned long long)c.hits);
	blk_pgrants_destroy(&c, gt);
}

int main(int argc, char **argv)
{
	if (strstr(argv[0], "_asan"))
		suite = "blk pgrant asan";
	if (argc > 1 && !strcmp(argv[1], "--bench")) {
		bench(false);
		bench(true);
		return 0;
	}
	test_own();
	test_persistent();
	test_bound();
	test_duplicates();
	test_twins();
	test_twins_hostile();
	test_hostile_refs();
	return failures ? 1 : 0;
}
