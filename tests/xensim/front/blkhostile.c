/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blkhostile - a simulated guest whose blkfront plays the hostile classes
 * of the backends' security advisories (XSAs) against the real xenbackd.
 * Run as a domain of a simulated host (xensim run HOST DOMID --
 * blkhostile [options] SCENARIO); prints PASS/FAIL lines. Scenarios:
 *
 *   double-fetch   (XSA-155) another thread keeps rewriting the requests
 *                  in the shared ring while the backend reads them: every
 *                  request is answered once with a valid status, the
 *                  device goes on
 *   scatter        (XSA-229) segments on scattered, out-of-order frames
 *                  with partial sectors, direct and indirect: data lands
 *                  where each segment says and nowhere else
 *   batch-error    (XSA-361/362/365/367) one bad grant among requests
 *                  pushed together: only its request fails; without
 *                  persistent grants nothing stays mapped after the answer
 *   ring-unwind    (XSA-361 class) queue 2 of 3 announces a ring page never
 *                  granted: the device fails, the rings mapped before are
 *                  unmapped; the frontend starting over works
 *   storm          (XSA-332) notifications without requests for -t s
 *   watch-flood    (XSA-349) writes to watched frontend nodes for -t s
 *   state-race     (XSA-350) requests in flight, then Closing or a restart
 *                  (Initialising) at once; after each, nothing stays mapped
 *   state-storm    (XSA-350) random frontend states written by a thread for
 *                  -t s while requests keep coming; then nothing stays
 *                  mapped and a clean reconnect works
 *   rsp-prod       a thread keeps writing 0 over the shared rsp_prod (the
 *                  backend's index, in the guest's page) while requests
 *                  come for -t s, answers found by their ids in the
 *                  slots: the backend never takes that index back as
 *                  its own, keeps answering, and the daemon lives
 *
 * After every scenario the device is disconnected and every grant this
 * guest gave is ended: none may still be mapped by the backend (XSA-371).
 *
 * Options: -d devid, -p (persistent grants), -t seconds, -n name,
 * -w FILE (ring-unwind: FILE.ready once failed, then waits for FILE.go),
 * -l LEN (watch-flood: the node below state has a name of LEN characters,
 * default 5).
 */
#include "tests/xensim/front/blkfront.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#define PAGE RING_BLKIF_PAGE_SIZE

#define REPORT blkfront_report

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(uint8_t *p, size_t n, unsigned int tag)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(tag * 131 + i * 7 + (i >> 9));
}

/* ------------------------------------------------------------------ */
/* Grants this file gives itself (blkfront's own are in pool_gref)     */
/* ------------------------------------------------------------------ */

#define MAX_OWN 2048
static int own[MAX_OWN];
static unsigned int nr_own;

/*
 * Grants pool page i and remembers the reference: read-only if ro, unless
 * persistent grants are in use (always rw, blkif.h); hostile_ro grants
 * read-only regardless.
 */
static uint32_t give_as(struct blkfront *bf, unsigned int i, bool ro)
{
	int gref = xsg_grant_access(bf->g, bf->backend_id, bf->pool_frame + i,
				    ro);

	if (gref < 0 || nr_own == MAX_OWN) {
		fprintf(stderr, "blkhostile: cannot grant page %u\n", i);
		exit(1);
	}
	own[nr_own++] = gref;
	return (uint32_t)gref;
}

static uint32_t give(struct blkfront *bf, unsigned int i, bool ro)
{
	return give_as(bf, i, ro && !bf->o.persistent);
}

/* Ends every grant given since mark; returns how many were still busy. */
static unsigned int take_back(struct xsg *g, unsigned int mark)
{
	unsigned int busy = 0;

	while (nr_own > mark) {
		int gref = own[--nr_own];

		if (xsg_end_access(g, (uint32_t)gref) == -EBUSY)
			busy++;
	}
	return busy;
}

static int16_t await_id(struct blkfront *bf, uint64_t id)
{
	uint64_t got;
	uint8_t op;
	int16_t st;

	if (blkfront_get_response(bf, 0, 10000, &got, &op, &st) < 0)
		return 99;
	return got == id ? st : 98;
}

