/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_map_front - a simulated guest that lays its requests' grants out as
 * it likes, for the daemon's map mode (blk/pgrant.c: a request's new
 * grants mapped in one call, kept or released whole). Indirect requests
 * of hand-placed segments on queue 0; every read is checked sector by
 * sector against what was written. Run as a domain of a simulated host;
 * prints PASS/FAIL lines. Scenarios:
 *
 *   batch   1 MiB write then read; grants reused in other positions,
 *           mixed with new ones, partial segments; a grant given twice in
 *           a request; a bad reference in the middle of a batch (the
 *           request fails, nothing written, none of its new grants left
 *           mapped); 6144 distinct grants through one queue (at most
 *           1056 mapped with persistent grants, none without); after the
 *           disconnect none of ours is mapped
 *   vanish  three 1 MiB requests in flight, then the guest exits at once
 *   layout  64 new grants written in order, then the same in reverse
 *           (blkfront's LIFO free list), then in order again; two more
 *           batches of 64, then the reversed halves of both in one
 *           request, each half read back: the test reads the daemon's
 *           counters of how the pages lay
 *
 * Options: -d devid -a 32|64|native -p (persistent) -s seed -n name
 */
#include "tests/xensim/front/blkfront.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPORT blkfront_report
#define PAGE RING_BLKIF_PAGE_SIZE
/* Pool pages: data below IND_FIRST, indirect pages from it. */
#define IND_FIRST (BLKFRONT_POOL_PAGES - 4)
#define DATA_PAGES IND_FIRST
#define SEGS 256
/* The persistent grants a queue of the daemon keeps at most (blk.h). */
#define DAEMON_MAX_PGRANTS 1056
#define MAX_ISSUED 16384
/* Where each part writes, in sectors: all within 32 MiB. */
#define DUP_AT 28672
#define BAD_AT 32768
#define BOUND_AT 36864


struct mseg {
	uint32_t gref;
	unsigned int page;
	uint8_t first, last;
};

static struct blkfront *bf;
static int ind_gref[4];
static uint32_t issued[MAX_ISSUED];
static unsigned int nr_issued;
static uint64_t next_id = 1;

/* A new grant of a data page (a page may have several). */
static uint32_t fresh(unsigned int page)
{
	int g = xsg_grant_access(bf->g, bf->backend_id, bf->pool_frame + page,
				 false);

	if (g < 0 || nr_issued == MAX_ISSUED) {
		REPORT(0, "grant a page", "rc %d", g);
		exit(1);
	}
	issued[nr_issued++] = (uint32_t)g;
	return (uint32_t)g;
}

static bool mapped_by_backend(uint32_t gref)
{
	return xsg_grant_flags(bf->g, gref) & (GTF_reading | GTF_writing);
}

/* The bytes of one sector as written with tag. */
static void sector_data(uint8_t *p, uint64_t sector, uint64_t tag)
{
	unsigned int i;

	for (i = 0; i < 512; i += 8) {
		uint64_t v = (tag << 40) ^ (sector * 0x9e3779b97f4a7c15ull) ^ i;

		memcpy(p + i, &v, 8);
	}
}

/* Segment i's sectors follow the earlier ones'. */
static uint64_t seg_sector(const struct mseg *s, unsigned int i,
			   uint64_t sector)
{
	unsigned int k;

	for (k = 0; k < i; k++)
		sector += s[k].last - s[k].first + 1u;
	return sector;
}

/* Puts the segments in indirect page ind, sends, waits for the answer. */
static void put_indirect(unsigned int ind, uint8_t op, uint64_t id,
			 uint64_t sector, const struct mseg *s, unsigned int n)
{
	struct blkif_request_segment *is = blkfront_page(bf, IND_FIRST + ind);
	struct blkfront_rawreq r = { .operation = BLKIF_OP_INDIRECT,
				     .indirect_op = op, .nr_segments = (uint16_t)n,
				     .id = id, .sector = sector, .nr_ind = 1 };
	unsigned int i;

	memset(is, 0, PAGE);
	for (i = 0; i < n; i++) {
		is[i].gref = s[i].gref;
		is[i].first_sect = s[i].first;
		is[i].last_sect = s[i].last;
	}
	r.ind_gref[0] = (uint32_t)ind_gref[ind];
	blkfront_put_req(bf, 0, &r);
}

static int16_t request(uint8_t op, uint64_t sector, const struct mseg *s,
		       unsigned int n)
{
	uint64_t id = next_id++, rid;
	uint8_t rop;
	int16_t st;

	put_indirect(0, op, id, sector, s, n);
	blkfront_push(bf, 0);
	if (blkfront_get_response(bf, 0, 10000, &rid, &rop, &st) < 0)
		return 99;
	return rid == id ? st : 98;
}

static int16_t write_segs(uint64_t sector, const struct mseg *s,
			  unsigned int n, uint64_t tag)
{
	unsigned int i, k;

	for (i = 0; i < n; i++) {
		uint64_t sec = seg_sector(s, i, sector);
		uint8_t *p = blkfront_page(bf, s[i].page);

		for (k = s[i].first; k <= s[i].last; k++)
			sector_data(p + k * 512, sec++, tag);
	}
	return request(BLKIF_OP_WRITE, sector, s, n);
}

/* Reads, then checks every segment's sectors: 0 if all as tag wrote. */
static int16_t read_check(uint64_t sector, const struct mseg *s,
			  unsigned int n, uint64_t tag, bool *same)
{
	uint8_t want[512];
	unsigned int i, k;
	int16_t st;

	for (i = 0; i < n; i++)
		memset(blkfront_page(bf, s[i].page), 0xee, PAGE);
	st = request(BLKIF_OP_READ, sector, s, n);
	*same = st == BLKIF_RSP_OKAY;
	for (i = 0; i < n && *same; i++) {
		uint64_t sec = seg_sector(s, i, sector);
		uint8_t *p = blkfront_page(bf, s[i].page);

		for (k = s[i].first; k <= s[i].last; k++) {
			sector_data(want, sec++, tag);
			if (memcmp(p + k * 512, want, 512))
				*same = false;
		}
	}
	return st;
}

static void whole_pages(struct mseg *s, unsigned int n, unsigned int page0)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		s[i].page = page0 + i;
		s[i].gref = fresh(page0 + i);
		s[i].first = 0;
		s[i].last = 7;
	}
}

