/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blkfront.c - a blkif frontend for simulated guests (see blkfront.h).
 */
#include "tests/xensim/front/blkfront.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#define PAGE RING_BLKIF_PAGE_SIZE

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* xenstore                                                            */
/* ------------------------------------------------------------------ */

static char *xs_get(struct blkfront *bf, const char *dir, const char *node)
{
	char path[256];
	unsigned int len;

	snprintf(path, sizeof(path), "%s/%s", dir, node);
	return xs_read(bf->xs, XBT_NULL, path, &len);
}

static int xs_put(struct blkfront *bf, const char *node, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));
static int xs_put(struct blkfront *bf, const char *node, const char *fmt, ...)
{
	char path[256], val[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", bf->fe, node);
	return xs_write(bf->xs, XBT_NULL, path, val, strlen(val)) ? 0 : -errno;
}

/* Removes a node of ours a previous connect may have left. */
static int xs_drop(struct blkfront *bf, const char *node)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", bf->fe, node);
	return xs_rm(bf->xs, XBT_NULL, path) || errno == ENOENT ? 0 : -errno;
}

static int be_u64(struct blkfront *bf, const char *node, uint64_t *out)
{
	char *v = xs_get(bf, bf->be, node);
	char *end;

	if (!v)
		return -ENOENT;
	*out = strtoull(v, &end, 10);
	free(v);
	return 0;
}

static unsigned int be_uint_def(struct blkfront *bf, const char *node,
				unsigned int def)
{
	uint64_t v;

	return be_u64(bf, node, &v) == 0 ? (unsigned int)v : def;
}

int blkfront_backend_u64(struct blkfront *bf, const char *node,
			 uint64_t *out)
{
	return be_u64(bf, node, out);
}

int blkfront_backend_state(struct blkfront *bf)
{
	uint64_t s;
	int rc = be_u64(bf, "state", &s);

	return rc < 0 ? rc : (int)s;
}