static bool still_works(struct blkfront *bf)
{
	uint8_t w[8192], r[8192];
	int a, b = 0;

	fill(w, sizeof(w), 4242);
	a = blkfront_io(bf, 0, BLKIF_OP_WRITE, 256, w, sizeof(w), 0);
	if (a == BLKIF_RSP_OKAY)
		b = blkfront_io(bf, 0, BLKIF_OP_READ, 256, r, sizeof(r), 0);
	if (a == BLKIF_RSP_OKAY && b == BLKIF_RSP_OKAY &&
	    !memcmp(w, r, sizeof(w)))
		return true;
	printf("# I/O check: write %d, read %d%s\n", a, b,
	       a || b ? "" : ", data differs");
	return false;
}

/* ------------------------------------------------------------------ */
/* XSA-155: the ring rewritten while the backend reads it              */
/* ------------------------------------------------------------------ */

struct flipper {
	volatile bool stop;
	uint8_t *slots;
	unsigned int nr_ents;
	size_t slot;
	unsigned long flips;
};

/*
 * Rewrites operation, segment count and the first segment's last sector
 * of every slot, over and over. Bytes 0-1 of a slot are also the low
 * bytes of a response's id: responses are matched on the id's high bits.
 */
static void *flip(void *arg)
{
	struct flipper *f = arg;
	static const uint8_t ops[] = { BLKIF_OP_READ, BLKIF_OP_WRITE, 77,
				       BLKIF_OP_INDIRECT, BLKIF_OP_DISCARD };
	unsigned int k = 0, i;

	while (!f->stop) {
		for (i = 0; i < f->nr_ents; i++) {
			volatile uint8_t *s = f->slots + (size_t)i * f->slot;

			s[0] = ops[k % sizeof(ops)];
			s[1] = k & 1 ? 1 : 200;
			s[29] = k & 2 ? 7 : 12;
		}
		k++;
		f->flips++;
	}
	return NULL;
}

static void scenario_double_fetch(struct blkfront *bf, double secs)
{
	struct blkfront_queue *q = &bf->q[0];
	struct flipper f = { .slots = (uint8_t *)q->sring + 64,
			     .nr_ents = q->nr_ents,
			     .slot = blkfront_slot_size(bf) };
	unsigned int batch = q->nr_ents / 2 < 32 ? q->nr_ents / 2 : 32;
	unsigned int mark = nr_own, k;
	unsigned long sent = 0, okay = 0, error = 0, unsupp = 0, bad = 0;
	uint8_t seen[32];
	uint32_t gref = give(bf, 10, false);
	pthread_t t;
	double end = now_s() + secs;

	if (pthread_create(&t, NULL, flip, &f)) {
		REPORT(0, "double fetch", "no thread");
		return;
	}
	while (now_s() < end && !bad) {
		for (k = 0; k < batch; k++) {
			struct blkfront_rawreq r = {
				.operation = BLKIF_OP_READ, .nr_segments = 1,
				.id = (sent + k + 1) << 16,
				.sector = (sent + k) % 64 * 8,
			};

			r.seg[0] = (struct ring_blkif_seg){ gref, 0, 7 };
			blkfront_put_req(bf, 0, &r);
		}
		blkfront_push(bf, 0);
		/* Errors are answered at once, reads once done: any order. */
		memset(seen, 0, sizeof(seen));
		for (k = 0; k < batch; k++) {
			uint64_t id, tag;
			uint8_t op;
			int16_t st;

			if (blkfront_get_response(bf, 0, 10000, &id, &op,
						  &st) < 0) {
				bad += batch - k;
				break;
			}
			tag = (id >> 16) - sent - 1;
			if (tag >= batch || seen[tag]++)
				bad++;
			else if (st == BLKIF_RSP_OKAY)
				okay++;
			else if (st == BLKIF_RSP_ERROR)
				error++;
			else if (st == BLKIF_RSP_EOPNOTSUPP)
				unsupp++;
			else
				bad++;
		}
		sent += batch;
	}
	f.stop = true;
	pthread_join(t, NULL);
	printf("# double fetch: %lu requests, %lu okay, %lu error, %lu "
	       "unsupported, %lu flips of the ring\n",
	       sent, okay, error, unsupp, f.flips);
	REPORT(!bad && sent > 0 && okay + error + unsupp == sent,
	       "ring rewritten under the backend: each request answered once, "
	       "valid status (XSA-155)",
	       "%lu of %lu requests lost or answered wrongly", bad, sent);
	REPORT(blkfront_backend_state(bf) == 4 && still_works(bf),
	       "device goes on after the rewriting stops", "state %d",
	       blkfront_backend_state(bf));
	if (!bf->o.persistent)
		REPORT(take_back(bf->g, mark) == 0,
		       "no grant stays mapped after the answers", "busy");
}

/* ------------------------------------------------------------------ */
/* XSA-229: segments on scattered frames                               */
/* ------------------------------------------------------------------ */