static void shuffle(struct mseg *s, unsigned int n)
{
	unsigned int i;

	for (i = n - 1; i > 0; i--) {
		unsigned int j = (unsigned int)(blkfront_rand() % (i + 1));
		struct mseg t = s[i];

		s[i] = s[j];
		s[j] = t;
	}
}

/* ---- batch ------------------------------------------------------------ */

static void one_mib(struct mseg *a, struct mseg *b)
{
	int16_t st;
	bool same;

	whole_pages(a, SEGS, 0);
	whole_pages(b, SEGS, SEGS);
	unsigned int i, kept = 0;

	st = write_segs(2048, a, SEGS, 1);
	REPORT(st == BLKIF_RSP_OKAY, "1 MiB write, 256 grants", "status %d",
	       st);
	for (i = 0; i < SEGS; i++)
		kept += mapped_by_backend(a[i].gref);
	/* Mapped (kept), not grant-copied, with persistent grants. */
	REPORT(kept == (bf->o.persistent ? SEGS : 0),
	       bf->o.persistent ? "the 256 grants stay mapped after the answer" :
				  "the 256 grants are unmapped with the answer",
	       "%u mapped", kept);
	st = read_check(2048, b, SEGS, 1, &same);
	REPORT(same, "1 MiB read into other grants: the data", "status %d",
	       st);
	st = read_check(2048, a, SEGS, 1, &same);
	REPORT(same, "1 MiB read into the written grants: the data",
	       "status %d", st);
}

/*
 * Grants used again in other positions (Linux blkfront's free list gives
 * them back in reverse order), half of them with new ones, partial
 * segments: every round writes and reads back.
 */
