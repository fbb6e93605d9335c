/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_sim_front - a simulated guest driving the real xenbackd through the
 * blkif frontend of tests/xensim/front. Run as a domain of a simulated
 * host (xensim run HOST DOMID -- blk_sim_front ...); prints PASS/FAIL
 * lines. Scenarios:
 *
 *   verify    whole-disk write then read-verify, random sizes and offsets,
 *             queues round-robin; 32 in flight; flush; barrier
 *   readonly  info says read-only, reads work, writes are refused
 *   cdrom     info says cdrom and read-only
 *   discard   a discarded range reads back as zeros
 *   nodiscard the backing stops taking discards (-C cmd): EOPNOTSUPP
 *   discard-close  the backing becomes slow to discard (-C cmd); a ring
 *             of discards pushed, then the guest closes at once: the
 *             backend is Closed within 5 s (it stops taking them)
 *   discard-whole-close  the same with one discard of the whole disk
 *             (the backend cuts it short)
 *   discard-whole  one discard of the whole disk: zeros everywhere
 *             (-C cmd checks the backing held data before)
 *   noflush   the backing refuses flushes: EOPNOTSUPP, features withdrawn
 *             (noflush-again: still withdrawn after a reconnect)
 *   eio       writes the backing cannot store and reads past its end
 *             get BLKIF_RSP_ERROR, the rest works
 *   hostile   one malformed request per class, each answered; the device
 *             goes on working
 *   rogue     a producer index beyond the ring: the backend closes the
 *             device
 *   resize    the backing grows then shrinks (-T file -R new-bytes): the
 *             idle frontend sees the growth, the new end works; the
 *             shrink is published by the operator's command (-C cmd)
 *   vanish    requests in flight, then the guest exits at once
 *   reconnects  closes and connects again 40 times with I/O on every
 *             queue: the guest's pages, grants and channels stay bounded
 *   reuse     10 writes of 32 KiB one at a time, read back (the grants'
 *             reuse, as Linux's: sim-blk-mapbatch.sh counts the layout)
 *   busy-close  for -t seconds: -Q writes of -b bytes and a flush
 *             pushed, then Closing at once, then connected again
 *   bench     load for `make bench` (-w randread|randwrite|read|write
 *             -b bytes -Q depth -t seconds)
 *   slow-close  writes and a flush held by the backing (-C cmd), then
 *             by -w: closed, restart or stay (scenario_slow_close())
 *   segs      for each segment count k in -w (e.g. 1,12,255): a write of
 *             k pages, two reads of k segments read back and compared
 *
 * Options: -d devid -q queues -o ring-order -a 32|64|native -i max-indirect
 *          -p (persistent) -S expected-sectors -s seed -n name
 *          -B sector-that-cannot-be-written -T backing-file-to-cut-short
 *          -W seconds to stay connected and idle after the scenario
 *          -U file: or until this file exists
 */
#include "tests/xensim/front/blkfront.h"

#include <xen/io/xenbus.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPORT blkfront_report


static void fill_pattern(uint8_t *p, size_t n, uint64_t tag)
{
	size_t i;

	for (i = 0; i < n; i += 8) {
		uint64_t v = tag * 0x9e3779b97f4a7c15ull + i;

		memcpy(p + i, &v, 8);
	}
}

/* Largest transfer in sectors the frontend may send in one request. */
static unsigned int max_sectors(const struct blkfront *bf)
{
	unsigned int segs = BLKIF_MAX_SEGMENTS_PER_REQUEST;
	unsigned int ind = bf->o.max_indirect < bf->max_indirect_segs ?
				   bf->o.max_indirect :
				   bf->max_indirect_segs;

	if (ind > segs)
		segs = ind;
	return segs * 8 - 7; /* leave room for a first_sect up to 7 */
}

/* ------------------------------------------------------------------ */

static int scenario_verify(struct blkfront *bf, uint64_t expect_sectors)
{
	uint64_t sectors = bf->sectors, s;
	size_t disk = (size_t)sectors * 512;
	uint8_t *shadow = malloc(disk), *buf = malloc(1 << 20);
	unsigned int maxs = max_sectors(bf), bs = bf->sector_size / 512;
	unsigned int i, nq = bf->o.nr_queues, bad = 0, reqs = 0;
	int st;

	if (!shadow || !buf)
		return -ENOMEM;
	if (expect_sectors)
		REPORT(sectors == expect_sectors, "size seen by the frontend",
		       "sectors %" PRIu64 ", want %" PRIu64, sectors,
		       expect_sectors);
	/* Write the whole disk in random-size chunks. */
	for (s = 0; s < sectors && !bad;) {
		unsigned int n = 1 + (unsigned int)(blkfront_rand() % maxs);
		unsigned int f = bs == 1 ? (unsigned int)(blkfront_rand() % 8) : 0;

		if (bs > 1)
			n = (n + bs - 1) / bs * bs;
		if (n + f > maxs + 7)
			n = maxs + 7 - f;
		if (s + n > sectors)
			n = (unsigned int)(sectors - s);
		fill_pattern(shadow + s * 512, (size_t)n * 512, blkfront_rand());
		st = blkfront_io(bf, reqs % nq, BLKIF_OP_WRITE, s,
				 shadow + s * 512, (size_t)n * 512, f);
		if (st != BLKIF_RSP_OKAY) {
			REPORT(0, "whole-disk write then read-verify", "write at %" PRIu64
			       " of %u sectors: %d", s, n, st);
			bad = 1;
		}
		s += n;
		reqs++;
	}
	/* Random reads of random sizes, compared with what was written. */
	for (i = 0; i < 400 && !bad; i++) {
		unsigned int n = 1 + (unsigned int)(blkfront_rand() % maxs);
		unsigned int f = bs == 1 ? (unsigned int)(blkfront_rand() % 8) : 0;

		if (bs > 1)
			n = (n + bs - 1) / bs * bs;
		if (n + f > maxs + 7)
			n = maxs + 7 - f;
		if (n > sectors)
			n = (unsigned int)sectors;
		s = blkfront_rand() % (sectors - n + 1);
		s = s / bs * bs;
		st = blkfront_io(bf, i % nq, BLKIF_OP_READ, s, buf,
				 (size_t)n * 512, f);
		if (st != BLKIF_RSP_OKAY ||
		    memcmp(buf, shadow + s * 512, (size_t)n * 512)) {
			REPORT(0, "whole-disk write then read-verify",
			       "read at %" PRIu64 " of %u sectors: status %d%s",
			       s, n, st, st == 0 ? ", data differs" : "");
			bad = 1;
		}
	}
	/* And the whole disk once, front to back. */
	for (s = 0; s < sectors && !bad; s += 64) {
		unsigned int n = sectors - s < 64 ? (unsigned int)(sectors - s) :
						    64;

		st = blkfront_io(bf, 0, BLKIF_OP_READ, s, buf, (size_t)n * 512,
				 0);
		if (st != BLKIF_RSP_OKAY ||
		    memcmp(buf, shadow + s * 512, (size_t)n * 512)) {
			REPORT(0, "whole-disk write then read-verify",
			       "sequential read at %" PRIu64 ": %d", s, st);
			bad = 1;
		}
	}
	if (!bad)
		REPORT(1, "whole-disk write then read-verify", "-");

	/* 32 requests in flight on queue 0, 4 KiB each, random places. */
	{
		enum { N = 32 };
		uint64_t sec[N];
		uint8_t *b[N];
		int16_t stv[N];
		unsigned int k;
		int rc;

		for (k = 0; k < N; k++) {
			b[k] = malloc(4096);
			/* Distinct 4 KiB blocks, so order does not matter. */
			sec[k] = ((blkfront_rand() % (sectors / 8 / N)) * N + k) * 8;
			fill_pattern(b[k], 4096, blkfront_rand());
			memcpy(shadow + sec[k] * 512, b[k], 4096);
		}
		rc = blkfront_io_batch(bf, 0, BLKIF_OP_WRITE, sec, b, 4096, N,
				       stv);
		for (k = 0; k < N && rc == 0; k++)
			if (stv[k] != BLKIF_RSP_OKAY)
				rc = -EIO;
		if (rc == 0) {
			for (k = 0; k < N; k++)
				memset(b[k], 0, 4096);
			rc = blkfront_io_batch(bf, 0, BLKIF_OP_READ, sec, b,
					       4096, N, stv);
			for (k = 0; k < N && rc == 0; k++)
				if (stv[k] != BLKIF_RSP_OKAY ||
				    memcmp(b[k], shadow + sec[k] * 512, 4096))
					rc = -EIO;
		}
		REPORT(rc == 0, "32 requests in flight", "rc %d", rc);
		for (k = 0; k < N; k++)
			free(b[k]);
	}

	REPORT(bf->feat_flush, "feature-flush-cache offered", "absent");
	st = blkfront_io(bf, 0, BLKIF_OP_FLUSH_DISKCACHE, 0, NULL, 0, 0);
	REPORT(st == BLKIF_RSP_OKAY, "flush", "status %d", st);
	fill_pattern(buf, 8192, 77);
	st = blkfront_io(bf, nq - 1, BLKIF_OP_FLUSH_DISKCACHE, 16, buf, 8192,
			 0);
	memcpy(shadow + 16 * 512, buf, 8192);
	REPORT(st == BLKIF_RSP_OKAY, "write with flush", "status %d", st);
	fill_pattern(buf, 4096, 78);
	st = blkfront_io(bf, 0, BLKIF_OP_WRITE_BARRIER, 64, buf, 4096, 0);
	memcpy(shadow + 64 * 512, buf, 4096);
	REPORT(st == BLKIF_RSP_OKAY && bf->feat_barrier, "barrier write",
	       "status %d", st);
	st = blkfront_io(bf, 0, BLKIF_OP_READ, 16, buf, 64 * 512, 0);
	REPORT(st == BLKIF_RSP_OKAY && !memcmp(buf, shadow + 16 * 512,
					       64 * 512),
	       "flush and barrier data read back", "status %d", st);
	free(buf);
	free(shadow);
	return 0;
}

static void scenario_readonly(struct blkfront *bf, bool cdrom)
{
	uint8_t buf[4096];
	int st;

	REPORT(bf->info & VDISK_READONLY, "info says read-only", "info %u",
	       bf->info);
	if (cdrom)
		REPORT(bf->info & VDISK_CDROM, "info says cdrom", "info %u",
		       bf->info);
	st = blkfront_io(bf, 0, BLKIF_OP_READ, 0, buf, sizeof(buf), 0);
	REPORT(st == BLKIF_RSP_OKAY, "read from read-only disk", "status %d",
	       st);
	st = blkfront_io(bf, 0, BLKIF_OP_WRITE, 0, buf, sizeof(buf), 0);
	REPORT(st == BLKIF_RSP_ERROR, "write to read-only disk refused",
	       "status %d", st);
	REPORT(!bf->feat_discard && !bf->feat_flush,
	       "no flush or discard offered", "flush %d discard %d",
	       bf->feat_flush, bf->feat_discard);
}

static void scenario_discard(struct blkfront *bf)
{
	size_t len = 1 << 20;
	uint8_t *buf = malloc(len), *zero = calloc(1, len);
	uint64_t at = 2048, nr = len / 512;
	uint64_t gran = 0;
	unsigned int i;
	int st, bad = 0;

	REPORT(bf->feat_discard, "feature-discard offered", "absent");
	blkfront_backend_u64(bf, "discard-granularity", &gran);
	REPORT(gran >= 512, "discard-granularity published", "%" PRIu64,
	       gran);
	for (i = 0; i < len / 32768 && !bad; i++) {
		fill_pattern(buf, 32768, i + 1);
		st = blkfront_io(bf, 0, BLKIF_OP_WRITE, at + i * 64, buf,
				 32768, 0);
		bad = st != BLKIF_RSP_OKAY;
	}
	REPORT(!bad, "data written before discard", "status %d", st);
	st = blkfront_discard(bf, 0, at, nr, false);
	REPORT(st == BLKIF_RSP_OKAY, "discard 1 MiB", "status %d", st);
	for (i = 0, bad = 0; i < len / 32768 && !bad; i++) {
		st = blkfront_io(bf, 0, BLKIF_OP_READ, at + i * 64, buf,
				 32768, 0);
		bad = st != BLKIF_RSP_OKAY || memcmp(buf, zero, 32768);
	}
	REPORT(!bad, "discarded range reads as zeros", "status %d", st);
	st = blkfront_discard(bf, 0, bf->sectors - 8, 16, false);
	REPORT(st == BLKIF_RSP_ERROR, "discard past the end refused",
	       "status %d", st);
	/* Neither a file nor a loop device can erase securely: not offered,
	 * and a request with the flag is served as a plain discard. */
	gran = 1;
	blkfront_backend_u64(bf, "discard-secure", &gran);
	REPORT(gran == 0, "discard-secure not offered", "discard-secure %" PRIu64,
	       gran);
	fill_pattern(buf, 4096, 99);
	st = blkfront_io(bf, 0, BLKIF_OP_WRITE, 0, buf, 4096, 0);
	if (st == BLKIF_RSP_OKAY)
		st = blkfront_discard(bf, 0, 0, 8, true);
	if (st == BLKIF_RSP_OKAY)
		st = blkfront_io(bf, 0, BLKIF_OP_READ, 0, buf, 4096, 0);
	REPORT(st == BLKIF_RSP_OKAY && !memcmp(buf, zero, 4096),
	       "secure discard flag when not offered: a plain discard",
	       "status %d", st);
	free(buf);
	free(zero);
}

/* A pattern written at sector `at` through queue q reads back. */
static bool io_carries_on_queue(struct blkfront *bf, unsigned int q,
				uint64_t at, uint64_t tag)
{
	uint8_t *buf = malloc(32768), *back = malloc(32768);
	int st = -ENOMEM;
	bool ok;

	if (buf && back) {
		fill_pattern(buf, 32768, tag);
		st = blkfront_io(bf, q, BLKIF_OP_WRITE, at, buf, 32768, 0);
	}
	if (st == BLKIF_RSP_OKAY)
		st = blkfront_io(bf, q, BLKIF_OP_READ, at, back, 32768, 0);
	ok = st == BLKIF_RSP_OKAY && !memcmp(buf, back, 32768);
	free(buf);
	free(back);
	return ok;
}

/* The same through queue 0: the device carries on. */
static bool io_carries_on(struct blkfront *bf, uint64_t at, uint64_t tag)
{
	return io_carries_on_queue(bf, 0, at, tag);
}

/*
 * The test's command cmd (none given: a FAIL), reported as `what`; the
 * guest's output flushed first, as the command may print.
 */
static void run_test_command(const char *cmd, const char *what)
{
	int st;

	fflush(stdout);
	st = cmd ? system(cmd) : -1;
	REPORT(st == 0, what, "command %d", st);
}

/*
 * The opening of the scenarios where the backing turns against a feature:
 * the feature (a backend node) was offered at connect; then, if `change`
 * is named, the test's command makes the backing change so.
 */
static void backing_turns(bool offered, const char *feature, const char *cmd,
			  const char *change)
{
	char what[64];

	snprintf(what, sizeof(what), "%s offered at connect", feature);
	REPORT(offered, what, "absent");
	if (change)
		run_test_command(cmd, change);
}

/*
 * The backing stops taking discards after the connect offered them (cmd,
 * the operator's, e.g. discard turned off on a loop device): a discard is
 * answered BLKIF_RSP_EOPNOTSUPP, as blkback does; the rest carries on.
 */
static void scenario_nodiscard(struct blkfront *bf, const char *cmd)
{
	int st;

	backing_turns(bf->feat_discard, "feature-discard", cmd,
		      "the backing stops taking discards");
	st = blkfront_discard(bf, 0, 0, 8, false);
	REPORT(st == BLKIF_RSP_EOPNOTSUPP,
	       "a discard the backing refuses: EOPNOTSUPP", "status %d", st);
	REPORT(io_carries_on(bf, 128, 7), "writes and reads carry on",
	       "pattern lost");
	st = blkfront_io(bf, 0, BLKIF_OP_FLUSH_DISKCACHE, 0, NULL, 0, 0);
	REPORT(st == BLKIF_RSP_OKAY, "flush still works", "status %d", st);
	st = blkfront_discard(bf, 0, 64, 64, false);
	REPORT(st == BLKIF_RSP_EOPNOTSUPP, "a second discard: EOPNOTSUPP",
	       "status %d", st);
}

/* The backing becomes slow to discard (cmd makes it so). */
static void make_discard_slow(struct blkfront *bf, const char *cmd)
{
	backing_turns(bf->feat_discard, "feature-discard", cmd,
		      "the backing becomes slow to discard");
}

/*
 * Closing while the backend is in a slow discard: Closed within 5 s. Its
 * main thread waits for the queue meanwhile (the other devices, the
 * control socket and the watchdog with it): "# closing" is printed for
 * the test to ask the control socket then.
 */
static void close_in_discard(struct blkfront *bf, const char *what)
{
	struct timespec t0, t1;
	char name[128];
	double secs;
	int rc;

	blkfront_push(bf, 0);
	usleep(200000); /* the backend is in the discard */
	printf("# closing\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = blkfront_disconnect(bf);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# Closed after %.2f s\n", secs);
	snprintf(name, sizeof(name),
		 "%s, then Closing: backend Closed within 5 s", what);
	REPORT(rc == 0 && secs < 5, name, "disconnect %d after %.1f s", rc,
	       secs);
	/* Connected again, for main()'s own disconnect. */
	rc = blkfront_connect(bf, &bf->o);
	REPORT(rc == 0, "the guest connects again", "connect %d", rc);
}

/*
 * Discards that take the backing a second each, 16 of them pushed at
 * once, then Closing while the backend is in the first: it stops taking
 * the others.
 */
static void scenario_discard_close(struct blkfront *bf, const char *cmd)
{
	unsigned int k;

	make_discard_slow(bf, cmd);
	for (k = 0; k < 16; k++) {
		struct blkfront_rawreq r = {
			.operation = BLKIF_OP_DISCARD, .id = bf->next_id++,
			.sector = k * 8, .nr_sectors = 8,
		};

		blkfront_put_req(bf, 0, &r);
	}
	close_in_discard(bf, "16 slow discards pushed");
}

/*
 * One discard of the whole disk on a backing slow in proportion to the
 * size (cmd), then Closing: the backend cuts it short between two calls.
 */
static void scenario_discard_whole_close(struct blkfront *bf,
					 const char *cmd)
{
	struct blkfront_rawreq r = {
		.operation = BLKIF_OP_DISCARD, .id = bf->next_id++,
		.sector = 0, .nr_sectors = bf->sectors,
	};

	make_discard_slow(bf, cmd);
	blkfront_put_req(bf, 0, &r);
	close_in_discard(bf, "a slow discard of the whole disk in flight");
}

/*
 * One discard of the whole disk, done by the backend in many calls:
 * patterns written at its start, middle and end (cmd then checks the
 * host's file holds data) all read back as zeros; the test then checks
 * the file holds no block any more.
 */
static void scenario_discard_whole(struct blkfront *bf, const char *cmd)
{
	uint8_t *buf = malloc(32768), *zero = calloc(1, 32768);
	const uint64_t at[] = { 0, bf->sectors / 3, bf->sectors / 2 + 8,
				bf->sectors - 64 };
	unsigned int i;
	int st = BLKIF_RSP_OKAY;
	bool bad = false;

	for (i = 0; i < 4 && st == BLKIF_RSP_OKAY; i++) {
		fill_pattern(buf, 32768, i + 40);
		st = blkfront_io(bf, 0, BLKIF_OP_WRITE, at[i], buf, 32768, 0);
	}
	REPORT(st == BLKIF_RSP_OKAY, "patterns written over the disk",
	       "status %d", st);
	run_test_command(cmd, "the backing holds the data");
	st = blkfront_discard(bf, 0, 0, bf->sectors, false);
	REPORT(st == BLKIF_RSP_OKAY, "one discard of the whole disk",
	       "status %d", st);
	for (i = 0; i < 4 && !bad; i++) {
		st = blkfront_io(bf, 0, BLKIF_OP_READ, at[i], buf, 32768, 0);
		bad = st != BLKIF_RSP_OKAY || memcmp(buf, zero, 32768);
	}
	REPORT(!bad, "the whole disk reads back as zeros", "status %d", st);
	free(buf);
	free(zero);
}

/* A backend node's value, waited for up to 2 s. */
static bool backend_node_becomes(struct blkfront *bf, const char *node,
				 uint64_t want)
{
	uint64_t v = ~want;
	int i;

	for (i = 0; i < 200; i++) {
		if (blkfront_backend_u64(bf, node, &v) == 0 && v == want)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * A backing that refuses flushes (a filesystem whose fsync answers
 * EOPNOTSUPP): the flush is answered BLKIF_RSP_EOPNOTSUPP and, as
 * blkback, feature-flush-cache and feature-barrier go to 0; later flushes
 * and barriers are refused at once; data I/O carries on. again: the
 * device was connected before, and the features must stay withdrawn.
 */
static void scenario_noflush(struct blkfront *bf, bool again)
{
	uint8_t *buf = malloc(4096);
	int st;

	if (!again) {
		/* The test made the backing refuse flushes before. */
		backing_turns(bf->feat_flush, "feature-flush-cache", NULL,
			      NULL);
		REPORT(io_carries_on(bf, 0, 11), "data written", "lost");
		st = blkfront_io(bf, 0, BLKIF_OP_FLUSH_DISKCACHE, 0, NULL, 0,
				 0);
		REPORT(st == BLKIF_RSP_EOPNOTSUPP,
		       "a flush the backing refuses: EOPNOTSUPP", "status %d",
		       st);
		REPORT(backend_node_becomes(bf, "feature-flush-cache", 0) &&
			       backend_node_becomes(bf, "feature-barrier", 0),
		       "feature-flush-cache and feature-barrier withdrawn",
		       "still offered");
	} else {
		REPORT(!bf->feat_flush,
		       "after a reconnect flush is still not offered",
		       "offered again");
	}
	fill_pattern(buf, 4096, 12);
	st = blkfront_io(bf, 0, BLKIF_OP_FLUSH_DISKCACHE, 8, buf, 4096, 0);
	REPORT(st == BLKIF_RSP_EOPNOTSUPP, "a write with flush: EOPNOTSUPP",
	       "status %d", st);
	st = blkfront_io(bf, 0, BLKIF_OP_WRITE_BARRIER, 0, NULL, 0, 0);
	REPORT(st == BLKIF_RSP_EOPNOTSUPP, "a barrier: EOPNOTSUPP",
	       "status %d", st);
	REPORT(io_carries_on(bf, 256, 13), "writes and reads carry on",
	       "pattern lost");
	free(buf);
}

/*
 * The backing fails: writes into unallocated space of a full filesystem
 * (ENOSPC), then reads past the end of a backing file cut short by the
 * operator (truncate_path): each gets BLKIF_RSP_ERROR, the rest works.
 */
static void scenario_eio(struct blkfront *bf, uint64_t bad_sector,
			 const char *truncate_path)
{
	uint8_t buf[4096];
	int st;

	memset(buf, 0x5a, sizeof(buf));
	st = blkfront_io(bf, 0, BLKIF_OP_WRITE, bad_sector, buf, 4096, 0);
	REPORT(st == BLKIF_RSP_ERROR, "write the backing cannot store: error",
	       "status %d", st);
	st = blkfront_io(bf, 0, BLKIF_OP_WRITE, 0, buf, 4096, 0);
	REPORT(st == BLKIF_RSP_OKAY, "write to allocated space still works",
	       "status %d", st);
	st = blkfront_io(bf, 0, BLKIF_OP_READ, 0, buf, 4096, 0);
	REPORT(st == BLKIF_RSP_OKAY && buf[100] == 0x5a,
	       "read still works", "status %d", st);
	if (!truncate_path)
		return;
	if (truncate(truncate_path, 1 << 20) < 0) {
		REPORT(0, "backing cut short", "%s", strerror(errno));
		return;
	}
	st = blkfront_io(bf, 0, BLKIF_OP_READ, 4096, buf, 4096, 0);
	REPORT(st == BLKIF_RSP_ERROR, "read past a shrunk backing: error",
	       "status %d", st);
	st = blkfront_io(bf, 0, BLKIF_OP_READ, 0, buf, 4096, 0);
	REPORT(st == BLKIF_RSP_OKAY, "read before the cut still works",
	       "status %d", st);
}

/* ------------------------------------------------------------------ */
/* hostile requests                                                    */
/* ------------------------------------------------------------------ */

/* Puts r on queue 0 and waits for its answer; rsp_slot_copy gets the
 * response slot's first 16 bytes. 99: no answer, 98: another id. */
static int16_t raw_request(struct blkfront *bf, const struct blkfront_rawreq *r,
			   uint8_t *rsp_slot_copy)
{
	uint64_t rid;
	uint8_t op;
	int16_t st;
	struct blkfront_queue *q = &bf->q[0];
	uint32_t idx = q->req_prod_pvt;

	blkfront_put_req(bf, 0, r);
	blkfront_push(bf, 0);
	if (blkfront_get_response(bf, 0, 10000, &rid, &op, &st) < 0)
		return 99;
	if (rsp_slot_copy)
		memcpy(rsp_slot_copy,
		       (uint8_t *)q->sring + 64 +
			       (size_t)(idx & (q->nr_ents - 1)) *
				       blkfront_slot_size(bf),
		       16);
	return rid == r->id ? st : 98;
}

static bool still_works(struct blkfront *bf)
{
	uint8_t buf[4096];

	return blkfront_io(bf, 0, BLKIF_OP_READ, 0, buf, sizeof(buf), 0) ==
	       BLKIF_RSP_OKAY;
}

/* A good one-page read of sector 0 into gref; tests then spoil it. */
static struct blkfront_rawreq good_read(uint64_t id, int gref)
{
	struct blkfront_rawreq r = { .operation = BLKIF_OP_READ,
				     .nr_segments = 1, .id = id };

	r.seg[0] = (struct ring_blkif_seg){ (uint32_t)gref, 0, 7 };
	return r;
}

/* An indirect read of nseg segments described in page ind_gref. */
static struct blkfront_rawreq indirect_read(uint64_t id, uint16_t nseg,
					    uint32_t ind_gref)
{
	struct blkfront_rawreq r = { .operation = BLKIF_OP_INDIRECT,
				     .indirect_op = BLKIF_OP_READ,
				     .nr_segments = nseg, .id = id,
				     .nr_ind = 1 };

	r.ind_gref[0] = ind_gref;
	return r;
}

/* Sends r, expects status want and a device that still works. */
static void expect(struct blkfront *bf, const struct blkfront_rawreq *r,
		   int16_t want, const char *what)
{
	int16_t st = raw_request(bf, r, NULL);

	REPORT(st == want && still_works(bf), what, "status %d", st);
}

static void scenario_hostile(struct blkfront *bf)
{
	int gref = blkfront_grant_page(bf, 100);
	struct blkfront_rawreq r;
	uint8_t rsp[16];
	int16_t st;

	if (bf->o.abi == RING_BLKIF_ABI_X86_32) {
		REPORT(0, "hostile", "run with the 64-bit ABI");
		return;
	}
	r = good_read(0xffffffffffffff01ull, gref);
	st = raw_request(bf, &r, rsp);
	REPORT(st == BLKIF_RSP_OKAY, "hand-made good request", "status %d", st);
	/* XSA-216: padding of the response carries nothing of the backend. */
	REPORT(rsp[9] == 0 && rsp[12] == 0 && rsp[13] == 0 && rsp[14] == 0 &&
		       rsp[15] == 0,
	       "response padding zeroed (XSA-216)",
	       "bytes %02x %02x %02x %02x %02x", rsp[9], rsp[12], rsp[13],
	       rsp[14], rsp[15]);

	r = good_read(2, gref);
	r.nr_segments = 12;
	expect(bf, &r, BLKIF_RSP_ERROR, "12 segments: error, device goes on");

	r = good_read(3, gref);
	r.nr_segments = 0;
	expect(bf, &r, BLKIF_RSP_ERROR, "read without segments: error");

	r = good_read(4, gref);
	r.seg[0].last_sect = 8;
	expect(bf, &r, BLKIF_RSP_ERROR, "segment beyond its page: error");

	r = good_read(5, gref);
	r.seg[0].first_sect = 6;
	r.seg[0].last_sect = 2;
	expect(bf, &r, BLKIF_RSP_ERROR, "first_sect after last_sect: error");

	r = good_read(6, gref);
	r.sector = bf->sectors - 4;
	expect(bf, &r, BLKIF_RSP_ERROR, "read across the end: error");

	r = good_read(7, gref);
	r.sector = UINT64_MAX - 3;
	expect(bf, &r, BLKIF_RSP_ERROR, "sector overflow: error");

	r = good_read(8, gref);
	r.operation = 77;
	expect(bf, &r, BLKIF_RSP_EOPNOTSUPP, "unknown operation: EOPNOTSUPP");

	r = good_read(9, gref);
	r.operation = BLKIF_OP_RESERVED_1;
	expect(bf, &r, BLKIF_RSP_EOPNOTSUPP,
	       "reserved operation: EOPNOTSUPP");

	r = good_read(10, 0x7fffff);
	expect(bf, &r, BLKIF_RSP_ERROR, "grant never given: error");

	{
		/* A read into a page granted read-only. */
		int ro = xsg_grant_access(bf->g, bf->backend_id,
					  bf->pool_frame + 200, true);

		r = good_read(11, ro);
		expect(bf, &r, BLKIF_RSP_ERROR,
		       "read into a read-only grant: error");
		xsg_end_access(bf->g, (uint32_t)ro);
	}

	r = indirect_read(12, 300, (uint32_t)gref);
	expect(bf, &r, BLKIF_RSP_ERROR, "indirect with 300 segments: error");

	r = indirect_read(13, 4, 0x7ffff0);
	expect(bf, &r, BLKIF_RSP_ERROR, "indirect page not granted: error");

	{
		/* Indirect page whose segments are malformed. */
		uint8_t *page = blkfront_page(bf, 300);
		int pg = blkfront_grant_page(bf, 300);
		struct blkif_request_segment s = { (uint32_t)gref, 3, 9 };

		memcpy(page, &s, 8);
		r = indirect_read(14, 1, (uint32_t)pg);
		expect(bf, &r, BLKIF_RSP_ERROR,
		       "indirect segment beyond its page: error");
	}

	{
		struct blkfront_rawreq d = { .operation = BLKIF_OP_DISCARD,
					     .id = 15, .sector = 8,
					     .nr_sectors = UINT64_MAX - 4 };

		st = raw_request(bf, &d, NULL);
		REPORT((st == BLKIF_RSP_ERROR || st == BLKIF_RSP_EOPNOTSUPP) &&
			       still_works(bf),
		       "discard length overflow: refused", "status %d", st);
	}
}

/* A producer index far beyond the ring: the device must be shut down. */
static void scenario_rogue(struct blkfront *bf)
{
	struct blkfront_queue *q = &bf->q[0];
	int rc;

	REPORT(still_works(bf), "device works before", "no");
	blkfront_set_req_prod(bf, 0, q->rsp_cons + q->nr_ents + 5);
	rc = blkfront_wait_backend_state(bf, 6, 10000);
	REPORT(rc == 0, "producer beyond the ring: backend closes the device",
	       "backend state %d", blkfront_backend_state(bf));
}

/* Requests in flight, then gone without a word. */
static void scenario_vanish(struct blkfront *bf)
{
	enum { N = 24 };
	unsigned int k;

	for (k = 0; k < N; k++) {
		struct blkfront_rawreq r = good_read(1000 + k,
						     blkfront_grant_page(bf, k));

		r.operation = k % 2 ? BLKIF_OP_WRITE : BLKIF_OP_READ;
		r.sector = (uint64_t)k * 8;
		blkfront_put_req(bf, 0, &r);
	}
	blkfront_push(bf, 0);
	printf("PASS: %s: %d requests left in flight\n", blkfront_name, N);
	fflush(stdout);
	_exit(0);
}

/*
 * A guest whose frontend closes and connects again, ROUNDS times, with
 * I/O on every queue each time (a kexec'd or suspended guest, or a driver
 * reloaded): what the guest holds of its memory, grants and event
 * channels after the last round is what it held after the first.
 */
static void scenario_reconnects(struct blkfront *bf)
{
	enum { ROUNDS = 40 };
	struct xsg_usage first = { 0 }, last;
	unsigned int round, q, bad = 0;
	int rc;

	for (round = 1; round <= ROUNDS && !bad; round++) {
		rc = blkfront_disconnect(bf);
		if (rc == 0)
			rc = blkfront_connect(bf, &bf->o);
		for (q = 0; q < bf->o.nr_queues && rc == 0; q++)
			if (!io_carries_on_queue(bf, q, (round % 16) * 64,
						 round))
				rc = -EIO;
		if (rc) {
			printf("# round %u: %d, backend state %d\n", round, rc,
			       blkfront_backend_state(bf));
			bad = round;
		}
		if (round == 1)
			xsg_usage(bf->g, &first);
	}
	xsg_usage(bf->g, &last);
	printf("# after round 1: %u pages, %u grants, %u ports; after %u: "
	       "%u, %u, %u\n", first.pages, first.grants, first.ports,
	       round - 1, last.pages, last.grants, last.ports);
	REPORT(!bad, "closed and connected again 40 times, I/O each time",
	       "round %u failed", bad);
	REPORT(last.pages == first.pages && last.grants == first.grants &&
		       last.ports == first.ports,
	       "40 reconnects: the guest's pages, grants and channels stay "
	       "as after the first",
	       "pages %u -> %u, grants %u -> %u, ports %u -> %u", first.pages,
	       last.pages, first.grants, last.grants, first.ports,
	       last.ports);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* qd writes of bs bytes at random places and a flush, pushed at once. */
static void push_writes_and_flush(struct blkfront *bf, struct blkfront_req *r,
				  size_t bs, unsigned int qd)
{
	unsigned int per = (unsigned int)((bs + 4095) / 4096), k;
	uint64_t blocks = bf->sectors / (bs / 512);
	struct blkfront_rawreq f = {
		.operation = BLKIF_OP_FLUSH_DISKCACHE, .id = bf->next_id++,
	};

	for (k = 0; k < qd; k++) {
		r[k] = (struct blkfront_req){
			.op = BLKIF_OP_WRITE, .bytes = bs, .page0 = k * per,
			.ind_idx = k, .ind_gref = -1,
			.sector = blkfront_rand() % blocks * (bs / 512),
		};
		blkfront_submit(bf, 0, &r[k]);
	}
	if (bf->feat_flush)
		blkfront_put_req(bf, 0, &f);
	blkfront_push(bf, 0);
}

/*
 * Connect/disconnect churn under load: for secs seconds, qd writes of bs
 * bytes and a flush pushed, then at once Closing (the backend finishes or
 * fails them before it is Closed), then connected again. Each close must
 * end within 10 s (the daemon's own bound is the test's xenbackctl probe).
 */
static void scenario_busy_close(struct blkfront *bf, size_t bs,
				unsigned int qd, double secs)
{
	unsigned int per = (unsigned int)((bs + 4095) / 4096), k, rounds = 0;
	struct blkfront_req *r = calloc(qd, sizeof(*r));
	double t0 = now_s(), worst = 0;
	int rc = 0;

	if (!r || (size_t)per * qd > BLKFRONT_POOL_PAGES ||
	    bf->sectors < bs / 512) {
		REPORT(0, "busy close", "bad parameters");
		free(r);
		return;
	}
	while (rc == 0 && now_s() - t0 < secs) {
		double c0;

		push_writes_and_flush(bf, r, bs, qd);
		usleep(2000); /* the backend has taken them */
		c0 = now_s();
		rc = blkfront_disconnect(bf);
		c0 = now_s() - c0;
		worst = c0 > worst ? c0 : worst;
		/* Closed: the backend let go of every page. */
		for (k = 0; k < qd; k++)
			blkfront_complete(bf, &r[k]);
		if (rc == 0)
			rc = blkfront_connect(bf, &bf->o);
		rounds++;
	}
	printf("# busy close: %u rounds, longest close %.2f s\n", rounds,
	       worst);
	REPORT(rc == 0 && rounds > 0,
	       "closed with writes and a flush in flight, connected again, "
	       "for the whole run",
	       "round %u: %d, backend state %d", rounds, rc,
	       blkfront_backend_state(bf));
	free(r);
}

/*
 * A close stuck behind a slow flush (tests/core/slow-close.sh): pattern A
 * written over the first qd * bs bytes, then cmd (which makes the
 * backing's flushes wait), then qd writes of pattern B over the same
 * bytes and a flush pushed at once. Then, by mode:
 *   closed   Closing (the backend must answer Closing at once), Closed,
 *            and wait (up to 60 s) for the backend's Closed: every write
 *            and the flush answered OKAY, exactly once each; connect
 *            again and read B back;
 *   closed-only  the same without connecting again, and no disconnect
 *            at the end (the daemon is stopped meanwhile);
 *   restart  Closing, Closed, and at once Initialising again (a frontend
 *            restarting while the backend still closes): connect (up to
 *            60 s) and read B back;
 *   stay     stay connected until the file until exists (the script
 *            destroys the domain or removes the device meanwhile); no
 *            disconnect at the end.
 * "# pushed" is printed once the requests are in the ring, "# closed"
 * once the frontend is Closed.
 */
static bool skip_final_disconnect;
static void stay_idle(double secs, const char *until);

static void slow_close_read_back(struct blkfront *bf, const uint8_t *want,
				 size_t bytes, size_t bs)
{
	uint8_t *buf = malloc(bytes);
	int st = buf ? BLKIF_RSP_OKAY : -ENOMEM;

	for (size_t off = 0; off < bytes && st == BLKIF_RSP_OKAY; off += bs)
		st = blkfront_io(bf, 0, BLKIF_OP_READ, off / 512, buf + off,
				 bs, 0);
	REPORT(st == BLKIF_RSP_OKAY && !memcmp(buf, want, bytes),
	       "data written just before the slow close reads back",
	       "read status %d, %s", st,
	       st == BLKIF_RSP_OKAY ? "data differs" : "no data");
	free(buf);
}

/* After the backend's Closed: the answers the old ring holds. */
static void slow_close_answers(struct blkfront *bf, unsigned int qd,
			       uint64_t flush_id)
{
	unsigned int n = 0, bad = 0, flush = 0;
	uint64_t id;
	int16_t status;
	uint8_t op;

	while (blkfront_get_response(bf, 0, 200, &id, &op, &status) == 0) {
		n++;
		if (status != BLKIF_RSP_OKAY)
			bad++;
		if (id == flush_id)
			flush++;
	}
	REPORT(n == qd + 1 && !bad && flush == 1,
	       "every request in flight at the close answered once, OKAY",
	       "%u answers for %u requests, %u not OKAY, flush answered %u times",
	       n, qd + 1, bad, flush);
}

static void scenario_slow_close(struct blkfront *bf, size_t bs,
				unsigned int qd, const char *mode,
				const char *cmd, const char *until)
{
	unsigned int per = (unsigned int)((bs + 4095) / 4096), k;
	size_t bytes = bs * qd;
	struct blkfront_req *r = calloc(qd, sizeof(*r));
	uint8_t *a = malloc(bytes), *b = malloc(bytes);
	struct blkfront_rawreq f = { .operation = BLKIF_OP_FLUSH_DISKCACHE };
	struct blkfront_opts o = bf->o;
	double t0;
	int rc;

	if (!r || !a || !b || (size_t)per * qd > BLKFRONT_POOL_PAGES ||
	    bf->sectors < bytes / 512 || !bf->feat_flush || bs % 4096) {
		REPORT(0, "slow close", "bad parameters or no flush");
		goto out;
	}
	fill_pattern(a, bytes, 0xa);
	fill_pattern(b, bytes, 0xb);
	rc = BLKIF_RSP_OKAY;
	for (k = 0; k < qd && rc == BLKIF_RSP_OKAY; k++)
		rc = blkfront_io(bf, 0, BLKIF_OP_WRITE, (uint64_t)k * (bs / 512),
				 a + k * bs, bs, 0);
	REPORT(rc == BLKIF_RSP_OKAY, "pattern A written", "status %d", rc);
	if (cmd && system(cmd) != 0)
		REPORT(0, "slow close", "command failed: %s", cmd);
	for (k = 0; k < qd; k++) {
		r[k] = (struct blkfront_req){
			.op = BLKIF_OP_WRITE, .bytes = bs, .page0 = k * per,
			.ind_idx = k, .ind_gref = -1, .wbuf = b + k * bs,
			.sector = (uint64_t)k * (bs / 512),
		};
		blkfront_submit(bf, 0, &r[k]);
	}
	f.id = bf->next_id++;
	blkfront_put_req(bf, 0, &f);
	blkfront_push(bf, 0);
	usleep(100000); /* the backend has taken them */
	printf("# pushed\n");
	fflush(stdout);
	if (!strcmp(mode, "stay")) {
		skip_final_disconnect = true;
		stay_idle(600, until);
		goto out;
	}
	t0 = now_s();
	blkfront_set_state(bf, XenbusStateClosing);
	rc = blkfront_wait_backend_state(bf, XenbusStateClosing, 2000);
	REPORT(rc == 0, "the backend answers Closing at once",
	       "backend state %d after %.2f s", blkfront_backend_state(bf),
	       now_s() - t0);
	blkfront_set_state(bf, XenbusStateClosed);
	printf("# closed\n");
	fflush(stdout);
	if (!strcmp(mode, "closed") || !strcmp(mode, "closed-only")) {
		rc = blkfront_wait_backend_state(bf, XenbusStateClosed, 60000);
		printf("# backend Closed after %.2f s\n", now_s() - t0);
		REPORT(rc == 0, "the backend is Closed once its I/O is done",
		       "backend state %d", blkfront_backend_state(bf));
		slow_close_answers(bf, qd, f.id);
		if (!strcmp(mode, "closed-only")) {
			skip_final_disconnect = true;
			goto out;
		}
	}
	for (k = 0; k < qd; k++)
		blkfront_complete(bf, &r[k]);
	o.timeout_ms = 60000;
	t0 = now_s();
	rc = blkfront_connect(bf, &o);
	printf("# connected again after %.2f s\n", now_s() - t0);
	REPORT(rc == 0, "connected again after the slow close", "rc %d", rc);
	if (rc == 0)
		slow_close_read_back(bf, b, bytes, bs);
out:
	free(r);
	free(a);
	free(b);
}

/*
 * Grants reused as Linux blkfront reuses them: 10 writes of 32 KiB (8
 * segments, 16 sectors apart) one at a time on queue 0, then 10 reads of
 * them, compared. With persistent grants each request gets the grants
 * of the one before in reverse order; the script checks the backend's
 * layout counters (sim-blk-mapbatch.sh).
 */
static void scenario_reuse(struct blkfront *bf)
{
	enum { N = 10, BYTES = 32768 };
	uint8_t *want = malloc((size_t)N * BYTES), *buf = malloc(BYTES);
	unsigned int i, bad = 0;
	int st;

	if (!want || !buf) {
		REPORT(0, "reuse", "no memory");
		goto out;
	}
	for (i = 0; i < N && !bad; i++) {
		fill_pattern(want + (size_t)i * BYTES, BYTES, 1000 + i);
		st = blkfront_io(bf, 0, BLKIF_OP_WRITE, (uint64_t)i * 64,
				 want + (size_t)i * BYTES, BYTES, 0);
		bad = st != BLKIF_RSP_OKAY;
	}
	for (i = 0; i < N && !bad; i++) {
		memset(buf, 0, BYTES);
		st = blkfront_io(bf, 0, BLKIF_OP_READ, (uint64_t)i * 64, buf,
				 BYTES, 0);
		bad = st != BLKIF_RSP_OKAY ||
		      memcmp(buf, want + (size_t)i * BYTES, BYTES);
	}
	REPORT(!bad, "10 writes of 32 KiB one at a time, read back",
	       "request %u", i);
out:
	free(want);
	free(buf);
}

/*
 * Load for `make bench`: qd requests of bs bytes kept in flight on queue
 * 0 for secs seconds, random (rand*) or sequential offsets; prints
 * "BENCH ios=N secs=S".
 */
/*
 * Requests of given segment counts (list: "1,12,255"): for each count k,
 * one write of k whole pages, then two reads of k segments each (whole
 * pages, then from sector 3 of the first page to 2 sectors before the
 * last one's end), all the frontend's pages scribbled before each read, the
 * data compared. So the backend sees exactly 2 reads of k segments per
 * count, for tests of which reads it serves which way.
 */
static void scenario_segs(struct blkfront *bf, const char *list)
{
	uint8_t *shadow = malloc((size_t)RING_BLKIF_MAX_INDIRECT_SEGS * 4096);
	uint8_t *buf = malloc((size_t)RING_BLKIF_MAX_INDIRECT_SEGS * 4096);
	uint64_t sector = 0;
	const char *p = list;
	unsigned int reads = 0;
	int bad = 0;

	if (!shadow || !buf) {
		REPORT(0, "segment counts", "no memory");
		goto out;
	}
	while (*p && !bad) {
		char *end;
		unsigned int k = (unsigned int)strtoul(p, &end, 10), j, i;
		size_t bytes = (size_t)k * 4096;
		int st;

		p = *end ? end + 1 : end;
		if (!k || k > max_sectors(bf) / 8 + 1 ||
		    sector + k * 8 > bf->sectors) {
			REPORT(0, "segment counts", "%u segments do not fit", k);
			bad = 1;
			break;
		}
		fill_pattern(shadow, bytes, sector + k);
		st = blkfront_io(bf, 0, BLKIF_OP_WRITE, sector, shadow, bytes,
				 0);
		for (j = 0; j < 2 && st == BLKIF_RSP_OKAY; j++) {
			unsigned int f = j ? 3 : 0;
			size_t n = j ? bytes - 5 * 512 : bytes;

			/* Whichever pages the request gets (the free list
			 * decides), none holds the data before the read. */
			for (i = 0; i < BLKFRONT_POOL_PAGES; i++)
				memset(blkfront_page(bf, i), 0xa5, 4096);
			memset(buf, 0x5a, n);
			st = blkfront_io(bf, 0, BLKIF_OP_READ, sector + f, buf,
					 n, f);
			reads++;
			if (st == BLKIF_RSP_OKAY &&
			    memcmp(buf, shadow + f * 512, n)) {
				REPORT(0, "segment counts",
				       "read of %u segments%s: data differs", k,
				       j ? " (partial pages)" : "");
				bad = 1;
			}
		}
		if (st != BLKIF_RSP_OKAY && !bad) {
			REPORT(0, "segment counts", "%u segments: status %d", k,
			       st);
			bad = 1;
		}
		sector += (uint64_t)k * 8;
	}
	if (!bad)
		REPORT(1, "segment counts", "-");
	printf("SEGS reads=%u\n", reads);
out:
	free(shadow);
	free(buf);
}

static void scenario_bench(struct blkfront *bf, const char *w, size_t bs,
			   unsigned int qd, double secs)
{
	bool rnd_off = !strncmp(w, "rand", 4);
	uint8_t op = strstr(w, "write") ? BLKIF_OP_WRITE : BLKIF_OP_READ;
	unsigned int per = (unsigned int)((bs + 4095) / 4096), k;
	uint64_t blocks = bf->sectors / (bs / 512), next = 0, ios = 0;
	struct blkfront_req *r = calloc(qd, sizeof(*r));
	uint64_t *ids = calloc(qd, sizeof(*ids));
	struct timespec t0, t1;
	double el = 0;
	int failed = 0;

	if (!r || !ids || (size_t)per * qd > BLKFRONT_POOL_PAGES || !blocks) {
		REPORT(0, "bench", "bad parameters");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < qd; k++) {
		r[k].op = op;
		r[k].bytes = bs;
		r[k].page0 = k * per;
		r[k].ind_idx = k;
		r[k].ind_gref = -1;
		r[k].sector = (rnd_off ? blkfront_rand() % blocks : next++ % blocks) *
			      (bs / 512);
		ids[k] = (uint64_t)blkfront_submit(bf, 0, &r[k]);
	}
	blkfront_push_check(bf, 0);
	while (!failed) {
		uint64_t id;
		uint8_t o;
		int16_t st;

		if (blkfront_get_response(bf, 0, 10000, &id, &o, &st) < 0 ||
		    st != BLKIF_RSP_OKAY) {
			failed = 1;
			break;
		}
		for (k = 0; k < qd && ids[k] != id; k++)
			;
		if (k == qd) {
			failed = 1;
			break;
		}
		blkfront_complete(bf, &r[k]);
		ios++;
		if ((ios & 63) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			el = (double)(t1.tv_sec - t0.tv_sec) +
			     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
			if (el >= secs)
				break;
		}
		r[k].sector = (rnd_off ? blkfront_rand() % blocks : next++ % blocks) *
			      (bs / 512);
		ids[k] = (uint64_t)blkfront_submit(bf, 0, &r[k]);
		blkfront_push_check(bf, 0);
	}
	/* Drain what is still in flight before disconnecting. */
	for (k = 0; k + 1 < qd && !failed; k++) {
		uint64_t id;
		uint8_t o;
		int16_t st;

		if (blkfront_get_response(bf, 0, 10000, &id, &o, &st) < 0)
			break;
	}
	REPORT(!failed, "bench run", "I/O failed after %" PRIu64, ios);
	printf("BENCH ios=%" PRIu64 " secs=%.3f\n", ios, el);
	free(r);
	free(ids);
}

/*
 * Online resize: the backing file grows (the operator's truncate) while
 * the frontend is idle: the backend notices by itself and publishes the
 * new "sectors"; the new end is usable. Then it shrinks back and the
 * operator runs cmd (xenbackctl resize): once it returns, "sectors" says
 * so, at once; beyond the end is refused.
 */
static int wait_sectors(struct blkfront *bf, uint64_t want, int tries)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < tries; i++) {
		if (blkfront_backend_u64(bf, "sectors", &v) == 0 && v == want)
			return 0;
		usleep(50000);
	}
	return -1;
}

static void scenario_resize(struct blkfront *bf, const char *path,
			    uint64_t new_bytes, const char *cmd)
{
	uint64_t old = bf->sectors, want = new_bytes / 512, v = 0;
	uint8_t buf[4096];
	int st;

	if (!path || !new_bytes || !cmd || truncate(path, (off_t)new_bytes) < 0) {
		REPORT(0, "resize", "cannot grow the backing");
		return;
	}
	REPORT(wait_sectors(bf, want, 100) == 0,
	       "grown backing seen by the idle frontend within 5 s",
	       "sectors still not %" PRIu64, want);
	memset(buf, 0x77, sizeof(buf));
	st = blkfront_io(bf, 0, BLKIF_OP_WRITE, want - 8, buf, 4096, 0);
	if (st == BLKIF_RSP_OKAY) {
		memset(buf, 0, sizeof(buf));
		st = blkfront_io(bf, 0, BLKIF_OP_READ, want - 8, buf, 4096, 0);
	}
	REPORT(st == BLKIF_RSP_OKAY && buf[4095] == 0x77,
	       "the new end is usable", "status %d", st);
	if (truncate(path, (off_t)(old * 512)) < 0) {
		REPORT(0, "resize", "cannot shrink the backing");
		return;
	}
	fflush(stdout);
	st = system(cmd);
	REPORT(st == 0 && blkfront_backend_u64(bf, "sectors", &v) == 0 &&
		       v == old,
	       "shrunk backing published when the operator asks",
	       "command status %d, sectors %" PRIu64 ", want %" PRIu64, st,
	       v, old);
	st = blkfront_io(bf, 0, BLKIF_OP_READ, old, buf, 4096, 0);
	REPORT(st == BLKIF_RSP_ERROR, "beyond the new end is refused",
	       "status %d", st);
}

/*
 * Connected and idle for secs, or until the file `until` exists (the
 * test says when it is done with the device meanwhile).
 */
static void stay_idle(double secs, const char *until)
{
	fflush(stdout);
	for (double t = 0; t < secs; t += 0.05) {
		if (until && access(until, F_OK) == 0)
			return;
		usleep(50000);
	}
}

int main(int argc, char **argv)
{
	struct blkfront_opts o = { .nr_queues = 1, .timeout_ms = 15000 };
	uint64_t expect = 0, bad_sector = 0;
	const char *truncate_path = NULL, *workload = "randread";
	const char *command = NULL;
	size_t bs = 4096;
	unsigned int qd = 1;
	double secs = 3, idle_after = 0;
	const char *idle_until = NULL;
	uint64_t resize_to = 0;
	unsigned int devid = 51712;
	struct blkfront *bf;
	const char *sc;
	int c, rc;

	while ((c = getopt(argc, argv, "d:q:o:a:i:pS:s:n:B:T:w:b:Q:t:R:C:W:U:")) != -1) {
		if (blkfront_common_opt(c, optarg, &o, &devid))
			continue;
		switch (c) {
		case 'q':
			o.nr_queues = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'o':
			o.ring_order = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'i':
			o.max_indirect = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'S':
			expect = strtoull(optarg, NULL, 0);
			break;
		case 'B':
			bad_sector = strtoull(optarg, NULL, 0);
			break;
		case 'T':
			truncate_path = optarg;
			break;
		case 'R':
			resize_to = strtoull(optarg, NULL, 0);
			break;
		case 'C':
			command = optarg;
			break;
		case 'w':
			workload = optarg;
			break;
		case 'b': {
			char *end;

			bs = strtoul(optarg, &end, 0);
			if (*end == 'k' || *end == 'K')
				bs <<= 10;
			else if (*end == 'm' || *end == 'M')
				bs <<= 20;
			break;
		}
		case 'Q':
			qd = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'W':
			idle_after = strtod(optarg, NULL);
			break;
		case 'U':
			idle_until = optarg;
			break;
		default:
			fprintf(stderr, "usage: see the source\n");
			return 2;
		}
	}
	rc = blkfront_start_scenario(argc, argv, devid, &o, &sc, &bf);
	if (rc)
		return rc;

	if (!strcmp(sc, "verify"))
		scenario_verify(bf, expect);
	else if (!strcmp(sc, "readonly"))
		scenario_readonly(bf, false);
	else if (!strcmp(sc, "cdrom"))
		scenario_readonly(bf, true);
	else if (!strcmp(sc, "discard"))
		scenario_discard(bf);
	else if (!strcmp(sc, "nodiscard"))
		scenario_nodiscard(bf, command);
	else if (!strcmp(sc, "discard-close"))
		scenario_discard_close(bf, command);
	else if (!strcmp(sc, "discard-whole-close"))
		scenario_discard_whole_close(bf, command);
	else if (!strcmp(sc, "discard-whole"))
		scenario_discard_whole(bf, command);
	else if (!strcmp(sc, "noflush"))
		scenario_noflush(bf, false);
	else if (!strcmp(sc, "noflush-again"))
		scenario_noflush(bf, true);
	else if (!strcmp(sc, "eio"))
		scenario_eio(bf, bad_sector, truncate_path);
	else if (!strcmp(sc, "hostile"))
		scenario_hostile(bf);
	else if (!strcmp(sc, "rogue"))
		scenario_rogue(bf);
	else if (!strcmp(sc, "resize"))
		scenario_resize(bf, truncate_path, resize_to, command);
	else if (!strcmp(sc, "bench"))
		scenario_bench(bf, workload, bs, qd, secs);
	else if (!strcmp(sc, "vanish"))
		scenario_vanish(bf);
	else if (!strcmp(sc, "reconnects"))
		scenario_reconnects(bf);
	else if (!strcmp(sc, "reuse"))
		scenario_reuse(bf);
	else if (!strcmp(sc, "busy-close"))
		scenario_busy_close(bf, bs, qd, secs);
	else if (!strcmp(sc, "segs"))
		scenario_segs(bf, workload);
	else if (!strcmp(sc, "slow-close"))
		scenario_slow_close(bf, bs, qd, workload, command, idle_until);
	else
		REPORT(0, sc, "unknown scenario");

	if (idle_after > 0)
		stay_idle(idle_after, idle_until);
	if (strcmp(sc, "rogue") && !skip_final_disconnect) {
		rc = blkfront_disconnect(bf);
		REPORT(rc == 0, "disconnect: backend Closed", "state %d",
		       blkfront_backend_state(bf));
	}
	blkfront_stop(bf);
	return blkfront_failures ? 1 : 0;
}