struct layout {
	unsigned int n;
	unsigned int page[256];
	uint8_t first[256], last[256];
};

/* n segments on pages base + a permutation, partial sectors. */
static void scatter_layout(struct layout *l, unsigned int n,
			   unsigned int base, unsigned int stride)
{
	unsigned int i;

	l->n = n;
	for (i = 0; i < n; i++) {
		l->page[i] = base + (i * stride) % n * 2 + (i & 1);
		l->first[i] = (uint8_t)(i % 4);
		l->last[i] = (uint8_t)(7 - (i % 3));
	}
}

static size_t layout_bytes(const struct layout *l)
{
	size_t b = 0;
	unsigned int i;

	for (i = 0; i < l->n; i++)
		b += (size_t)(l->last[i] - l->first[i] + 1) * 512;
	return b;
}

/*
 * One request over the layout (indirect past 11 segments, its segment
 * page being indirect page 0); returns the status.
 */
static int16_t scatter_io(struct blkfront *bf, uint8_t op,
			  const struct layout *l, uint64_t sector)
{
	struct blkfront_rawreq r = { .operation = op, .sector = sector,
				     .nr_segments = (uint16_t)l->n,
				     .id = bf->next_id++ };
	unsigned int mark = nr_own, i;
	int16_t st;

	for (i = 0; i < l->n; i++) {
		struct ring_blkif_seg s = {
			give(bf, l->page[i], op == BLKIF_OP_WRITE),
			l->first[i], l->last[i]
		};

		if (l->n <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			r.seg[i] = s;
		} else {
			struct blkif_request_segment w = { s.gref,
							   s.first_sect,
							   s.last_sect };

			memcpy(bf->ind + (size_t)i * 8, &w, 8);
		}
	}
	if (l->n > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		r.operation = BLKIF_OP_INDIRECT;
		r.indirect_op = op;
		r.nr_ind = (l->n + 511) / 512;
		r.ind_gref[0] = (uint32_t)xsg_grant_access(
			bf->g, bf->backend_id, bf->ind_frame, true);
		own[nr_own++] = (int)r.ind_gref[0];
	}
	blkfront_put_req(bf, 0, &r);
	blkfront_push(bf, 0);
	st = await_id(bf, r.id);
	if (!bf->o.persistent && take_back(bf->g, mark))
		return 97;
	return st;
}

static void scatter_case(struct blkfront *bf, const char *what,
			 unsigned int n, unsigned int stride)
{
	struct layout l;
	size_t bytes, off = 0;
	uint8_t *want, *got;
	unsigned int i;
	int16_t st;
	bool outside = true, same;
	char label[128];

	scatter_layout(&l, n, 100, stride);
	bytes = layout_bytes(&l);
	want = malloc(bytes);
	got = malloc(bytes);
	fill(want, bytes, n);
	for (i = 0; i < l.n; i++) {
		size_t len = (size_t)(l.last[i] - l.first[i] + 1) * 512;

		memset(blkfront_page(bf, l.page[i]), 0xee, PAGE);
		memcpy((uint8_t *)blkfront_page(bf, l.page[i]) +
			       l.first[i] * 512,
		       want + off, len);
		off += len;
	}
	st = scatter_io(bf, BLKIF_OP_WRITE, &l, 512);
	snprintf(label, sizeof(label), "%s: write answered OKAY", what);
	REPORT(st == BLKIF_RSP_OKAY, label, "status %d", st);
	/* Read back contiguously: the data is the segments in order. */
	st = blkfront_io(bf, 0, BLKIF_OP_READ, 512, got, bytes, 0);
	snprintf(label, sizeof(label),
		 "%s: the disk holds the segments in order (XSA-229)", what);
	REPORT(st == BLKIF_RSP_OKAY && !memcmp(got, want, bytes), label,
	       "status %d%s", st, st ? "" : ", data differs");
	/* Read into the scattered pages: each segment's sectors only. */
	for (i = 0; i < l.n; i++)
		memset(blkfront_page(bf, l.page[i]), 0xee, PAGE);
	st = scatter_io(bf, BLKIF_OP_READ, &l, 512);
	for (i = 0, off = 0, same = true; i < l.n; i++) {
		uint8_t *p = blkfront_page(bf, l.page[i]);
		size_t len = (size_t)(l.last[i] - l.first[i] + 1) * 512, b;

		same = same && !memcmp(p + l.first[i] * 512, want + off, len);
		for (b = 0; b < PAGE; b++)
			if ((b < l.first[i] * 512u ||
			     b >= (l.last[i] + 1u) * 512u) &&
			    p[b] != 0xee)
				outside = false;
		off += len;
	}
	snprintf(label, sizeof(label),
		 "%s: read lands in each segment's sectors, nothing outside",
		 what);
	REPORT(st == BLKIF_RSP_OKAY && same && outside, label,
	       "status %d, data %s, outside %s", st, same ? "ok" : "differs",
	       outside ? "untouched" : "written");
	free(want);
	free(got);
}