static void reuse(struct mseg *a, struct mseg *b)
{
	struct mseg s[SEGS];
	unsigned int r, i, bad = 0;

	for (r = 0; r < 12 && !bad; r++) {
		uint64_t sector = 4096 + r * 2048;
		unsigned int n = 16 + (unsigned int)(blkfront_rand() % (SEGS - 15));
		int16_t st;
		bool same;

		for (i = 0; i < n; i++)
			s[i] = i % 2 ? a[i] : b[i];
		if (r % 3 == 1) /* reversed, as blkfront's LIFO free list */
			for (i = 0; i < n; i++)
				s[i] = a[n - 1 - i];
		else
			shuffle(s, n);
		for (i = 0; i < n; i += 3) /* new grants of other pages */
			if (r % 3 == 2) {
				s[i].page = 2 * SEGS + i;
				s[i].gref = fresh(s[i].page);
			}
		/* Partial first and last segments, sometimes inner ones. */
		s[0].first = (uint8_t)(blkfront_rand() % 8);
		s[n - 1].last = (uint8_t)(s[n - 1].first +
					  blkfront_rand() % (8u - s[n - 1].first));
		if (r % 4 == 3)
			s[n / 2].last = s[n / 2].first;
		st = write_segs(sector, s, n, 100 + r);
		if (st != BLKIF_RSP_OKAY) {
			REPORT(0, "grants reused in other positions",
			       "round %u: write status %d", r, st);
			bad = 1;
			break;
		}
		shuffle(s, n);
		st = read_check(sector, s, n, 100 + r, &same);
		if (!same) {
			REPORT(0, "grants reused in other positions",
			       "round %u (%u segments): read status %d%s", r, n,
			       st, st ? "" : ", data differs");
			bad = 1;
		}
		for (i = 0; i < n; i++) { /* back to whole pages */
			s[i].first = 0;
			s[i].last = 7;
		}
		for (i = 0; i < SEGS; i++) {
			a[i].first = b[i].first = 0;
			a[i].last = b[i].last = 7;
		}
	}
	if (!bad)
		REPORT(1, "grants reused in other positions, mixed with new ones, partial segments",
		       "-");
}

static bool still_alive(void)
{
	uint8_t buf[4096];

	return blkfront_io(bf, 0, BLKIF_OP_READ, 0, buf, sizeof(buf), 0) ==
	       BLKIF_RSP_OKAY;
}

/* A grant given twice (three times) in a request. */
static void duplicates(void)
{
	struct mseg s[6], r[6];
	uint8_t want[512];
	int16_t st;
	bool same;
	unsigned int i, k, ok = 1;

	whole_pages(s, 4, 600);
	s[2] = s[0];
	st = write_segs(DUP_AT, s, 4, 7); /* page 600 holds segment 2's data */
	REPORT(st == BLKIF_RSP_OKAY, "write giving a grant twice",
	       "status %d", st);
	whole_pages(r, 4, 610);
	st = read_check(DUP_AT, r, 4, 7, &same);
	/* Segment 0 was written from page 600 too, which holds seg 2's. */
	for (k = 0; k < 8 && st == BLKIF_RSP_OKAY; k++) {
		sector_data(want, DUP_AT + 16 + k, 7);
		ok &= !memcmp((uint8_t *)blkfront_page(bf, 610) + k * 512, want,
			      512);
	}
	for (i = 1; i < 4 && st == BLKIF_RSP_OKAY; i++)
		for (k = 0; k < 8; k++) {
			sector_data(want, DUP_AT + i * 8 + k, 7);
			ok &= !memcmp((uint8_t *)blkfront_page(bf, 610 + i) +
					      k * 512,
				      want, 512);
		}
	REPORT(st == BLKIF_RSP_OKAY && ok,
	       "a grant given twice: both places written from its page",
	       "status %d", st);
	whole_pages(r, 3, 620);
	r[3] = r[1];
	r[4] = r[1];
	st = request(BLKIF_OP_READ, DUP_AT, r, 5);
	REPORT(st == BLKIF_RSP_OKAY && still_alive(),
	       "a read giving a grant three times: answered",
	       "status %d", st);
}

