/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk/queue.c - the data path of one blkif ring, on its worker thread.
 *
 * Life of a request:
 *
 *   ring pass  (event channel, or room freed by completions)
 *     fetch + check            ring/blkif: private copy, validated
 *     indirect pages           grant-copied into a private buffer, loaded
 *     writes                   guest pages -> queue pages (grant copy,
 *                              one batch per pass)
 *     reads, writes, fdsync    one io_submit per pass
 *     bad, unsupported,
 *     discard                  answered in the same pass
 *   completion (libaio's ring, read in place: right after io_submit,
 *              and when the edge-triggered eventfd fires)
 *     reads                    queue pages -> guest pages (one batch)
 *     write + flush            then an fdsync; answered once durable
 *     answers                  one push per batch, notify if asked
 *
 * In copy mode no guest page is ever under O_DIRECT: I/O
 * runs on the queue's own page-aligned pool, so a frontend cannot change
 * data during I/O or make the backend merge non-contiguous frames
 * (XSA-229 class). In map mode (blk/datapath.c: where the backing is
 * known not to touch a page after its I/O completed) the I/O runs on the
 * guest's mapped pages, as Linux blkback's; the pool pages stay reserved
 * as the bound.
 *
 * Resources are bounded per queue (blk.h): at most nr_slots requests and
 * BLK_QUEUE_POOL_PAGES pages in flight; a request is fetched only when the largest
 * one could be served, so a full queue leaves requests in the ring, and the
 * pass resumes when completions free room.
 */
#include "blk/blk.h"
#include "backend/defer.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum slot_stage {
	SLOT_FREE,
	SLOT_COPY_IN,	/* write data being copied from the guest */
	SLOT_IO,	/* iocb to submit or in flight */
	SLOT_COPY_OUT,	/* read data being copied to the guest */
	SLOT_BARRIER_WAIT,
};

struct blk_slot {
	struct ring_blkif_req req;
	uint32_t jent;		/* its journal entry */
	enum slot_stage stage;
	int16_t status;
	bool write;		/* data flows guest -> backing */
	bool sync_after;	/* fdatasync once the data is written */
	bool sync_only;		/* the iocb is an fdsync */
	bool copy_failed;
	bool direct;		/* map mode: I/O on the guest's pages */
	unsigned int nr_pages;
	unsigned int nr_iov;
	size_t bytes;
	struct iocb iocb;
	uint32_t page[BLK_MAX_INDIRECT_SEGS];
	struct iovec iov[BLK_MAX_INDIRECT_SEGS];
	/* Map mode: the guest's pages it holds (blk/pgrant.c). */
	struct blk_pgrant_hold hold;
};