static void scenario_scatter(struct blkfront *bf)
{
	scatter_case(bf, "11 scattered segments", 11, 5);
	if (bf->max_indirect_segs >= 64)
		scatter_case(bf, "64 scattered indirect segments", 64, 27);
	else
		REPORT(0, "indirect scatter", "backend offers %u segments",
		       bf->max_indirect_segs);
}

/* ------------------------------------------------------------------ */
/* XSA-361/362/365/367: one bad grant in a batch                        */
/* ------------------------------------------------------------------ */

enum { BATCH = 8, BAD_REF = 3, BAD_RO = 5 };

static void batch_case(struct blkfront *bf, uint8_t op)
{
	uint8_t *want = malloc(BATCH * 2 * PAGE);
	unsigned int mark = nr_own, i, answered = 0, okay_data = 0;
	int16_t st[BATCH];
	uint64_t id0;
	bool writing = op == BLKIF_OP_WRITE;
	char label[160];

	fill(want, BATCH * 2 * PAGE, writing ? 11 : 12);
	if (!writing &&
	    blkfront_io(bf, 0, BLKIF_OP_WRITE, 4096, want,
			BATCH * 2 * PAGE, 0) != BLKIF_RSP_OKAY) {
		REPORT(0, "batch", "cannot write the pattern");
		free(want);
		return;
	}
	id0 = bf->next_id;
	for (i = 0; i < BATCH; i++) {
		struct blkfront_rawreq r = {
			.operation = op, .nr_segments = 2,
			.id = bf->next_id++, .sector = 4096 + i * 16,
		};
		unsigned int p = 500 + 2 * i;

		if (writing) {
			memcpy(blkfront_page(bf, p), want + 2 * i * PAGE,
			       2 * PAGE);
		} else {
			memset(blkfront_page(bf, p), 0, 2 * PAGE);
		}
		r.seg[0] = (struct ring_blkif_seg){
			i == BAD_RO && !writing ? give_as(bf, p, true) :
						  give(bf, p, writing),
			0, 7
		};
		r.seg[1] = (struct ring_blkif_seg){ give(bf, p + 1, writing),
						    0, 7 };
		if (i == BAD_REF)
			r.seg[1].gref = BLKFRONT_NEVER_GRANTED;
		st[i] = 99;
		blkfront_put_req(bf, 0, &r);
	}
	blkfront_push(bf, 0);
	for (i = 0; i < BATCH; i++) {
		uint64_t id;
		uint8_t o;
		int16_t s;

		if (blkfront_get_response(bf, 0, 10000, &id, &o, &s) < 0)
			break;
		if (id >= id0 && id < id0 + BATCH) {
			st[id - id0] = s;
			answered++;
		}
	}
	if (writing) {
		uint8_t *got = malloc(BATCH * 2 * PAGE);

		blkfront_io(bf, 0, BLKIF_OP_READ, 4096, got, BATCH * 2 * PAGE,
			    0);
		for (i = 0; i < BATCH; i++)
			if (!memcmp(got + 2 * i * PAGE, want + 2 * i * PAGE,
				    2 * PAGE))
				okay_data |= 1u << i;
		free(got);
	} else {
		for (i = 0; i < BATCH; i++)
			if (!memcmp(blkfront_page(bf, 500 + 2 * i),
				    want + 2 * i * PAGE, 2 * PAGE))
				okay_data |= 1u << i;
	}
	{
		bool ok = answered == BATCH;
		unsigned int expect_bad = writing ? 1u << BAD_REF :
						    1u << BAD_REF | 1u << BAD_RO;

		for (i = 0; i < BATCH; i++) {
			bool bad = expect_bad & (1u << i);

			if (bad ? st[i] != BLKIF_RSP_ERROR :
				  st[i] != BLKIF_RSP_OKAY ||
					  !(okay_data & (1u << i)))
				ok = false;
		}
		snprintf(label, sizeof(label),
			 "%u %ss pushed at once, a bad grant in %s: only %s "
			 "fail, the others' data is right",
			 BATCH, writing ? "write" : "read",
			 writing ? "one" : "two",
			 writing ? "it" : "those");
		REPORT(ok, label,
		       "answered %u, statuses %d %d %d %d %d %d %d %d, data "
		       "mask %#x",
		       answered, st[0], st[1], st[2], st[3], st[4], st[5],
		       st[6], st[7], okay_data);
	}
	if (!bf->o.persistent) {
		unsigned int busy = take_back(bf->g, mark);

		snprintf(label, sizeof(label),
			 "%s batch: no grant stays mapped after the answers "
			 "(maps unwound)",
			 writing ? "write" : "read");
		REPORT(busy == 0, label, "%u grants still mapped", busy);
	}
	REPORT(still_works(bf), writing ? "device goes on after the write batch" :
					  "device goes on after the read batch",
	       "no");
	free(want);
}