/*
 * A bad reference in the middle of a batch of new grants: the request
 * fails, nothing of it reaches the disk, none of its grants stays
 * mapped; and among grants the daemon already keeps.
 */
static void bad_in_batch(const struct mseg *known)
{
	struct mseg s[64];
	unsigned int i, left = 0;
	int16_t st;
	bool same;

	whole_pages(s, 64, 700);
	st = write_segs(BAD_AT, s, 64, 9);
	REPORT(st == BLKIF_RSP_OKAY, "64 segments written", "status %d", st);
	whole_pages(s, 64, 700);
	s[32].gref = BLKFRONT_NEVER_GRANTED;
	st = write_segs(BAD_AT, s, 64, 10);
	for (i = 0; i < 64; i++)
		left += i != 32 && mapped_by_backend(s[i].gref);
	REPORT(st == BLKIF_RSP_ERROR && !left,
	       "a bad reference in the middle of a write: error, none of its grants left mapped",
	       "status %d, %u mapped", st, left);
	whole_pages(s, 64, 700);
	st = read_check(BAD_AT, s, 64, 9, &same);
	REPORT(same, "the failed write wrote nothing", "status %d", st);
	whole_pages(s, 64, 700);
	s[0].gref = BLKFRONT_NEVER_GRANTED + 1;
	st = request(BLKIF_OP_READ, BAD_AT, s, 64);
	REPORT(st == BLKIF_RSP_ERROR && !mapped_by_backend(s[1].gref),
	       "a bad first reference of a read: error", "status %d", st);

	/* Known grants, new ones and a bad one. */
	for (i = 0; i < 64; i++)
		if (i % 2)
			s[i] = known[i];
		else
			s[i].gref = fresh(s[i].page);
	s[40].gref = BLKFRONT_NEVER_GRANTED + 2;
	st = request(BLKIF_OP_READ, BAD_AT, s, 64);
	left = 0;
	for (i = 0; i < 64; i += 2)
		left += i != 40 && mapped_by_backend(s[i].gref);
	REPORT(st == BLKIF_RSP_ERROR && !left,
	       "a bad reference among kept and new grants: error, no new one left mapped",
	       "status %d, %u mapped", st, left);
	s[40].gref = fresh(s[40].page);
	st = write_segs(BAD_AT, s, 64, 11);
	REPORT(st == BLKIF_RSP_OKAY, "the same grants without the bad one",
	       "status %d", st);
}

/* 6144 distinct grants through one queue: the bound. */
static void bound(void)
{
	struct mseg s[SEGS];
	unsigned int r, i, mapped = 0;
	int16_t st = BLKIF_RSP_OKAY;
	bool same = true;

	for (r = 0; r < 12 && st == BLKIF_RSP_OKAY; r++) {
		whole_pages(s, SEGS, (r % 3) * SEGS);
		st = write_segs(BOUND_AT + r * 2048, s, SEGS, 20 + r);
	}
	for (r = 0; r < 12 && same; r++) {
		whole_pages(s, SEGS, (r % 3) * SEGS);
		read_check(BOUND_AT + r * 2048, s, SEGS, 20 + r, &same);
	}
	for (i = 0; i < nr_issued; i++)
		mapped += mapped_by_backend(issued[i]);
	REPORT(st == BLKIF_RSP_OKAY && same, "6144 new grants: data",
	       "status %d", st);
	if (bf->o.persistent)
		REPORT(mapped > 0 && mapped <= DAEMON_MAX_PGRANTS,
		       "persistent grants kept mapped: at most 1056",
		       "%u of %u mapped", mapped, nr_issued);
	else
		REPORT(mapped == 0,
		       "without persistent grants none stays mapped",
		       "%u of %u mapped", mapped, nr_issued);
}

static void scenario_batch(void)
{
	static struct mseg a[SEGS], b[SEGS];

	one_mib(a, b);
	reuse(a, b);
	duplicates();
	bad_in_batch(a);
	bound();
}