static inline void ctr_add(atomic_uint_fast64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static inline uint8_t *page_addr(struct blk_queue *q, uint32_t page)
{
	return blk_pool_addr(&q->pool, page);
}

static unsigned int max_request_pages(const struct blk_queue *q)
{
	return q->lim.max_indirect_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST ?
		       q->lim.max_indirect_segs :
		       BLKIF_MAX_SEGMENTS_PER_REQUEST;
}

/* ------------------------------------------------------------------ */
/* Slots, pages, answers                                               */
/* ------------------------------------------------------------------ */

static bool can_take(const struct blk_queue *q)
{
	return q->nr_free_slots > 0 &&
	       q->pool.nr_free >= max_request_pages(q);
}

static struct blk_slot *slot_get(struct blk_queue *q)
{
	struct blk_slot *s = &q->slots[q->free_slots[--q->nr_free_slots]];

	s->nr_pages = 0;
	s->nr_iov = 0;
	s->bytes = 0;
	s->status = BLKIF_RSP_OKAY;
	s->write = s->sync_after = s->sync_only = s->copy_failed = false;
	s->direct = false;
	s->hold.own = NULL;
	s->hold.nr_pins = 0;
	q->in_use++;
	ctr_add(&q->bd->ctr.inflight, 1);
	return s;
}

static void release_guest_pages(struct blk_queue *q, struct blk_slot *s);

static void slot_put(struct blk_queue *q, struct blk_slot *s)
{
	release_guest_pages(q, s);
	blk_pool_put(&q->pool, s->page, s->nr_pages);
	s->nr_pages = 0;
	s->stage = SLOT_FREE;
	q->free_slots[q->nr_free_slots++] = (unsigned int)(s - q->slots);
	q->in_use--;
	atomic_fetch_sub_explicit(&q->bd->ctr.inflight, 1,
				  memory_order_relaxed);
}

/* Answers a request and frees its slot; pushed later, in a batch. */
static void finish(struct blk_queue *q, struct blk_slot *s, int status)
{
	struct blk_counters *c = &q->bd->ctr;

	if (status == BLKIF_RSP_ERROR)
		ctr_add(&c->err_req, 1);
	else if (status == BLKIF_RSP_EOPNOTSUPP)
		ctr_add(&c->unsupported, 1);
	/* The effective operation (indirect_op for an indirect request), as
	 * Linux blkback answers and blkfront checks. */
	xb_journal_answered(q->journal, s->jent,
			    ring_blkif_rsp_prod_pvt(&q->ring));
	ring_blkif_respond(&q->ring, s->req.id, s->req.op, (int16_t)status);
	slot_put(q, s);
}

/*
 * The journal learns what was published from our own index: the shared
 * rsp_prod lies in the guest's page, and a guest writing it back would
 * keep answered entries from ever being freed (the journal's free list
 * would then run out).
 */
static void push_responses(struct blk_queue *q)
{
	if (ring_blkif_push(&q->ring))
		xb_evtchn_notify(&q->ch);
	xb_journal_published(q->journal, ring_blkif_rsp_prod_pvt(&q->ring));
}

/* A frontend that broke the ring protocol: take nothing more from it. */
static void rogue(struct blk_queue *q, const char *why)
{
	if (q->dead)
		return;
	q->dead = true;
	xb_device_fail_async(q->bd->dev, -EPROTO, "queue %u: %s", q->index,
			     why);
}

/* ------------------------------------------------------------------ */
/* Grant copy batches                                                  */
/* ------------------------------------------------------------------ */

static void add_copy(struct blk_queue *q, struct blk_slot *s, unsigned int i)
{
	const struct ring_blkif_seg *seg = &s->req.seg[i];
	xengnttab_grant_copy_segment_t *c = &q->copy[q->nr_copy];
	uint16_t off = (uint16_t)(seg->first_sect << RING_BLKIF_SECTOR_SHIFT);
	uint8_t *local = page_addr(q, s->page[i]) + off;

	c->len = (uint16_t)((seg->last_sect - seg->first_sect + 1u)
			    << RING_BLKIF_SECTOR_SHIFT);
	c->status = 0;
	if (s->write) {
		c->flags = GNTCOPY_source_gref;
		c->source.foreign.ref = seg->gref;
		c->source.foreign.offset = off;
		c->source.foreign.domid = (uint16_t)q->bd->dev->domid;
		c->dest.virt = local;
	} else {
		c->flags = GNTCOPY_dest_gref;
		c->dest.foreign.ref = seg->gref;
		c->dest.foreign.offset = off;
		c->dest.foreign.domid = (uint16_t)q->bd->dev->domid;
		c->source.virt = local;
	}
	q->copy_owner[q->nr_copy++] = s;
}

/* Appends [base, base + len) to the slot's iovecs, merged when adjacent. */
static void add_iov(struct blk_slot *s, uint8_t *base, size_t len)
{
	struct iovec *last = s->nr_iov ? &s->iov[s->nr_iov - 1] : NULL;

	if (last && (uint8_t *)last->iov_base + last->iov_len == base) {
		last->iov_len += len;
	} else {
		s->iov[s->nr_iov].iov_base = base;
		s->iov[s->nr_iov].iov_len = len;
		s->nr_iov++;
	}
	s->bytes += len;
}

/* Map mode: what the request mapped or pinned of the guest goes. */
static void release_guest_pages(struct blk_queue *q, struct blk_slot *s)
{
	if (s->direct)
		blk_pgrants_release(&q->pgrants, q->gt, q->bd->dev->domid,
				    &s->hold);
	s->direct = false;
}

/*
 * How a request's pages lay (docs/perf.md, reversed grants): whether
 * grants reused in reverse order are common enough on a real guest to be
 * worth a second mapping. Only for requests of several segments, so a
 * 4 KiB request pays nothing.
 */
static void count_layout(struct blk_queue *q, const struct blk_slot *s,
			 uint8_t *const *page)
{
	struct blk_counters *c = &q->bd->ctr;
	unsigned int i, rev = 0;

	for (i = 1; i < s->req.nr_segments; i++)
		rev += page[i] + RING_BLKIF_PAGE_SIZE == page[i - 1];
	ctr_add(&c->map_segs, s->req.nr_segments);
	ctr_add(&c->map_iovs, s->nr_iov);
	if (rev)
		ctr_add(&c->map_rev_segs, rev);
}

/* What the set's last lookups did, added to the device's counters. */
static void count_set(struct blk_queue *q, const struct blk_pgrants *before)
{
	const struct blk_pgrants *c = &q->pgrants;
	struct blk_counters *d = &q->bd->ctr;
	uint64_t peak = atomic_load_explicit(&d->map_peak,
					     memory_order_relaxed);

	if (c->hits != before->hits)
		ctr_add(&d->map_hits, c->hits - before->hits);
	if (c->twin_segs != before->twin_segs)
		ctr_add(&d->map_twin_segs, c->twin_segs - before->twin_segs);
	if (c->twins != before->twins)
		ctr_add(&d->map_twins, c->twins - before->twins);
	if (c->misses == before->misses && c->twins == before->twins)
		return;
	if (c->misses != before->misses)
		ctr_add(&d->map_misses, c->misses - before->misses);
	if (c->evictions != before->evictions)
		ctr_add(&d->map_evictions, c->evictions - before->evictions);
	if (c->own != before->own)
		ctr_add(&d->map_own, c->own - before->own);
	/* Several queues raise it: the largest wins. */
	while (c->mapped > peak &&
	       !atomic_compare_exchange_weak_explicit(
		       &d->map_peak, &peak, c->mapped, memory_order_relaxed,
		       memory_order_relaxed))
		;
}

/*
 * Map mode: the I/O runs on the guest's own pages, as Linux blkback's.
 * blk/pgrant.c maps the request's grants not already mapped in one call,
 * at adjacent addresses in segment order, so that segments following on
 * in adjacent pages make one iovec: a 1 MiB request on whole pages is
 * one iovec, and the kernel extracts one range for O_DIRECT instead of
 * 256 single pages (docs/perf.md). With persistent grants the mappings are kept
 * (bounded, least recently used idle ones unmapped first) and held while
 * the I/O runs; otherwise they are unmapped when the request is answered.
 * Each segment is whole logical blocks at a block-aligned offset
 * (ring/blkif checks), as O_DIRECT needs. The pool pages taken for the
 * request stay reserved: they bound what is in flight as in copy mode,
 * and serve it if the guest's pages cannot be had (a mapping refused):
 * then the request is grant-copied, and a bad grant fails it there.
 */
static bool map_guest_pages(struct blk_queue *q, struct blk_slot *s)
{
	unsigned int i, n = s->req.nr_segments;
	uint8_t *page[BLK_MAX_INDIRECT_SEGS];
	int prot = q->bd->persistent || !s->write ? PROT_READ | PROT_WRITE :
						      PROT_READ;
	struct blk_pgrants before;
	int rc;

	before.hits = q->pgrants.hits;
	before.misses = q->pgrants.misses;
	before.evictions = q->pgrants.evictions;
	before.own = q->pgrants.own;
	before.twins = q->pgrants.twins;
	before.twin_segs = q->pgrants.twin_segs;
	rc = blk_pgrants_map_request(&q->pgrants, q->gt, q->bd->dev->domid,
				     s->req.seg, n, prot, page, &s->hold);
	count_set(q, &before);
	if (rc < 0)
		return false;
	s->direct = true;
	/* The pool's iovecs (map_to_pool) give way to the guest's. */
	s->nr_iov = 0;
	s->bytes = 0;
	for (i = 0; i < n; i++) {
		const struct ring_blkif_seg *seg = &s->req.seg[i];
		size_t off = (size_t)seg->first_sect << RING_BLKIF_SECTOR_SHIFT;
		size_t len = (size_t)(seg->last_sect - seg->first_sect + 1u)
			     << RING_BLKIF_SECTOR_SHIFT;

		add_iov(s, page[i] + off, len);
	}
	if (n > 1)
		count_layout(q, s, page);
	return true;
}

/* Moves a slot's data (either way) and stages it for the batch's end. */
static void stage_copy(struct blk_queue *q, struct blk_slot *s)
{
	unsigned int i;

	s->copy_failed = false;
	for (i = 0; i < s->req.nr_segments; i++)
		add_copy(q, s, i);
	q->staged[q->nr_staged++] = s;
}

/* Runs the batch; marks the slots whose segments failed. */
static void run_copies(struct blk_queue *q)
{
	unsigned int i;

	if (!q->nr_copy)
		return;
	if (xengnttab_grant_copy(q->gt, q->nr_copy, q->copy) < 0) {
		for (i = 0; i < q->nr_copy; i++)
			q->copy_owner[i]->copy_failed = true;
	} else {
		for (i = 0; i < q->nr_copy; i++)
			if (q->copy[i].status != GNTST_okay)
				q->copy_owner[i]->copy_failed = true;
	}
	q->nr_copy = 0;
}

/* ------------------------------------------------------------------ */
/* Preparing I/O                                                       */
/* ------------------------------------------------------------------ */

/*
 * Pages for the segments (a contiguous run where the pool has one:
 * blk/pool.c), and the iovecs over them, merged when adjacent. can_take()
 * made sure the pool has enough.
 */
static void map_to_pool(struct blk_queue *q, struct blk_slot *s)
{
	unsigned int i;

	blk_pool_take(&q->pool, s->req.nr_segments, s->page);
	s->nr_pages = s->req.nr_segments;
	for (i = 0; i < s->req.nr_segments; i++) {
		const struct ring_blkif_seg *seg = &s->req.seg[i];
		size_t off = (size_t)seg->first_sect << RING_BLKIF_SECTOR_SHIFT;
		size_t len = (size_t)(seg->last_sect - seg->first_sect + 1u)
			     << RING_BLKIF_SECTOR_SHIFT;

		add_iov(s, page_addr(q, s->page[i]) + off, len);
	}
}

static void prep_data_iocb(struct blk_queue *q, struct blk_slot *s)
{
	int fd = q->bd->backing.fd;
	long long off = (long long)(s->req.sector << RING_BLKIF_SECTOR_SHIFT);

	if (s->nr_iov == 1) {
		if (s->write)
			io_prep_pwrite(&s->iocb, fd, s->iov[0].iov_base,
				       s->iov[0].iov_len, off);
		else
			io_prep_pread(&s->iocb, fd, s->iov[0].iov_base,
				      s->iov[0].iov_len, off);
	} else if (s->write) {
		io_prep_pwritev(&s->iocb, fd, s->iov, (int)s->nr_iov, off);
	} else {
		io_prep_preadv(&s->iocb, fd, s->iov, (int)s->nr_iov, off);
	}
	io_set_eventfd(&s->iocb, q->efd);
	s->iocb.data = s;
	s->sync_only = false;
}

static void io_failed(struct blk_queue *q, struct blk_slot *s, int err);

/*
 * The backing cannot flush (a filesystem without fsync, a network one
 * answering EOPNOTSUPP): as blkback, the request is answered
 * BLKIF_RSP_EOPNOTSUPP (blkfront then stops flushing) and flush and
 * barrier are offered no more: this worker's next pass refuses them, the
 * main thread writes the features off (blk_kicked()). Logged once.
 */
static void flush_refused(struct blk_queue *q, struct blk_slot *s, int err)
{
	struct blk_dev *bd = q->bd;

	if (!atomic_exchange(&bd->flush_refused, true)) {
		xb_dev_warn(bd->dev,
			    "queue %u: the backing refuses flushes (%s): "
			    "answered EOPNOTSUPP, flush and barrier no longer "
			    "offered",
			    q->index, strerror(err));
		xb_device_kick_async(bd->dev);
	}
	q->lim.flush = q->lim.barrier = false;
	finish(q, s, BLKIF_RSP_EOPNOTSUPP);
}

/*
 * Makes everything written so far durable, then answers. Done here with
 * fdatasync() rather than an AIO fdsync: on a real dom0 (Linux 6.1, the
 * block script's loop device) AIO fdsync requests were seen never to
 * complete, stalling the guest; flushes are rare and this queue only.
 */
static void sync_and_finish(struct blk_queue *q, struct blk_slot *s)
{
	int rc = fdatasync(q->bd->backing.fd) < 0 ? errno : 0;

	if (rc == EOPNOTSUPP || rc == EINVAL)
		flush_refused(q, s, rc);
	else if (rc)
		io_failed(q, s, rc);
	else
		finish(q, s, BLKIF_RSP_OKAY);
}

static void queue_submit(struct blk_queue *q, struct blk_slot *s)
{
	s->stage = SLOT_IO;
	q->submit[q->nr_submit++] = &s->iocb;
}

/*
 * Map mode: a read of more segments than the backing's disk takes in one
 * request goes through the pool, whose run (map_to_pool) the disk takes
 * as one request where the guest's scattered pages would be split
 * (blk/datapath.c, docs/blk.md "Large reads through the pool").
 */
static bool copy_large_read(struct blk_queue *q, const struct blk_slot *s)
{
	if (s->write || s->req.nr_segments <= q->copy_reads_over)
		return false;
	ctr_add(&q->bd->ctr.copy_reads, 1);
	return true;
}

/* Data request: reads go straight to I/O, writes copy in first. */
static void start_data(struct blk_queue *q, struct blk_slot *s)
{
	map_to_pool(q, s);
	if (q->bd->data_map && !copy_large_read(q, s) &&
	    map_guest_pages(q, s)) {
		prep_data_iocb(q, s);
		queue_submit(q, s);
		return;
	}
	if (s->write) {
		s->stage = SLOT_COPY_IN;
		stage_copy(q, s);
	}
	prep_data_iocb(q, s);
	if (!s->write)
		queue_submit(q, s);
}

/* Flush or barrier: data first if any, then an fdsync. */
static void start_sync(struct blk_queue *q, struct blk_slot *s)
{
	if (s->req.nr_segments) {
		s->write = true;
		s->sync_after = true;
		start_data(q, s);
	} else {
		sync_and_finish(q, s);
	}
}

static int load_indirect(struct blk_queue *q, struct blk_slot *s)
{
	xengnttab_grant_copy_segment_t c[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	unsigned int i, n = s->req.nr_indirect_pages;

	for (i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].flags = GNTCOPY_source_gref;
		c[i].source.foreign.ref = s->req.indirect_grefs[i];
		c[i].source.foreign.offset = 0;
		c[i].source.foreign.domid = (uint16_t)q->bd->dev->domid;
		c[i].dest.virt = q->indirect_buf + (size_t)i * RING_BLKIF_PAGE_SIZE;
		c[i].len = RING_BLKIF_PAGE_SIZE;
	}
	if (xengnttab_grant_copy(q->gt, n, c) < 0)
		return BLKIF_RSP_ERROR;
	for (i = 0; i < n; i++)
		if (c[i].status != GNTST_okay)
			return BLKIF_RSP_ERROR;
	return ring_blkif_load_indirect(&s->req, q->indirect_buf, &q->lim);
}

static void count_request(struct blk_queue *q, const struct ring_blkif_req *r)
{
	struct blk_counters *c = &q->bd->ctr;

	if (r->indirect)
		ctr_add(&c->indirect_req, 1);
	switch (r->op) {
	case BLKIF_OP_READ:
		ctr_add(&c->rd_req, 1);
		ctr_add(&c->rd_sect, r->nr_sectors);
		break;
	case BLKIF_OP_WRITE:
		ctr_add(&c->wr_req, 1);
		ctr_add(&c->wr_sect, r->nr_sectors);
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:
		ctr_add(&c->flush_req, 1);
		ctr_add(&c->wr_sect, r->nr_sectors);
		break;
	case BLKIF_OP_WRITE_BARRIER:
		ctr_add(&c->barrier_req, 1);
		ctr_add(&c->wr_sect, r->nr_sectors);
		break;
	case BLKIF_OP_DISCARD:
		ctr_add(&c->discard_req, 1);
		ctr_add(&c->discard_sect, r->nr_sectors);
		break;
	}
}

static bool taking(const struct blk_queue *q);

/*
 * The range in chunks (blk.h), the queue's stop looked at before each:
 * the main thread may be waiting for this worker. A discard cut short is
 * answered BLKIF_RSP_ERROR, as every request in flight at a stop is
 * answered (the drain answers them, and a handover's successor could not
 * serve again what this one took: the journal goes with a clean stop).
 * Part of the range may be discarded: the guest, told it failed, reads
 * either its old data or zeros there, as after a failed discard on a
 * disk. Every chunk is done as the request asks: a secure one (where
 * discard-secure is offered) is never replaced by a plain one partway,
 * so a secure discard answered OKAY erased the whole range.
 */
static int discard_range(struct blk_queue *q, uint64_t off, uint64_t end,
			 bool secure, uint64_t *stopped_at)
{
	const struct blk_backing *b = &q->bd->backing;
	uint64_t next, t0;
	int rc = 0;

	while (off < end && rc == 0) {
		if (!taking(q)) {
			*stopped_at = off;
			return -ECANCELED;
		}
		next = blk_discard_chunk_end(b, q->discard_chunk, off, end);
		t0 = xb_worker_now_ns();
		rc = blk_backing_discard(b, off, next - off, secure);
		q->discard_chunk = blk_discard_pace(q->discard_chunk,
						    next - off,
						    xb_worker_now_ns() - t0);
		off = next;
	}
	return rc;
}

static void do_discard(struct blk_queue *q, struct blk_slot *s)
{
	bool secure = s->req.discard_flag & BLKIF_DISCARD_SECURE;
	uint64_t off = s->req.sector << RING_BLKIF_SECTOR_SHIFT, at = 0;
	int rc;

	rc = discard_range(q, off,
			   off + (s->req.nr_sectors << RING_BLKIF_SECTOR_SHIFT),
			   secure, &at);
	if (rc == -ECANCELED) {
		xb_dev_log_ratelimited(q->bd->dev, LOG_NOTICE,
				       "queue %u: %sdiscard of sectors %" PRIu64
				       "+%" PRIu64 " cut short at sector %" PRIu64
				       " by the queue stopping: answered error",
				       q->index, secure ? "secure " : "",
				       s->req.sector, s->req.nr_sectors,
				       at >> RING_BLKIF_SECTOR_SHIFT);
		finish(q, s, BLKIF_RSP_ERROR);
		return;
	}
	if (rc < 0 && rc != -EOPNOTSUPP)
		ctr_add(&q->bd->ctr.io_errors, 1);
	if (rc < 0)
		xb_dev_log_ratelimited(q->bd->dev, LOG_WARNING,
				       "queue %u: %sdiscard %s: %s", q->index,
				       secure ? "secure " : "",
				       rc == -EOPNOTSUPP ? "refused by the backing" :
							   "failed",
				       strerror(-rc));
	/* A backing that stopped taking discards: as blkback answers. */
	finish(q, s,
	       rc == -EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP :
	       rc < 0		 ? BLKIF_RSP_ERROR :
				   BLKIF_RSP_OKAY);
}

/* Fetch one request into a slot, check it and set it going. */
/*
 * What the journal keeps of a request: the decoded copy up to its direct
 * segments (an indirect request's segments are in its indirect pages,
 * which stay granted until it is answered).
 */
#define JOURNAL_REQ_BYTES                                                     \
	(offsetof(struct ring_blkif_req, seg) +                               \
	 BLKIF_MAX_SEGMENTS_PER_REQUEST * sizeof(struct ring_blkif_seg))

static void serve_request(struct blk_queue *q, struct blk_slot *s);

static void take_request(struct blk_queue *q)
{
	struct blk_slot *s = slot_get(q);

	ring_blkif_fetch(&q->ring, &s->req);
	s->jent = xb_journal_take(q->journal, ring_blkif_req_cons(&q->ring) - 1,
				  &s->req);
	serve_request(q, s);
}

/* A request a predecessor took and did not answer publicly (journal). */
static void take_replayed(struct blk_queue *q)
{
	struct blk_slot *s = slot_get(q);

	s->jent = q->replay[q->replay_pos++];
	memcpy(&s->req, xb_journal_req(q->journal, s->jent), JOURNAL_REQ_BYTES);
	serve_request(q, s);
}

static void serve_request(struct blk_queue *q, struct blk_slot *s)
{
	int st;

	st = ring_blkif_check(&s->req, &q->lim);
	if (st == BLKIF_RSP_OKAY && s->req.indirect)
		st = load_indirect(q, s);
	if (st != BLKIF_RSP_OKAY) {
		if (st == BLKIF_RSP_ERROR)
			xb_dev_log_ratelimited(
				q->bd->dev, LOG_WARNING,
				"queue %u: bad request op %u/%u segs %u "
				"sector %" PRIu64 " refused",
				q->index, s->req.operation, s->req.op,
				s->req.nr_segments, s->req.sector);
		finish(q, s, st);
		return;
	}
	count_request(q, &s->req);
	switch (s->req.op) {
	case BLKIF_OP_READ:
		start_data(q, s);
		break;
	case BLKIF_OP_WRITE:
		s->write = true;
		start_data(q, s);
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:
		start_sync(q, s);
		break;
	case BLKIF_OP_WRITE_BARRIER:
		/* Earlier requests finish first; later ones wait (ordering). */
		if (q->in_use > 1) {
			s->stage = SLOT_BARRIER_WAIT;
			q->barrier = s;
		} else {
			start_sync(q, s);
		}
		break;
	case BLKIF_OP_DISCARD:
		do_discard(q, s);
		break;
	default:
		finish(q, s, BLKIF_RSP_EOPNOTSUPP);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Submission                                                          */
/* ------------------------------------------------------------------ */

static void io_failed(struct blk_queue *q, struct blk_slot *s, int err)
{
	ctr_add(&q->bd->ctr.io_errors, 1);
	xb_dev_log_ratelimited(q->bd->dev, LOG_WARNING,
			       "queue %u: I/O at sector %" PRIu64 " failed: %s",
			       q->index, s->req.sector, strerror(err));
	finish(q, s, BLKIF_RSP_ERROR);
}

/* A grant the frontend gave us was refused: its request fails. */
static void copy_error(struct blk_queue *q, struct blk_slot *s)
{
	xb_dev_log_ratelimited(q->bd->dev, LOG_WARNING,
			       "queue %u: request %" PRIu64 ": a grant of the "
			       "frontend cannot be used",
			       q->index, s->req.id);
	finish(q, s, BLKIF_RSP_ERROR);
}

/*
 * End of a pass or of a completion batch: copy write data in, move the
 * copied writes to the submit list, copy read data out and answer those,
 * then one io_submit for everything.
 */
static void flush_batch(struct blk_queue *q)
{
	struct blk_slot *owner;
	unsigned int i;
	long done = 0;

	run_copies(q);
	for (i = 0; i < q->nr_staged; i++) {
		owner = q->staged[i];
		if (owner->stage == SLOT_COPY_IN) {
			if (owner->copy_failed)
				copy_error(q, owner);
			else
				queue_submit(q, owner);
		} else if (owner->stage == SLOT_COPY_OUT) {
			if (owner->copy_failed)
				copy_error(q, owner);
			else
				finish(q, owner, BLKIF_RSP_OKAY);
		}
	}
	q->nr_staged = 0;
	unsigned int retries = 0;

	while (done < (long)q->nr_submit) {
		long rc = io_submit(q->aio, (long)q->nr_submit - done,
				    q->submit + done);

		if (rc > 0) {
			done += rc;
			retries = 0;
			continue;
		}
		/* Transient: retry a little, never spin. */
		if ((rc == -EINTR || rc == -EAGAIN) && ++retries <= 3)
			continue;
		/* The first iocb was refused: answer it, go on. */
		owner = q->submit[done]->data;
		io_failed(q, owner, (int)-rc);
		done++;
	}
	q->nr_submit = 0;
}

static void maybe_start_barrier(struct blk_queue *q)
{
	struct blk_slot *b = q->barrier;

	if (b && q->in_use == 1) {
		q->barrier = NULL;
		start_sync(q, b);
	}
}

/* ------------------------------------------------------------------ */
/* Ring pass                                                           */
/* ------------------------------------------------------------------ */

/*
 * Online resize without waiting for guest I/O: queue 0 looks at the
 * backing's size every BLK_RESIZE_POLL_MS (one fstat or BLKGETSIZE64); a
 * change is published by the main thread (kicked()), the new size
 * reaching every worker through bd->sectors.
 */
static void on_size_timer(void *arg, uint32_t events)
{
	struct blk_queue *q = arg;
	uint64_t ticks, bytes;

	(void)events;
	if (read(q->size_timer, &ticks, sizeof(ticks)) < 0)
		return;
	if (blk_backing_size(&q->bd->backing, &bytes) == 0 &&
	    bytes >> RING_BLKIF_SECTOR_SHIFT !=
		    atomic_load_explicit(&q->bd->sectors, memory_order_relaxed))
		xb_device_kick_async(q->bd->dev);
}

static int size_timer_open(struct blk_queue *q)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = BLK_RESIZE_POLL_MS / 1000,
				 .tv_nsec = BLK_RESIZE_POLL_MS % 1000 *
					    1000000L },
	};

	its.it_value = its.it_interval;
	q->size_timer = timerfd_create(CLOCK_MONOTONIC,
				       TFD_NONBLOCK | TFD_CLOEXEC);
	if (q->size_timer < 0)
		return -errno;
	if (timerfd_settime(q->size_timer, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

static void reap_completions(struct blk_queue *q);

/*
 * Requests go to io_submit() at least every this many: io_submit plugs
 * its batch, and the device starts on the first request only once the
 * last one is prepared. At depth 32 a pass takes ~20 requests; submitting
 * them by 4 kept the disk busier (docs/perf.md: 4 KiB random at depth 32,
 * interleaved runs, 9 of 10 pairs better).
 */
#define BLK_SUBMIT_BATCH 4

/*
 * Whether requests may be taken from the ring. Not once the worker is
 * told to stop: the main thread waits for this queue (disconnect, close,
 * handover), and a ring of requests each slow to serve (discards are done
 * on this thread) would hold it, every other device, the control socket
 * and the watchdog with it. What stays in the ring is the next daemon's
 * (handover) or the closing frontend's.
 */
static bool taking(const struct blk_queue *q)
{
	return !q->dead && !q->stopping && !xb_worker_stopping(q->worker);
}

static void queue_pass(struct blk_queue *q)
{
	for (;;) {
		int n;

		if (!taking(q))
			break;
		n = ring_blkif_pending(&q->ring);
		if (n < 0) {
			rogue(q, "producer index beyond the ring size");
			break;
		}
		q->lim.sectors = atomic_load_explicit(&q->bd->sectors,
						      memory_order_relaxed);
		if (atomic_load_explicit(&q->bd->flush_refused,
					 memory_order_relaxed))
			q->lim.flush = q->lim.barrier = false;
		while (q->replay_pos < q->nr_replay && !q->barrier &&
		       can_take(q) && taking(q))
			take_replayed(q);
		if (q->replay_pos < q->nr_replay)
			n = 0; /* what was taken before goes first */
		while (n-- > 0 && !q->barrier && can_take(q) && taking(q)) {
			take_request(q);
			if (q->nr_submit + q->nr_staged >= BLK_SUBMIT_BATCH)
				flush_batch(q);
		}
		flush_batch(q);
		reap_completions(q);
		push_responses(q);
		/* Out of room or ordered behind a barrier: completions resume. */
		if (q->barrier || !can_take(q))
			break;
		if (n >= 0)
			continue;
		/* Polling: notifications stay off until the worker sleeps
		 * (queue_idle() re-arms them then). */
		if (q->poll.max_ns ? !ring_blkif_peek(&q->ring) :
				     !ring_blkif_final_check(&q->ring))
			break;
	}
}

static void on_evtchn(void *arg, uint32_t events)
{
	struct blk_queue *q = arg;

	(void)events;
	xb_evtchn_ack(&q->ch);
	queue_pass(q);
}

static void complete_one(struct blk_queue *q, struct blk_slot *s, long res)
{
	if (res < 0) {
		io_failed(q, s, (int)-res);
		return;
	}
	if (!s->sync_only && (size_t)res != s->bytes) {
		io_failed(q, s, EIO); /* short transfer: backing shrank */
		return;
	}
	if (s->sync_after) {
		s->sync_after = false;
		sync_and_finish(q, s);
		return;
	}
	if (!s->write && !s->sync_only && !s->direct) {
		s->stage = SLOT_COPY_OUT;
		stage_copy(q, s);
		return;
	}
	finish(q, s, BLKIF_RSP_OKAY);
}

/*
 * The completion ring libaio's io_setup() maps into this process (fs/aio.c;
 * libaio reads the same header). Only this worker consumes it, so
 * completions are taken straight from it, without a system call; the
 * kernel reads head back to know which entries are free again.
 */
struct blk_aio_ring {
	unsigned int id, nr, head, tail;
	unsigned int magic, compat_features, incompat_features;
	unsigned int header_length;
	struct io_event events[];
};
#define BLK_AIO_RING_MAGIC 0xa10a10a1u
#define BLK_AIO_RING_INCOMPAT 0u

static int reap_events(struct blk_queue *q)
{
	struct blk_aio_ring *r = (struct blk_aio_ring *)q->aio;
	struct timespec zero = { 0, 0 };
	unsigned int head, tail;
	int n = 0;

	if (r->magic != BLK_AIO_RING_MAGIC ||
	    r->incompat_features != BLK_AIO_RING_INCOMPAT) {
		do
			n = io_getevents(q->aio, 0, (long)q->nr_slots,
					 q->events, &zero);
		while (n == -EINTR);
		return n;
	}
	head = r->head;
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	while (head != tail && n < (int)q->nr_slots) {
		if (head >= r->nr)
			head = 0;
		q->events[n++] = r->events[head];
		head = head + 1 < r->nr ? head + 1 : 0;
	}
	/* The entries are copied out before the kernel may reuse them. */
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	return n;
}

/*
 * Answers (or moves on) everything libaio completed: after a submission
 * (a backing that completes at once, like tmpfs or a cache hit, is
 * answered in the same pass) and when the eventfd fires.
 */
static void reap_completions(struct blk_queue *q)
{
	int n, i;

	while ((n = reap_events(q)) > 0) {
		for (i = 0; i < n; i++)
			complete_one(q, q->events[i].data,
				     (long)q->events[i].res);
		flush_batch(q);
		maybe_start_barrier(q);
		flush_batch(q);
	}
}

/*
 * The eventfd is edge-triggered and never read: every completion signals
 * it, which wakes the loop again, and the ring itself says what is done.
 */
static void on_aio(void *arg, uint32_t events)
{
	struct blk_queue *q = arg;

	(void)events;
	reap_completions(q);
	push_responses(q);
	queue_pass(q);
}

/* ------------------------------------------------------------------ */
/* Polling before sleeping (blk/poll.c)                                */
/* ------------------------------------------------------------------ */

static bool aio_ready(struct blk_queue *q)
{
	const struct blk_aio_ring *r = (const struct blk_aio_ring *)q->aio;

	return q->in_use && r->magic == BLK_AIO_RING_MAGIC &&
	       __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) != r->head;
}

/* Requests this queue would take now (not when it is full or ordered
 * behind a barrier: those resume on completions). */
static bool ring_ready(struct blk_queue *q)
{
	return taking(q) && !q->barrier && can_take(q) &&
	       (ring_blkif_peek(&q->ring) || q->replay_pos < q->nr_replay);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * The worker is about to sleep: watch the completion ring and the request
 * ring for up to this state's budget, doing what turns up; else re-arm the
 * ring's notification (req_event) and let it sleep. libaio's eventfd
 * needs no arming: every completion signals it.
 */
static bool queue_idle(void *arg)
{
	struct blk_queue *q = arg;
	struct blk_poll *p = &q->poll;
	unsigned int state = q->in_use ? BLK_POLL_IO : BLK_POLL_RING;
	uint64_t t0 = xb_worker_now_ns(), budget = p->ns[state];

	for (;;) {
		if (aio_ready(q)) {
			on_aio(q, 0);
			return true;
		}
		if (ring_ready(q)) {
			queue_pass(q);
			return true;
		}
		if (!budget || xb_worker_now_ns() - t0 >= budget)
			break;
		cpu_relax();
	}
	if (!q->dead && !q->stopping && ring_blkif_final_check(&q->ring) &&
	    ring_ready(q)) {
		queue_pass(q);
		return true;
	}
	p->state = state;
	p->idle_since = t0;
	return false;
}

static void queue_woke(void *arg, uint64_t slept_ns)
{
	struct blk_queue *q = arg;

	(void)slept_ns;
	blk_poll_adapt(&q->poll, q->poll.state,
		       xb_worker_now_ns() - q->poll.idle_since);
}

/* Worker's drain hook: stop taking requests, report what is in flight. */
static unsigned int queue_drain(void *arg)
{
	struct blk_queue *q = arg;

	q->stopping = true;
	return q->in_use;
}

/* ------------------------------------------------------------------ */
/* Set-up and tear-down (main thread)                                  */
/* ------------------------------------------------------------------ */

/*
 * io_destroy() waits for an RCU grace period and the mmap lock, which
 * other queues' I/O holds (30-150 ms seen on the main thread under load,
 * tests/core/responsive.sh); when nothing is in flight any more nothing
 * needs to wait for it.
 */
static void destroy_aio(void *ctx)
{
	io_destroy((io_context_t)ctx);
}

static void queue_free_resources(struct blk_queue *q)
{
	if (q->aio && q->in_use) {
		/* A drain cut short (its loop failed): io_destroy() waits for
		 * the I/O still in flight, which must not outlive the pool and
		 * the guest's pages freed below. */
		xb_dev_err(q->bd->dev, "queue %u: %u requests still in flight at close; waiting for them",
			   q->index, q->in_use);
		io_destroy(q->aio);
		q->aio = 0;
	} else if (q->aio) {
		xb_defer(destroy_aio, q->aio);
		q->aio = 0;
	}
	if (q->efd >= 0)
		close(q->efd);
	q->efd = -1;
	if (q->size_timer >= 0)
		close(q->size_timer);
	q->size_timer = -1;
	blk_pool_destroy(&q->pool);
	free(q->indirect_buf);
	free(q->slots);
	free(q->free_slots);
	free(q->copy);
	free(q->copy_owner);
	free(q->submit);
	free(q->staged);
	free(q->events);
	q->indirect_buf = NULL;
	q->slots = NULL;
	q->free_slots = NULL;
	q->copy = NULL;
	q->copy_owner = NULL;
	q->submit = NULL;
	q->staged = NULL;
	q->events = NULL;
	xb_journal_close(q->journal);
	q->journal = NULL;
	free(q->replay);
	q->replay = NULL;
	q->nr_replay = q->replay_pos = 0;
	/* Every persistent grant is unmapped when the queue goes (XSA-371). */
	blk_pgrants_destroy(&q->pgrants, q->gt);
	if (q->gt)
		xengnttab_close(q->gt);
	q->gt = NULL;
}

static int queue_alloc(struct blk_queue *q)
{
	unsigned int i, ents = ring_blkif_nr_ents(q->bd->abi, q->bd->ring_order);
	int rc;

	q->nr_slots = ents < BLK_QUEUE_MAX_SLOTS ? ents : BLK_QUEUE_MAX_SLOTS;
	rc = blk_pool_init(&q->pool, BLK_QUEUE_POOL_PAGES);
	if (rc < 0)
		return rc;
	if (posix_memalign((void **)&q->indirect_buf, RING_BLKIF_PAGE_SIZE,
			   RING_BLKIF_MAX_INDIRECT_PAGES *
				   RING_BLKIF_PAGE_SIZE)) {
		q->indirect_buf = NULL;
		return -ENOMEM;
	}
	q->max_copy = q->pool.nr_pages;
	q->slots = calloc(q->nr_slots, sizeof(*q->slots));
	q->free_slots = calloc(q->nr_slots, sizeof(*q->free_slots));
	q->copy = calloc(q->max_copy, sizeof(*q->copy));
	q->copy_owner = calloc(q->max_copy, sizeof(*q->copy_owner));
	q->submit = calloc(q->nr_slots, sizeof(*q->submit));
	q->staged = calloc(q->nr_slots, sizeof(*q->staged));
	q->events = calloc(q->nr_slots, sizeof(*q->events));
	if (!q->slots || !q->free_slots || !q->copy ||
	    !q->copy_owner || !q->submit || !q->events || !q->staged)
		return -ENOMEM;
	for (i = 0; i < q->nr_slots; i++)
		q->free_slots[i] = q->nr_slots - 1 - i;
	q->nr_free_slots = q->nr_slots;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0)
		return -errno;
	/* Room for every slot's iocb, with the kernel's per-CPU batching. */
	if (io_setup((int)q->nr_slots * 2 + 8, &q->aio) < 0) {
		q->aio = 0;
		return -EAGAIN;
	}
	q->gt = xengnttab_open(NULL, 0);
	if (!q->gt)
		return -errno ? -errno : -EIO;
	if (q->index == 0) {
		int rc = size_timer_open(q);

		if (rc < 0)
			return rc;
	}
	/* Large reads: decided by the worker (queue_prepare()). */
	q->copy_reads_over = UINT_MAX;
	if (q->bd->data_map) {
		/* The persistent set, or the requests in flight (bounded
		 * by the pool, as their data in copy mode). */
		xengnttab_set_max_grants(q->gt, BLK_MAX_PGRANTS +
						 BLK_QUEUE_POOL_PAGES);
		return blk_pgrants_init(&q->pgrants, q->bd->persistent ?
							     BLK_MAX_PGRANTS :
							     0);
	}
	return 0;
}

/*
 * On the worker, before it serves: the pool, where this queue moves data
 * through it (copy mode, large reads), faulted in (blk_pool_populate():
 * 4 MiB, maybe compacted into huge pages, which the main thread must not
 * wait for); then large reads, only where the pool's runs are physically
 * contiguous, else the main thread is told (blk_kicked()). A host that
 * has no memory to give fails the device, not the daemon.
 */
static int queue_prepare(void *arg)
{
	struct blk_queue *q = arg;
	struct blk_dev *bd = q->bd;
	bool large = bd->data_map && bd->large_reads_over;
	int rc;

	if (bd->data_map && !large)
		return 0;	/* the pool is only a bound: never touched */
	rc = blk_pool_populate(&q->pool);
	if (rc < 0) {
		xb_device_fail_async(bd->dev, rc,
				     "queue %u: cannot get %u KiB of memory for its buffers: %s",
				     q->index,
				     q->pool.nr_pages *
					     (RING_BLKIF_PAGE_SIZE / 1024),
				     strerror(-rc));
		return rc;
	}
	if (!large)
		return 0;
	if (blk_pool_contiguous(&q->pool)) {
		q->copy_reads_over = bd->large_reads_over;
		return 0;
	}
	atomic_fetch_add(&bd->large_pools_scattered, 1);
	xb_device_kick_async(bd->dev);
	return 0;
}

int blk_queue_start(struct blk_queue *q)
{
	struct xb_device *dev = q->bd->dev;
	unsigned int ents = ring_blkif_nr_ents(q->bd->abi, q->bd->ring_order);
	RING_IDX start, cons;
	char qname[16];
	bool found;
	int rc;

	q->efd = -1;
	q->size_timer = -1;
	q->dead = q->stopping = false;
	q->barrier = NULL;
	q->in_use = 0;
	q->nr_copy = q->nr_submit = q->nr_staged = 0;
	memset(&q->pgrants, 0, sizeof(q->pgrants));
	memset(&q->poll, 0, sizeof(q->poll));
	q->poll.max_ns = q->bd->poll_us * 1000u;
	q->discard_chunk = BLK_DISCARD_CHUNK_START;
	rc = queue_alloc(q);
	if (rc < 0) {
		xb_dev_err(dev, "queue %u: cannot allocate its resources: %s",
			   q->index, strerror(-rc));
		goto fail;
	}
	/* A ring in use (the daemon restarted) carries on where it was:
	 * answering at the shared rsp_prod, serving again first what the
	 * predecessor's journal says it took and never answered. */
	rc = xb_ring_start_index(dev, &q->map, ents, &start);
	if (rc < 0)
		goto fail;
	snprintf(qname, sizeof(qname), "q%u", q->index);
	q->journal = xb_journal_open(dev, qname, ents, JOURNAL_REQ_BYTES, start,
				     &cons, &found);
	q->replay = calloc(2 * ents, sizeof(*q->replay));
	if (!q->journal || !q->replay) {
		rc = q->journal ? -ENOMEM : -EIO;
		goto fail;
	}
	q->nr_replay = xb_journal_replay(q->journal, q->replay);
	q->replay_pos = 0;
	if (dev->resume)
		xb_dev_info(dev, "queue %u resumed: answering at %u, taking at %u, %u request(s) to serve again%s",
			    q->index, start, cons, q->nr_replay,
			    found ? "" : " (no journal: handed over)");
	ring_blkif_attach_at(&q->ring, q->bd->abi, q->map.addr,
			     q->bd->ring_order, cons, start);
	snprintf(q->name, sizeof(q->name), "vbd%u.%uq%u", dev->domid,
		 dev->devid, q->index);
	q->worker = xb_worker_new(dev, q->name, queue_drain, q);
	if (!q->worker) {
		rc = -errno;
		xb_dev_err(dev, "queue %u: cannot create its worker: %s",
			   q->index, strerror(-rc));
		goto fail;
	}
	rc = xb_worker_add_fd(q->worker, q->ch.fd, EPOLLIN, on_evtchn, q);
	if (rc == 0)
		rc = xb_worker_add_fd(q->worker, q->efd, EPOLLIN | EPOLLET,
				      on_aio, q);
	if (rc == 0 && q->size_timer >= 0)
		rc = xb_worker_add_fd(q->worker, q->size_timer, EPOLLIN,
				      on_size_timer, q);
	xb_worker_set_init(q->worker, queue_prepare, q);
	if (q->poll.max_ns)
		xb_worker_set_idle(q->worker, queue_idle, queue_woke, q);
	/* A close does not wait for our I/O: we say when it is done. */
	xb_worker_notify_end(q->worker);
	if (rc == 0)
		rc = xb_worker_start(q->worker);
	if (rc < 0) {
		xb_dev_err(dev, "queue %u: cannot start its worker: %s",
			   q->index, strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	xb_worker_free(q->worker);
	q->worker = NULL;
	queue_free_resources(q);
	return rc;
}

void blk_queue_stop_begin(struct blk_queue *q)
{
	xb_worker_stop_begin(q->worker);
}

bool blk_queue_ended(const struct blk_queue *q)
{
	return xb_worker_ended(q->worker);
}

void blk_queue_stop(struct blk_queue *q)
{
	/* Joins the worker once every request in flight was answered. */
	xb_worker_free(q->worker);
	q->worker = NULL;
	queue_free_resources(q);
	xb_evtchn_unbind(&q->ch);
	xb_ring_unmap(&q->map);
}