static void scenario_batch_error(struct blkfront *bf)
{
	batch_case(bf, BLKIF_OP_READ);
	batch_case(bf, BLKIF_OP_WRITE);
}

/* ------------------------------------------------------------------ */
/* XSA-361 class on rings: a bad ring page among several queues        */
/* ------------------------------------------------------------------ */

static char *backend_node(struct blkfront *bf, const char *node)
{
	char path[256];
	unsigned int len;

	snprintf(path, sizeof(path), "%s/%s", bf->be, node);
	return xs_read(bf->xs, XBT_NULL, path, &len);
}

/*
 * With -w FILE: FILE.ready is made, and the scenario waits (10 s at most)
 * for FILE.go, so that the test can look at the daemon meanwhile.
 */
static const char *pause_file;

static void pause_point(void)
{
	char path[512];
	FILE *f;
	int i;

	if (!pause_file)
		return;
	snprintf(path, sizeof(path), "%s.ready", pause_file);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s.go", pause_file);
	for (i = 0; i < 1000 && access(path, F_OK); i++)
		usleep(10000);
}

static void scenario_ring_unwind(struct blkfront *bf,
				 const struct blkfront_opts *base)
{
	struct blkfront_opts o = *base;
	unsigned int busy;
	char *err;
	int rc;

	/* The connect of main() is undone: this scenario makes its own. */
	blkfront_disconnect(bf);
	blkfront_release_rings(bf);
	o.nr_queues = 3;
	o.ring_order = 1;
	o.bad_ring_queue = 2;
	rc = blkfront_connect(bf, &o);
	REPORT(rc < 0 && blkfront_wait_backend_state(bf, 6, 10000) == 0,
	       "queue 2 of 3 with a ring page never granted: device closed",
	       "connect %d, backend state %d", rc,
	       blkfront_backend_state(bf));
	err = backend_node(bf, "error");
	REPORT(err && *err, "error node written", "absent");
	if (err)
		printf("# error node: %s\n", err);
	free(err);
	pause_point();
	busy = blkfront_release_rings(bf);
	REPORT(busy == 0,
	       "the rings of the queues mapped before are unmapped",
	       "%u ring pages still mapped", busy);
	o.bad_ring_queue = 0;
	rc = blkfront_connect(bf, &o);
	REPORT(rc == 0 && still_works(bf),
	       "the frontend starting over gets a working device",
	       "connect %d, backend state %d", rc,
	       blkfront_backend_state(bf));
}

/* ------------------------------------------------------------------ */
/* XSA-332: an event-channel storm                                      */
/* ------------------------------------------------------------------ */

static void scenario_storm(struct blkfront *bf, double secs)
{
	double end = now_s() + secs;
	unsigned long n = 0;

	while (now_s() < end) {
		unsigned int k;

		for (k = 0; k < 1000; k++)
			xsg_evtchn_notify(bf->g, bf->q[0].port);
		n += 1000;
	}
	printf("# storm: %lu notifications in %.1f s\n", n, secs);
	REPORT(blkfront_backend_state(bf) == 4 && still_works(bf),
	       "after an event-channel storm the device still answers",
	       "state %d", blkfront_backend_state(bf));
}

/* ------------------------------------------------------------------ */
/* XSA-349: a flood of writes to watched, guest-writable nodes          */
/* ------------------------------------------------------------------ */

/* -l: the length of the name of the node written below state. */
static unsigned int flood_name_len = 5;