/* Three 1 MiB requests in flight, then gone without a word. */
static void scenario_vanish(void)
{
	struct mseg s[SEGS];
	unsigned int k;

	for (k = 0; k < 3; k++) {
		whole_pages(s, SEGS, k * SEGS);
		put_indirect(k, k == 1 ? BLKIF_OP_WRITE : BLKIF_OP_READ,
			     next_id++, k * 2048, s, SEGS);
	}
	blkfront_push(bf, 0);
	printf("PASS: %s: 3 requests of 1 MiB left in flight\n",
	       blkfront_name);
	fflush(stdout);
	_exit(0);
}

/*
 * One batch of 64 grants, then used in reverse and in order again: 192
 * segments, 1 + 64 + 1 iovecs, 63 segments on the page below the one
 * before (with persistent grants: the batch is kept).
 */
static void scenario_layout(void)
{
	struct mseg s[64], r[64], t[64], u[64], m[64];
	unsigned int i;
	int16_t st;
	bool same;

	whole_pages(s, 64, 0);
	for (i = 0; i < 64; i++)
		r[i] = s[63 - i];
	st = write_segs(0, s, 64, 7);
	REPORT(st == BLKIF_RSP_OKAY, "64 new grants written in order",
	       "status %d", st);
	st = write_segs(1024, r, 64, 8);
	REPORT(st == BLKIF_RSP_OKAY, "the same grants written in reverse",
	       "status %d", st);
	st = read_check(0, s, 64, 7, &same);
	REPORT(same, "read back in order", "status %d", st);

	/* Two more batches in order, then both halves reversed in one
	 * request: the first one's twin is made, the second one's waits
	 * (one per request); read back, each gets its own. */
	whole_pages(t, 64, 64);
	whole_pages(u, 64, 128);
	st = write_segs(2048, t, 64, 9);
	st |= write_segs(3072, u, 64, 10);
	for (i = 0; i < 32; i++) {
		m[i] = t[63 - i];
		m[32 + i] = u[63 - i];
	}
	st |= write_segs(4096, m, 64, 11);
	REPORT(st == BLKIF_RSP_OKAY,
	       "two batches, then both reversed in one request",
	       "status %d", st);
	st = read_check(4096, m, 32, 11, &same);
	REPORT(same, "the first reversed half read back", "status %d", st);
	st = read_check(4096 + 256, m + 32, 32, 11, &same);
	REPORT(same, "the second reversed half read back", "status %d", st);
}

int main(int argc, char **argv)
{
	struct blkfront_opts o = { .nr_queues = 1, .timeout_ms = 15000,
				   .max_indirect = SEGS };
	unsigned int devid = 51712, i, left = 0;
	const char *sc;
	int c, rc;

	while ((c = getopt(argc, argv, "d:a:ps:n:")) != -1) {
		if (blkfront_common_opt(c, optarg, &o, &devid))
			continue;
		switch (c) {
		default:
			fprintf(stderr, "usage: see the source\n");
			return 2;
		}
	}
	rc = blkfront_start_scenario(argc, argv, devid, &o, &sc, &bf);
	if (rc)
		return rc;
	for (i = 0; i < 4; i++)
		ind_gref[i] = xsg_grant_access(bf->g, bf->backend_id,
					       bf->pool_frame + IND_FIRST + i,
					       false);
	if (!strcmp(sc, "batch"))
		scenario_batch();
	else if (!strcmp(sc, "vanish"))
		scenario_vanish();
	else if (!strcmp(sc, "layout"))
		scenario_layout();
	else
		REPORT(0, sc, "unknown scenario");

	rc = blkfront_disconnect(bf);
	REPORT(rc == 0, "disconnect: backend Closed", "state %d",
	       blkfront_backend_state(bf));
	for (i = 0; i < nr_issued; i++)
		left += mapped_by_backend(issued[i]);
	REPORT(!left, "after the disconnect none of our grants is mapped",
	       "%u of %u still mapped", left, nr_issued);
	for (i = 0; i < nr_issued; i++)
		xsg_end_access(bf->g, issued[i]);
	for (i = 0; i < 4; i++)
		xsg_end_access(bf->g, (uint32_t)ind_gref[i]);
	blkfront_stop(bf);
	return blkfront_failures ? 1 : 0;
}