int blkfront_wait_backend_state(struct blkfront *bf, int want, int ms)
{
	int64_t end = now_ms() + ms;
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	for (;;) {
		if (blkfront_backend_state(bf) == want)
			return 0;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* set-up                                                              */
/* ------------------------------------------------------------------ */

struct blkfront *blkfront_open(struct xsg *g, unsigned int devid)
{
	struct blkfront *bf = calloc(1, sizeof(*bf));
	char *v;
	unsigned int i;

	if (!bf)
		return NULL;
	bf->g = g;
	bf->devid = devid;
	bf->xs = xsg_xs_open(g);
	if (!bf->xs)
		goto fail;
	snprintf(bf->fe, sizeof(bf->fe), "/local/domain/%u/device/vbd/%u",
		 xsg_domid(g), devid);
	v = xs_get(bf, bf->fe, "backend");
	if (!v)
		goto fail;
	snprintf(bf->be, sizeof(bf->be), "%s", v);
	free(v);
	v = xs_get(bf, bf->fe, "backend-id");
	bf->backend_id = v ? (unsigned int)strtoul(v, NULL, 10) : 0;
	free(v);
	bf->pool = xsg_alloc_pages(g, BLKFRONT_POOL_PAGES, &bf->pool_frame);
	bf->ind = xsg_alloc_pages(g, BLKFRONT_IND_PAGES, &bf->ind_frame);
	if (!bf->pool || !bf->ind)
		goto fail;
	for (i = 0; i < BLKFRONT_POOL_PAGES; i++)
		bf->pool_gref[i] = -1;
	bf->next_id = 1;
	return bf;
fail:
	blkfront_free(bf);
	return NULL;
}

size_t blkfront_slot_size(const struct blkfront *bf)
{
	return bf->o.abi == RING_BLKIF_ABI_X86_32 ?
		       sizeof(struct ring_blkif_x86_32_request) :
		       sizeof(struct ring_blkif_x86_64_request);
}

static int setup_queue(struct blkfront *bf, struct blkfront_queue *q)
{
	unsigned int i;
	int port;

	q->nr_pages = 1u << bf->o.ring_order;
	q->sring = xsg_alloc_pages(bf->g, q->nr_pages, &q->first_frame);
	if (!q->sring)
		return -ENOMEM;
	/* SHARED_RING_INIT */
	memset(q->sring, 0, 64);
	((uint32_t *)q->sring)[1] = 1;
	((uint32_t *)q->sring)[3] = 1;
	q->nr_ents = ring_blkif_nr_ents(bf->o.abi, bf->o.ring_order);
	q->req_prod_pvt = q->rsp_cons = 0;
	for (i = 0; i < q->nr_pages; i++) {
		q->grefs[i] = xsg_grant_access(bf->g, bf->backend_id,
					       q->first_frame + i, false);
		if (q->grefs[i] < 0)
			return q->grefs[i];
	}
	port = xsg_evtchn_alloc_unbound(bf->g, bf->backend_id);
	if (port < 0)
		return port;
	q->port = (uint32_t)port;
	return 0;
}

static int write_queue_nodes(struct blkfront *bf, unsigned int qi)
{
	struct blkfront_queue *q = &bf->q[qi];
	char dir[32] = "", node[64];
	unsigned int i;
	int rc = 0;

	if (bf->o.nr_queues > 1)
		snprintf(dir, sizeof(dir), "queue-%u/", qi);
	for (i = 0; i < q->nr_pages && !rc; i++) {
		if (bf->o.ring_order == 0)
			snprintf(node, sizeof(node), "%sring-ref", dir);
		else
			snprintf(node, sizeof(node), "%sring-ref%u", dir, i);
		rc = xs_put(bf, node, "%d",
			    bf->o.bad_ring_queue == qi + 1 &&
					    i + 1 == q->nr_pages ?
				    BLKFRONT_NEVER_GRANTED :
				    q->grefs[i]);
	}
	snprintf(node, sizeof(node), "%sevent-channel", dir);
	if (!rc)
		rc = xs_put(bf, node, "%u", q->port);
	return rc;
}

/* The backend's Connected; -ECONNRESET as soon as it gives up instead. */
static int wait_connected(struct blkfront *bf, int ms)
{
	int64_t end = now_ms() + ms;
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	for (;;) {
		int s = blkfront_backend_state(bf);

		if (s == 4)
			return 0;
		if (s == 5 || s == 6)
			return -ECONNRESET;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
}

/*
 * Persistent grants: each queue's list over its share of the data pages,
 * in page order (Linux fills a ring's list at connect). The grants of an
 * earlier connect are kept (pool_gref).
 */
static void grant_lists_reset(struct blkfront *bf)
{
	unsigned int per = BLKFRONT_POOL_PAGES / bf->o.nr_queues, i, k;

	for (i = 0; i < bf->o.nr_queues; i++) {
		struct blkfront_queue *q = &bf->q[i];

		q->gl_size = q->gl_len = per;
		q->gl_head = 0;
		for (k = 0; k < per; k++)
			q->gl[k] = (uint16_t)(i * per + k);
	}
}

int blkfront_connect(struct blkfront *bf, const struct blkfront_opts *o)
{
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	unsigned int i;
	uint64_t v;
	int rc;

	bf->o = *o;
	if (!bf->o.nr_queues)
		bf->o.nr_queues = 1;
	/* A new frontend instance starts over (reconnect after Closed). */
	rc = xs_put(bf, "state", "1");
	if (rc)
		return rc;
	rc = blkfront_wait_backend_state(bf, 2, timeout);
	if (rc < 0)
		return rc;
	bf->max_queues = be_uint_def(bf, "multi-queue-max-queues", 1);
	bf->max_ring_order = be_uint_def(bf, "max-ring-page-order", 0);
	bf->max_indirect_segs = be_uint_def(bf,
					    "feature-max-indirect-segments", 0);
	if (bf->o.nr_queues > BLKFRONT_MAX_QUEUES)
		return -EINVAL;
	/* A reconnect: the rings of the last connect go first, as
	 * xen-blkfront frees them before it makes new ones. */
	blkfront_release_rings(bf);
	for (i = 0; i < bf->o.nr_queues; i++) {
		rc = setup_queue(bf, &bf->q[i]);
		if (rc < 0)
			return rc;
	}
	grant_lists_reset(bf);
	/* Nodes of an earlier connect with other options go first. */
	if (bf->o.ring_order)
		rc = xs_put(bf, "ring-page-order", "%u", bf->o.ring_order);
	else
		rc = xs_drop(bf, "ring-page-order");
	for (i = 0; i < bf->o.nr_queues && !rc; i++)
		rc = write_queue_nodes(bf, i);
	if (!rc && bf->o.nr_queues > 1)
		rc = xs_put(bf, "multi-queue-num-queues", "%u",
			    bf->o.nr_queues);
	else if (!rc)
		rc = xs_drop(bf, "multi-queue-num-queues");
	if (!rc && bf->o.abi != RING_BLKIF_ABI_NATIVE)
		rc = xs_put(bf, "protocol", "%s",
			    ring_blkif_abi_name(bf->o.abi));
	else if (!rc)
		rc = xs_drop(bf, "protocol");
	if (!rc)
		rc = xs_put(bf, "feature-persistent", "%d", bf->o.persistent);
	if (!rc)
		rc = xs_put(bf, "state", "3");
	if (rc)
		return rc;
	rc = wait_connected(bf, timeout);
	if (rc < 0)
		return rc;
	if (be_u64(bf, "sectors", &bf->sectors) < 0)
		return -EPROTO;
	bf->info = be_uint_def(bf, "info", 0);
	bf->sector_size = be_uint_def(bf, "sector-size", 512);
	bf->physical_sector_size = be_uint_def(bf, "physical-sector-size",
					       bf->sector_size);
	bf->feat_flush = be_uint_def(bf, "feature-flush-cache", 0);
	bf->feat_barrier = be_uint_def(bf, "feature-barrier", 0);
	bf->feat_discard = be_uint_def(bf, "feature-discard", 0);
	bf->feat_persistent = be_u64(bf, "feature-persistent", &v) == 0 && v;
	return xs_put(bf, "state", "4");
}

int blkfront_set_state(struct blkfront *bf, int state)
{
	return xs_put(bf, "state", "%d", state);
}

int blkfront_disconnect(struct blkfront *bf)
{
	int rc;

	/* As xen-blkfront: Closing, backend Closing, Closed, backend Closed. */
	xs_put(bf, "state", "5");
	rc = blkfront_wait_backend_state(bf, 5, 10000);
	if (rc == -ETIMEDOUT && blkfront_backend_state(bf) == 6)
		rc = 0;
	xs_put(bf, "state", "6");
	if (rc == 0)
		rc = blkfront_wait_backend_state(bf, 6, 10000);
	return rc;
}

/*
 * Pages given back to the domain's memory, so that a guest runs test
 * programs one after another for ever; but only if no grant still shares
 * one (a backend that never let go: the pages stay its, as in Xen).
 */
static void free_ungranted(struct blkfront *bf, void *va, uint32_t frame,
			   unsigned int n)
{
	if (va && !xsg_frames_granted(bf->g, frame, n))
		xsg_free_pages(bf->g, va, n);
}

/*
 * One queue's ring as a frontend leaving it does: grants ended, channel
 * closed, pages given back unless the backend still maps one. Returns how
 * many ring grants were still mapped (they stay, with their pages).
 */
static unsigned int release_ring(struct blkfront *bf,
				 struct blkfront_queue *q)
{
	unsigned int busy = 0, j;

	for (j = 0; j < q->nr_pages; j++)
		if (q->grefs[j] > 0 &&
		    xsg_end_access(bf->g, (uint32_t)q->grefs[j]) == -EBUSY)
			busy++;
	if (q->port)
		xsg_evtchn_close(bf->g, q->port);
	free_ungranted(bf, q->sring, q->first_frame, q->nr_pages);
	memset(q, 0, sizeof(*q));
	return busy;
}

unsigned int blkfront_release_rings(struct blkfront *bf)
{
	unsigned int busy = 0, i;

	for (i = 0; i < BLKFRONT_MAX_QUEUES; i++)
		if (bf->q[i].sring)
			busy += release_ring(bf, &bf->q[i]);
	return busy;
}

void blkfront_free(struct blkfront *bf)
{
	unsigned int i;

	if (!bf)
		return;
	for (i = 0; i < BLKFRONT_POOL_PAGES; i++)
		if (bf->pool_gref[i] >= 0)
			xsg_end_access(bf->g, (uint32_t)bf->pool_gref[i]);
	blkfront_release_rings(bf);
	free_ungranted(bf, bf->pool, bf->pool_frame, BLKFRONT_POOL_PAGES);
	free_ungranted(bf, bf->ind, bf->ind_frame, BLKFRONT_IND_PAGES);
	if (bf->xs)
		xs_close(bf->xs);
	free(bf);
}

/* ------------------------------------------------------------------ */
/* ring access                                                         */
/* ------------------------------------------------------------------ */

static uint8_t *slot_addr(struct blkfront *bf, struct blkfront_queue *q,
			  uint32_t idx)
{
	return (uint8_t *)q->sring + 64 +
	       (size_t)(idx & (q->nr_ents - 1)) * blkfront_slot_size(bf);
}

void blkfront_put_raw(struct blkfront *bf, unsigned int qi, const void *slot,
		      size_t len)
{
	struct blkfront_queue *q = &bf->q[qi];

	memcpy(slot_addr(bf, q, q->req_prod_pvt), slot, len);
	q->req_prod_pvt++;
}

void blkfront_set_req_prod(struct blkfront *bf, unsigned int qi,
			   uint32_t prod)
{
	struct blkfront_queue *q = &bf->q[qi];

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n((uint32_t *)q->sring, prod, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	xsg_evtchn_notify(bf->g, q->port);
}

void blkfront_push(struct blkfront *bf, unsigned int qi)
{
	blkfront_set_req_prod(bf, qi, bf->q[qi].req_prod_pvt);
}

/*
 * As Linux blkfront (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY): publishes and
 * notifies only if the backend asked for an event (req_event) within
 * what was just published; a busy backend is not notified.
 */
void blkfront_push_check(struct blkfront *bf, unsigned int qi)
{
	struct blkfront_queue *q = &bf->q[qi];
	volatile uint32_t *hdr = q->sring;
	uint32_t old = hdr[0], new = q->req_prod_pvt, event;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n((uint32_t *)q->sring, new, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event = __atomic_load_n(&hdr[1], __ATOMIC_ACQUIRE);
	if ((uint32_t)(new - event) < (uint32_t)(new - old))
		xsg_evtchn_notify(bf->g, q->port);
}

int blkfront_get_response(struct blkfront *bf, unsigned int qi, int ms,
			  uint64_t *id, uint8_t *op, int16_t *status)
{
	struct blkfront_queue *q = &bf->q[qi];
	volatile uint32_t *hdr = q->sring;
	int64_t end = now_ms() + ms;

	for (;;) {
		uint32_t prod = __atomic_load_n(&hdr[2], __ATOMIC_ACQUIRE);

		if (prod != q->rsp_cons) {
			uint8_t *s = slot_addr(bf, q, q->rsp_cons);

			memcpy(id, s, 8);
			*op = s[8];
			memcpy(status, s + 10, 2);
			q->rsp_cons++;
			return 0;
		}
		/* Ask for an event on the next response, then re-check. */
		hdr[3] = q->rsp_cons + 1;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&hdr[2], __ATOMIC_ACQUIRE) != q->rsp_cons)
			continue;
		int left = (int)(end - now_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		xsg_evtchn_wait(bf->g, left > 50 ? 50 : left);
	}
}

/* ------------------------------------------------------------------ */
/* requests                                                            */
/* ------------------------------------------------------------------ */

static int grant_page(struct blkfront *bf, unsigned int i, bool ro)
{
	int gref;

	if (bf->pool_gref[i] >= 0) {
		if (bf->o.persistent || bf->pool_gref_ro[i] == ro)
			return bf->pool_gref[i];
		xsg_end_access(bf->g, (uint32_t)bf->pool_gref[i]);
		bf->pool_gref[i] = -1;
	}
	/* Persistent grants are always rw (blkif.h note 8). */
	if (bf->o.persistent)
		ro = false;
	gref = xsg_grant_access(bf->g, bf->backend_id, bf->pool_frame + i, ro);
	if (gref >= 0) {
		bf->pool_gref[i] = gref;
		bf->pool_gref_ro[i] = ro;
	}
	return gref;
}

int blkfront_grant_page(struct blkfront *bf, unsigned int i)
{
	return grant_page(bf, i, false);
}

void *blkfront_page(struct blkfront *bf, unsigned int i)
{
	return bf->pool + (size_t)i * PAGE;
}

/* ---- persistent grants: Linux blkfront's free list ------------------- */

static unsigned int gl_take(struct blkfront_queue *q)
{
	unsigned int pg = q->gl[q->gl_head];

	q->gl_head = (q->gl_head + 1) % q->gl_size;
	q->gl_len--;
	return pg;
}

/*
 * A grant of a completed request back on its queue's list, as Linux's
 * blkif_completion(): at the front (reused first) while the backend
 * still maps it, else ended (a new reference next time) and at the back.
 */
static void gl_give_back(struct blkfront *bf, struct blkfront_queue *q,
			 unsigned int pg)
{
	int gref = bf->pool_gref[pg];

	if (gref >= 0 && xsg_end_access(bf->g, (uint32_t)gref) == -EBUSY) {
		q->gl_head = (q->gl_head + q->gl_size - 1) % q->gl_size;
		q->gl[q->gl_head] = (uint16_t)pg;
	} else {
		bf->pool_gref[pg] = -1;
		q->gl[(q->gl_head + q->gl_len) % q->gl_size] = (uint16_t)pg;
	}
	q->gl_len++;
}

struct built {
	unsigned int nseg;
	struct ring_blkif_seg seg[RING_BLKIF_MAX_INDIRECT_SEGS];
};

/*
 * Lays bytes out over the pages r->page[] (the first segment starts at
 * sector first_sect of its page, later ones at 0). Copies wbuf in for
 * writes.
 */
static int build_segments(struct blkfront *bf, struct built *b,
			  const struct blkfront_req *r, const uint8_t *wbuf,
			  unsigned int first_sect, bool ro)
{
	size_t done = 0;
	unsigned int f = first_sect;

	b->nseg = 0;
	while (done < r->bytes) {
		unsigned int pg = r->page[b->nseg];
		size_t room = (size_t)(8 - f) * 512;
		size_t len = r->bytes - done < room ? r->bytes - done : room;
		int gref;

		if (wbuf)
			memcpy(bf->pool + (size_t)pg * PAGE + f * 512,
			       wbuf + done, len);
		gref = grant_page(bf, pg, ro);
		if (gref < 0)
			return gref;
		b->seg[b->nseg].gref = (uint32_t)gref;
		b->seg[b->nseg].first_sect = (uint8_t)f;
		b->seg[b->nseg].last_sect = (uint8_t)(f + len / 512 - 1);
		b->nseg++;
		done += len;
		f = 0;
	}
	return 0;
}

/*
 * The 32-bit ABI is the 64-bit one without the 4 bytes of padding after
 * the handle: every field past the first word sits at base + its offset.
 */
static size_t abi_base(const struct blkfront *bf)
{
	return bf->o.abi == RING_BLKIF_ABI_X86_32 ? 4 : 8;
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	memcpy(p, &v, n); /* x86: little-endian, as the ring */
}

void blkfront_encode(const struct blkfront *bf, uint8_t *slot,
		     const struct blkfront_rawreq *r)
{
	size_t b = abi_base(bf), i;

	memset(slot, 0, blkfront_slot_size(bf));
	slot[0] = r->operation;
	put_le(slot + b, r->id, 8);
	put_le(slot + b + 8, r->sector, 8);
	switch (r->operation) {
	case BLKIF_OP_DISCARD:
		slot[1] = r->discard_flag;
		put_le(slot + 2, bf->devid, 2);
		put_le(slot + b + 16, r->nr_sectors, 8);
		break;
	case BLKIF_OP_INDIRECT:
		slot[1] = r->indirect_op;
		put_le(slot + 2, r->nr_segments, 2);
		put_le(slot + b + 16, bf->devid, 2);
		for (i = 0; i < r->nr_ind && i < BLKFRONT_RAW_IND; i++)
			put_le(slot + b + 20 + 4 * i, r->ind_gref[i], 4);
		break;
	default:
		slot[1] = (uint8_t)r->nr_segments;
		put_le(slot + 2, bf->devid, 2);
		for (i = 0; i < r->nr_segments && i < BLKIF_MAX_SEGMENTS_PER_REQUEST;
		     i++) {
			uint8_t *sg = slot + b + 16 + 8 * i;

			put_le(sg, r->seg[i].gref, 4);
			sg[4] = r->seg[i].first_sect;
			sg[5] = r->seg[i].last_sect;
		}
	}
}

void blkfront_put_req(struct blkfront *bf, unsigned int q,
		      const struct blkfront_rawreq *r)
{
	uint8_t slot[sizeof(struct ring_blkif_x86_64_request)];

	blkfront_encode(bf, slot, r);
	blkfront_put_raw(bf, q, slot, blkfront_slot_size(bf));
}

/* A read or write over the built segments, direct or through ind_gref. */
static void put_rw(struct blkfront *bf, unsigned int qi, uint8_t op,
		   uint64_t id, uint64_t sector, const struct built *b,
		   int ind_gref)
{
	struct blkfront_rawreq r = { .operation = op, .id = id,
				     .sector = sector,
				     .nr_segments = (uint16_t)b->nseg };

	if (ind_gref >= 0) {
		r.operation = BLKIF_OP_INDIRECT;
		r.indirect_op = op;
		r.nr_ind = 1;
		r.ind_gref[0] = (uint32_t)ind_gref;
	} else {
		memcpy(r.seg, b->seg, b->nseg * sizeof(r.seg[0]));
	}
	blkfront_put_req(bf, qi, &r);
}

static int indirect_limit(const struct blkfront *bf)
{
	unsigned int m = bf->o.max_indirect < bf->max_indirect_segs ?
				 bf->o.max_indirect :
				 bf->max_indirect_segs;

	return (int)m;
}

/*
 * Pages for a request of nseg segments, and the indirect page's when
 * indirect: with persistent grants from the queue's list, as Linux (the
 * indirect grant first), else pool pages page0.. and indirect page
 * ind_idx.
 */
static int take_pages(struct blkfront *bf, unsigned int qi,
		      struct blkfront_req *r, unsigned int nseg, bool indirect)
{
	struct blkfront_queue *q = &bf->q[qi];
	unsigned int i;

	r->ind_page = -1;
	if (!bf->o.persistent) {
		if (r->page0 + nseg > BLKFRONT_POOL_PAGES)
			return -E2BIG;
		for (i = 0; i < nseg; i++)
			r->page[i] = (uint16_t)(r->page0 + i);
		return 0;
	}
	if (nseg + indirect > q->gl_len)
		return -ENOSPC;
	if (indirect)
		r->ind_page = (int)gl_take(q);
	for (i = 0; i < nseg; i++)
		r->page[i] = (uint16_t)gl_take(q);
	return 0;
}

/* The request's pages and grants given back (it was answered). */
static void end_request(struct blkfront *bf, struct blkfront_req *r)
{
	struct blkfront_queue *q = &bf->q[r->q];
	unsigned int i;

	if (bf->o.persistent) {
		for (i = 0; i < r->nseg; i++)
			gl_give_back(bf, q, r->page[i]);
		if (r->ind_page >= 0)
			gl_give_back(bf, q, (unsigned int)r->ind_page);
	} else {
		for (i = 0; i < r->nseg; i++) {
			unsigned int pg = r->page[i];

			if (bf->pool_gref[pg] >= 0)
				xsg_end_access(bf->g,
					       (uint32_t)bf->pool_gref[pg]);
			bf->pool_gref[pg] = -1;
		}
		if (r->ind_gref >= 0)
			xsg_end_access(bf->g, (uint32_t)r->ind_gref);
	}
	r->ind_gref = -1;
	r->ind_page = -1;
	r->nseg = 0;
}

/* Puts request r on queue qi; returns its id or -errno. */
static int64_t queue_request(struct blkfront *bf, unsigned int qi,
			     struct blkfront_req *r, const uint8_t *wbuf,
			     unsigned int first_sect)
{
	struct built *b;
	bool ro = r->op != BLKIF_OP_READ;
	unsigned int nseg = (unsigned int)((first_sect * 512u + r->bytes +
					    PAGE - 1) / PAGE);
	bool indirect = nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST;
	int ind_gref = -1, rc;
	uint64_t id;

	r->q = qi;
	r->nseg = 0;
	r->ind_gref = -1;
	r->ind_page = -1;
	if (nseg > RING_BLKIF_MAX_INDIRECT_SEGS ||
	    (indirect && ((int)nseg > indirect_limit(bf) ||
			  (r->op != BLKIF_OP_READ && r->op != BLKIF_OP_WRITE))))
		return -E2BIG;
	rc = take_pages(bf, qi, r, nseg, indirect);
	if (rc < 0)
		return rc;
	r->nseg = nseg;
	b = malloc(sizeof(*b));
	if (!b) {
		end_request(bf, r);
		return -ENOMEM;
	}
	rc = build_segments(bf, b, r, wbuf, first_sect, ro);
	if (rc == 0 && indirect) {
		uint8_t *ind;
		unsigned int i;

		if (r->ind_page >= 0) {
			/* Linux: a free grant's page, granted as the others. */
			ind = bf->pool + (size_t)r->ind_page * PAGE;
			ind_gref = grant_page(bf, (unsigned int)r->ind_page,
					      false);
		} else {
			/* One indirect page per request in flight. */
			unsigned int k = r->ind_idx % BLKFRONT_IND_PAGES;

			ind = bf->ind + (size_t)k * PAGE;
			ind_gref = xsg_grant_access(bf->g, bf->backend_id,
						    bf->ind_frame + k, true);
			r->ind_gref = ind_gref;
		}
		for (i = 0; i < b->nseg; i++) {
			struct blkif_request_segment s = {
				b->seg[i].gref, b->seg[i].first_sect,
				b->seg[i].last_sect
			};
			memcpy(ind + i * 8, &s, 8);
		}
		if (ind_gref < 0)
			rc = ind_gref;
	}
	if (rc < 0) {
		free(b);
		end_request(bf, r);
		return rc;
	}
	id = bf->next_id++;
	put_rw(bf, qi, r->op, id, r->sector, b, ind_gref);
	free(b);
	return (int64_t)id;
}

static int await(struct blkfront *bf, unsigned int qi, uint64_t want,
		 int16_t *status)
{
	uint64_t id;
	uint8_t op;
	int rc;

	rc = blkfront_get_response(bf, qi, 20000, &id, &op, status);
	if (rc < 0)
		return rc;
	return id == want ? 0 : -EPROTO;
}

/* A read's data out of the request's pages into buf. */
static void copy_out(const struct blkfront *bf, const struct blkfront_req *r,
		     uint8_t *buf, unsigned int first_sect)
{
	size_t done = 0;
	unsigned int i, f = first_sect;

	for (i = 0; done < r->bytes; i++) {
		size_t room = (size_t)(8 - f) * 512;
		size_t len = r->bytes - done < room ? r->bytes - done : room;

		memcpy(buf + done, bf->pool + (size_t)r->page[i] * PAGE + f * 512,
		       len);
		done += len;
		f = 0;
	}
}

int blkfront_io(struct blkfront *bf, unsigned int qi, uint8_t op,
		uint64_t sector, void *buf, size_t bytes,
		unsigned int first_sect)
{
	struct blkfront_req r = { .op = op, .sector = sector, .bytes = bytes };
	int16_t st;
	int64_t id;
	int rc;

	id = queue_request(bf, qi, &r, op == BLKIF_OP_READ ? NULL : buf,
			   first_sect);
	if (id < 0)
		return (int)id;
	blkfront_push_check(bf, qi);
	rc = await(bf, qi, (uint64_t)id, &st);
	if (rc == 0 && op == BLKIF_OP_READ && st == BLKIF_RSP_OKAY)
		copy_out(bf, &r, buf, first_sect);
	end_request(bf, &r);
	return rc < 0 ? rc : st;
}

int blkfront_discard(struct blkfront *bf, unsigned int qi, uint64_t sector,
		     uint64_t nr, bool secure)
{
	struct blkfront_rawreq r = { .operation = BLKIF_OP_DISCARD,
				     .discard_flag = secure ?
							     BLKIF_DISCARD_SECURE :
							     0,
				     .id = bf->next_id++, .sector = sector,
				     .nr_sectors = nr };
	int16_t st;
	int rc;

	blkfront_put_req(bf, qi, &r);
	blkfront_push_check(bf, qi);
	rc = await(bf, qi, r.id, &st);
	return rc < 0 ? rc : st;
}

int blkfront_io_batch(struct blkfront *bf, unsigned int qi, uint8_t op,
		      const uint64_t *sector, uint8_t *const *buf,
		      size_t bytes_each, unsigned int n, int16_t *st)
{
	unsigned int per = (unsigned int)((bytes_each + PAGE - 1) / PAGE);
	struct blkfront_req *r = calloc(n, sizeof(*r));
	uint64_t *ids = calloc(n, sizeof(*ids));
	bool *done = calloc(n, sizeof(*done));
	unsigned int i, got = 0;
	int rc = 0;

	if (!r || !ids || !done) {
		rc = -ENOMEM;
		goto out;
	}
	if (bytes_each % PAGE || per > BLKIF_MAX_SEGMENTS_PER_REQUEST ||
	    (size_t)per * n > BLKFRONT_POOL_PAGES || n > bf->q[qi].nr_ents) {
		rc = -E2BIG;
		goto out;
	}
	for (i = 0; i < n; i++) {
		int64_t id;

		r[i] = (struct blkfront_req){ .op = op, .sector = sector[i],
					      .bytes = bytes_each,
					      .page0 = i * per, .ind_idx = i };
		id = queue_request(bf, qi, &r[i],
				   op == BLKIF_OP_READ ? NULL : buf[i], 0);
		if (id < 0) {
			/* Never pushed: nothing of them reached the backend. */
			bf->q[qi].req_prod_pvt -= i;
			while (i--)
				end_request(bf, &r[i]);
			rc = (int)id;
			goto out;
		}
		ids[i] = (uint64_t)id;
	}
	blkfront_push_check(bf, qi);
	while (got < n) {
		uint64_t id;
		uint8_t o;
		int16_t s;

		rc = blkfront_get_response(bf, qi, 20000, &id, &o, &s);
		if (rc < 0)
			break;
		for (i = 0; i < n; i++)
			if (ids[i] == id && !done[i])
				break;
		if (i == n) {
			rc = -EPROTO;
			break;
		}
		st[i] = s;
		got++;
		done[i] = true;
		if (op == BLKIF_OP_READ && s == BLKIF_RSP_OKAY)
			copy_out(bf, &r[i], buf[i], 0);
		/* As Linux: each request's grants back as it completes. */
		end_request(bf, &r[i]);
	}
	for (i = 0; i < n; i++)
		if (!done[i])
			end_request(bf, &r[i]);
out:
	free(r);
	free(ids);
	free(done);
	return rc;
}

int64_t blkfront_submit(struct blkfront *bf, unsigned int qi,
			struct blkfront_req *r)
{
	return queue_request(bf, qi, r, r->wbuf, 0);
}

void blkfront_complete(struct blkfront *bf, struct blkfront_req *r)
{
	end_request(bf, r);
}

/* ------------------------------------------------------------------ */
/* for test programs                                                   */
/* ------------------------------------------------------------------ */

const char *blkfront_name = "blk";
int blkfront_failures;

void blkfront_report(bool ok, const char *what, const char *why, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS: %s: %s\n", blkfront_name, what);
	} else {
		printf("FAIL: %s: %s: ", blkfront_name, what);
		va_start(ap, why);
		vprintf(why, ap);
		va_end(ap);
		printf("\n");
		blkfront_failures++;
	}
	fflush(stdout);
}

static uint64_t rand_state = 88172645463325252ull;

uint64_t blkfront_rand(void)
{
	rand_state ^= rand_state << 13;
	rand_state ^= rand_state >> 7;
	rand_state ^= rand_state << 17;
	return rand_state;
}

void blkfront_seed(uint64_t seed)
{
	rand_state ^= seed * 2654435761u;
}

bool blkfront_common_opt(int c, const char *arg, struct blkfront_opts *o,
			 unsigned int *devid)
{
	switch (c) {
	case 'd':
		*devid = (unsigned int)strtoul(arg, NULL, 0);
		return true;
	case 'a':
		o->abi = !strcmp(arg, "32") ? RING_BLKIF_ABI_X86_32 :
			 !strcmp(arg, "64") ? RING_BLKIF_ABI_X86_64 :
					      RING_BLKIF_ABI_NATIVE;
		return true;
	case 'p':
		o->persistent = true;
		return true;
	case 's':
		blkfront_seed(strtoull(arg, NULL, 0));
		return true;
	case 'n':
		blkfront_name = arg;
		return true;
	}
	return false;
}

struct blkfront *blkfront_start(unsigned int devid,
				const struct blkfront_opts *o)
{
	struct xsg *g = xsg_open();
	struct blkfront *bf;
	int rc;

	if (!g) {
		blkfront_report(false, "guest library", "%s", strerror(errno));
		return NULL;
	}
	bf = blkfront_open(g, devid);
	if (!bf) {
		blkfront_report(false, "frontend", "%u: %s", devid,
				strerror(errno));
		xsg_close(g);
		return NULL;
	}
	rc = blkfront_connect(bf, o);
	blkfront_report(rc == 0, "connect", "%s (backend state %d)",
			strerror(-rc), blkfront_backend_state(bf));
	if (rc) {
		blkfront_stop(bf);
		return NULL;
	}
	return bf;
}

int blkfront_start_scenario(int argc, char **argv, unsigned int devid,
			    const struct blkfront_opts *o, const char **sc,
			    struct blkfront **bf)
{
	if (optind >= argc) {
		fprintf(stderr, "scenario?\n");
		return 2;
	}
	*sc = argv[optind];
	*bf = blkfront_start(devid, o);
	return *bf ? 0 : 1;
}

void blkfront_stop(struct blkfront *bf)
{
	struct xsg *g = bf->g;

	blkfront_free(bf);
	xsg_close(g);
}