static void scenario_watch_flood(struct blkfront *bf, double secs)
{
	double end = now_s() + secs;
	char path[256], child[2048], v[32];
	unsigned long n = 0, failed = 0;
	int k;

	snprintf(path, sizeof(path), "%s/state", bf->fe);
	k = snprintf(child, sizeof(child), "%s/state/", bf->fe);
	if (flood_name_len > sizeof(child) - 1 - (size_t)k)
		flood_name_len = (unsigned int)(sizeof(child) - 1 - (size_t)k);
	memset(child + k, 'f', flood_name_len);
	child[k + flood_name_len] = '\0';
	while (now_s() < end) {
		int len = snprintf(v, sizeof(v), "%lu", n);

		/* The backend watches state (and so all below it). */
		if (!xs_write(bf->xs, XBT_NULL, path, "4", 1))
			failed++;
		if (!xs_write(bf->xs, XBT_NULL, child, v, (unsigned int)len))
			failed++;
		n += 2;
	}
	xs_rm(bf->xs, XBT_NULL, child);
	printf("# watch flood: %lu writes (%lu refused) in %.1f s, names of "
	       "%u characters below state\n",
	       n, failed, secs, flood_name_len);
	REPORT(blkfront_backend_state(bf) == 4 && still_works(bf),
	       "after the watch flood the device still answers", "state %d",
	       blkfront_backend_state(bf));
}

/* ------------------------------------------------------------------ */
/* XSA-350: requests in flight while the frontend changes state         */
/* ------------------------------------------------------------------ */

static void scenario_state_race(struct blkfront *bf,
				const struct blkfront_opts *o)
{
	enum { ROUNDS = 6, INFLIGHT = 24 };
	unsigned int round, k, busy_total = 0, failed = 0;
	char path[256];

	snprintf(path, sizeof(path), "%s/state", bf->fe);
	for (round = 0; round < ROUNDS; round++) {
		unsigned int mark = nr_own;
		bool restart = round % 2;
		int rc;

		for (k = 0; k < INFLIGHT; k++) {
			struct blkfront_rawreq r = {
				.operation = k % 2 ? BLKIF_OP_WRITE :
						     BLKIF_OP_READ,
				.nr_segments = 1, .id = bf->next_id++,
				.sector = k * 8,
			};

			r.seg[0] = (struct ring_blkif_seg){
				give(bf, 600 + k, k % 2), 0, 7
			};
			blkfront_put_req(bf, 0, &r);
		}
		blkfront_push(bf, 0);
		/* At once: a restart, or Closing then Closed. */
		if (restart) {
			xs_write(bf->xs, XBT_NULL, path, "1", 1);
			rc = blkfront_wait_backend_state(bf, 2, 10000);
		} else {
			rc = blkfront_disconnect(bf);
		}
		if (rc < 0) {
			printf("# round %u: backend state %d\n", round,
			       blkfront_backend_state(bf));
			failed++;
		}
		busy_total += take_back(bf->g, mark) +
			      blkfront_release_rings(bf);
		rc = blkfront_connect(bf, o);
		if (rc < 0) {
			printf("# round %u: reconnect %d, backend state %d\n",
			       round, rc, blkfront_backend_state(bf));
			failed++;
			break;
		}
	}
	REPORT(failed == 0,
	       "Closing or a restart with requests in flight: the backend "
	       "follows each time (XSA-350)",
	       "%u of %u rounds failed", failed, ROUNDS);
	REPORT(busy_total == 0,
	       "after each change nothing of the old connection stays mapped",
	       "%u grants still mapped", busy_total);
	REPORT(still_works(bf), "reconnected device works", "no");
}

/*
 * The same, without waiting for the backend: a thread writes random states
 * while requests keep coming for secs seconds; then a clean reconnect.
 */
struct state_flipper {
	struct blkfront *bf;
	volatile bool stop;
	unsigned long writes;
};

static void *flip_states(void *arg)
{
	struct state_flipper *f = arg;
	static const char *states[] = { "1", "3", "4", "5", "6", "2" };
	char path[256];
	unsigned int k = 0;
	struct xs_handle *xs = xsg_xs_open(f->bf->g);

	if (!xs)
		return NULL;
	snprintf(path, sizeof(path), "%s/state", f->bf->fe);
	while (!f->stop) {
		const char *v = states[(k * 7 + k / 3) % 6];

		xs_write(xs, XBT_NULL, path, v, 1);
		k++;
		f->writes++;
		usleep(k % 5 * 1000);
	}
	xs_close(xs);
	return NULL;
}

static void scenario_state_storm(struct blkfront *bf,
				 const struct blkfront_opts *o, double secs)
{
	struct state_flipper f = { .bf = bf };
	char *err;
	unsigned int mark = nr_own, k;
	uint32_t gref[8];
	double end = now_s() + secs;
	unsigned long pushed = 0;
	pthread_t t;
	int rc;

	for (k = 0; k < 8; k++)
		gref[k] = give(bf, 700 + k, false);
	if (pthread_create(&t, NULL, flip_states, &f)) {
		REPORT(0, "state storm", "no thread");
		return;
	}
	while (now_s() < end) {
		struct blkfront_queue *q = &bf->q[0];

		for (k = 0; k < 8; k++) {
			struct blkfront_rawreq r = {
				.operation = k % 2 ? BLKIF_OP_WRITE :
						     BLKIF_OP_READ,
				.nr_segments = 1, .id = bf->next_id++,
				.sector = k * 8,
			};

			r.seg[0] = (struct ring_blkif_seg){ gref[k], 0, 7 };
			/* Never more than the ring holds unanswered. */
			if (q->req_prod_pvt - q->rsp_cons >= q->nr_ents)
				break;
			blkfront_put_req(bf, 0, &r);
			pushed++;
		}
		blkfront_push(bf, 0);
		/* Take whatever answers there are, without waiting. */
		{
			uint64_t id;
			uint8_t op;
			int16_t st;

			while (blkfront_get_response(bf, 0, 0, &id, &op, &st) ==
			       0)
				;
		}
		usleep(500);
	}
	f.stop = true;
	pthread_join(t, NULL);
	printf("# state storm: %lu state writes, %lu requests pushed\n",
	       f.writes, pushed);
	/* Closed, then every grant of that connection must end. */
	rc = blkfront_disconnect(bf);
	if (rc < 0)
		printf("# after the storm: disconnect %d, backend state %d\n",
		       rc, blkfront_backend_state(bf));
	k = take_back(bf->g, mark) + blkfront_release_rings(bf);
	REPORT(k == 0,
	       "random state changes under I/O: afterwards nothing of it stays "
	       "mapped (XSA-350)",
	       "%u grants still mapped", k);
	rc = blkfront_connect(bf, o);
	err = rc < 0 ? backend_node(bf, "error") : NULL;
	REPORT(rc == 0 && still_works(bf),
	       "a clean reconnect after the storm works",
	       "connect %d, backend state %d, backend error node '%s'", rc,
	       blkfront_backend_state(bf), err ? err : "");
	free(err);
}

/* ------------------------------------------------------------------ */
/* The backend's own index, rewritten by the guest                      */
/* ------------------------------------------------------------------ */

struct rsp_prod_writer {
	volatile uint32_t *hdr; /* the sring header: req_prod, req_event,
				 * rsp_prod, rsp_event */
	volatile bool stop;
	unsigned long writes;
};

static void *write_rsp_prod(void *arg)
{
	struct rsp_prod_writer *w = arg;

	/*
	 * rsp_event 1 under rsp_prod 0: every push of the backend that
	 * read this rsp_prod as its old index also notifies, a system call
	 * between its store and anything it does next.
	 */
	while (!w->stop) {
		w->hdr[2] = 0;
		w->hdr[3] = 1;
		w->writes++;
	}
	return NULL;
}

#define RSP_PROD_TAG 0xb1a5ull

/* The slot of ring index idx holds the answer with this id. */
static bool answered_in_slot(struct blkfront *bf, uint32_t idx, uint64_t id)
{
	struct blkfront_queue *q = &bf->q[0];
	const volatile uint8_t *s =
		(const uint8_t *)q->sring + 64 +
		(size_t)(idx & (q->nr_ents - 1)) * blkfront_slot_size(bf);
	uint64_t got = 0;
	unsigned int i;

	for (i = 0; i < 8; i++)
		got |= (uint64_t)s[i] << (8 * i);
	return got == id;
}

static void scenario_rsp_prod(struct blkfront *bf, double secs)
{
	struct blkfront_queue *q = &bf->q[0];
	struct rsp_prod_writer w = { .hdr = q->sring };
	unsigned int batch = q->nr_ents, k;
	unsigned long rounds = 0, sent = 0, lost = 0;
	double end = now_s() + secs;
	pthread_t t;

	if (pthread_create(&t, NULL, write_rsp_prod, &w)) {
		REPORT(0, "rsp_prod rewritten", "no thread");
		return;
	}
	while (now_s() < end && !lost) {
		uint32_t base = q->req_prod_pvt;
		double deadline;

		for (k = 0; k < batch; k++) {
			/* Answered at once (an unknown operation): a whole
			 * ring of answers in one push. */
			struct blkfront_rawreq r = {
				.operation = 77,
				.id = RSP_PROD_TAG << 48 | rounds << 16 | k,
			};

			blkfront_put_req(bf, 0, &r);
		}
		blkfront_push(bf, 0);
		/* Answers land in ring order, whatever rsp_prod says. */
		deadline = now_s() + 10;
		for (k = 0; k < batch; k++) {
			uint64_t id = RSP_PROD_TAG << 48 | rounds << 16;
			unsigned int j;
			bool found = false;

			while (!found && now_s() < deadline) {
				for (j = 0; j < batch && !found; j++)
					found = answered_in_slot(bf, base + k,
								 id | j);
				if (!found)
					usleep(100);
			}
			if (!found) {
				lost = batch - k;
				break;
			}
		}
		q->rsp_cons = q->req_prod_pvt;
		sent += batch;
		rounds++;
	}
	w.stop = true;
	pthread_join(t, NULL);
	/* The frontend's own view again, so that the normal paths work. */
	((volatile uint32_t *)q->sring)[2] = q->rsp_cons;
	printf("# rsp-prod: %lu rounds, %lu requests, %lu writes of "
	       "rsp_prod\n",
	       rounds, sent, w.writes);
	REPORT(!lost && rounds > 0,
	       "rsp_prod rewritten by the guest: every request answered",
	       "%lu of the last %u requests never answered", lost, batch);
	REPORT(blkfront_backend_state(bf) == 4 && still_works(bf),
	       "device goes on after the rewriting stops", "state %d",
	       blkfront_backend_state(bf));
}

/* ------------------------------------------------------------------ */

/* Disconnect, then every grant must end (XSA-371). */
static void final_check(struct blkfront *bf)
{
	unsigned int busy = 0, i;
	int rc = blkfront_disconnect(bf);

	REPORT(rc == 0, "disconnect: backend Closed", "state %d",
	       blkfront_backend_state(bf));
	busy += take_back(bf->g, 0);
	for (i = 0; i < BLKFRONT_POOL_PAGES; i++) {
		if (bf->pool_gref[i] >= 0 &&
		    xsg_end_access(bf->g, (uint32_t)bf->pool_gref[i]) ==
			    -EBUSY)
			busy++;
		bf->pool_gref[i] = -1;
	}
	busy += blkfront_release_rings(bf);
	REPORT(busy == 0,
	       "after Closed every grant ends: nothing left mapped (XSA-371)",
	       "%u grants still mapped", busy);
}

int main(int argc, char **argv)
{
	struct blkfront_opts o = { .nr_queues = 1, .timeout_ms = 15000,
				   .abi = RING_BLKIF_ABI_X86_64,
				   .max_indirect = 256 };
	unsigned int devid = 51712;
	double secs = 3;
	struct blkfront *bf;
	const char *sc;
	int c, rc;

	blkfront_name = "blkhostile";
	while ((c = getopt(argc, argv, "d:pt:n:w:l:")) != -1) {
		if (blkfront_common_opt(c, optarg, &o, &devid))
			continue;
		switch (c) {
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'w':
			pause_file = optarg;
			break;
		case 'l':
			flood_name_len = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: blkhostile [-d devid] [-p] "
					"[-t secs] [-n name] [-w file] "
					"[-l len] SCENARIO\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = blkfront_start_scenario(argc, argv, devid, &o, &sc, &bf);
	if (rc)
		return rc;
	if (!strcmp(sc, "double-fetch"))
		scenario_double_fetch(bf, secs);
	else if (!strcmp(sc, "scatter"))
		scenario_scatter(bf);
	else if (!strcmp(sc, "batch-error"))
		scenario_batch_error(bf);
	else if (!strcmp(sc, "ring-unwind"))
		scenario_ring_unwind(bf, &o);
	else if (!strcmp(sc, "storm"))
		scenario_storm(bf, secs);
	else if (!strcmp(sc, "watch-flood"))
		scenario_watch_flood(bf, secs);
	else if (!strcmp(sc, "state-race"))
		scenario_state_race(bf, &o);
	else if (!strcmp(sc, "state-storm"))
		scenario_state_storm(bf, &o, secs);
	else if (!strcmp(sc, "rsp-prod"))
		scenario_rsp_prod(bf, secs);
	else
		REPORT(0, sc, "unknown scenario");
	final_check(bf);
	blkfront_stop(bf);
	return blkfront_failures ? 1 : 0;
}
