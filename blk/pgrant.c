/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk/pgrant.c - the guest's pages a queue maps in map mode: each
 * request's new grants mapped in one call at adjacent addresses (a
 * batch), and, with persistent grants, a bounded set of batches kept
 * mapped (see blk.h for why a batch is kept or released whole).
 *
 * A hash (chained through entry indices) finds a grant of the set; a
 * doubly linked list keeps the batches in use order, so that when the set
 * is full the least recently used idle batches are unmapped to make room,
 * as Linux blkback's LRU does for single grants. The bound is the only
 * memory a frontend can make us keep mapped, and everything is unmapped
 * when the queue goes (XSA-371).
 */
#include "blk/blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NIL UINT32_MAX
/* Slots of the per-request deduplication table: a power of two, at least
 * twice the most segments of a request. */
#define SEEN_SLOTS 512u
_Static_assert(SEEN_SLOTS >= 2 * BLK_MAX_INDIRECT_SEGS &&
		       (SEEN_SLOTS & (SEEN_SLOTS - 1)) == 0,
	       "deduplication table too small");

static uint32_t hash32(grant_ref_t gref)
{
	return gref * 2654435761u;
}

static uint32_t bucket_of(const struct blk_pgrants *c, grant_ref_t gref)
{
	return hash32(gref) & (c->nbuckets - 1);
}

int blk_pgrants_init(struct blk_pgrants *c, unsigned int max)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->max = max;
	c->head = c->tail = NIL;
	c->free_e = c->free_b = NIL;
	c->seen = calloc(SEEN_SLOTS, sizeof(*c->seen));
	if (!c->seen)
		return -ENOMEM;
	if (!max)
		return 0;
	c->nbuckets = 1;
	while (c->nbuckets < 2 * max)
		c->nbuckets <<= 1;
	c->e = calloc(max, sizeof(*c->e));
	c->b = calloc(max, sizeof(*c->b));
	c->bucket = malloc(c->nbuckets * sizeof(*c->bucket));
	if (!c->e || !c->b || !c->bucket) {
		blk_pgrants_destroy(c, NULL);
		return -ENOMEM;
	}
	for (i = 0; i < c->nbuckets; i++)
		c->bucket[i] = NIL;
	for (i = 0; i < max; i++) {
		c->e[i].hnext = i + 1 < max ? i + 1 : NIL;
		c->b[i].next = i + 1 < max ? i + 1 : NIL;
	}
	c->free_e = c->free_b = 0;
	return 0;
}

/* ---- use order of batches ------------------------------------------- */

static void lru_unlink(struct blk_pgrants *c, uint32_t i)
{
	struct blk_pbatch *b = &c->b[i];

	if (b->prev != NIL)
		c->b[b->prev].next = b->next;
	else
		c->head = b->next;
	if (b->next != NIL)
		c->b[b->next].prev = b->prev;
	else
		c->tail = b->prev;
}

static void lru_push_head(struct blk_pgrants *c, uint32_t i)
{
	struct blk_pbatch *b = &c->b[i];

	b->prev = NIL;
	b->next = c->head;
	if (c->head != NIL)
		c->b[c->head].prev = i;
	c->head = i;
	if (c->tail == NIL)
		c->tail = i;
}

/* ---- the set ------------------------------------------------------------ */

static uint32_t lookup(const struct blk_pgrants *c, grant_ref_t gref)
{
	uint32_t i;

	for (i = c->bucket[bucket_of(c, gref)]; i != NIL; i = c->e[i].hnext)
		if (c->e[i].gref == gref)
			return i;
	return NIL;
}

static void hash_unlink(struct blk_pgrants *c, uint32_t i)
{
	uint32_t *p = &c->bucket[bucket_of(c, c->e[i].gref)];

	while (*p != NIL && *p != i)
		p = &c->e[*p].hnext;
	if (*p == i)
		*p = c->e[i].hnext;
}

/* Unmaps a batch of the set with all its grants (it is idle). */
static void drop_batch(struct blk_pgrants *c, xengnttab_handle *gt,
		       uint32_t bi)
{
	struct blk_pbatch *b = &c->b[bi];
	uint32_t i, next;

	for (i = b->first; i != NIL; i = next) {
		next = c->e[i].bnext;
		hash_unlink(c, i);
		c->e[i].hnext = c->free_e;
		c->free_e = i;
	}
	lru_unlink(c, bi);
	if (gt)
		xb_grant_unmap(gt, c->domid, b->base, b->count);
	c->mapped -= b->count;
	b->base = NULL;
	b->next = c->free_b;
	c->free_b = bi;
}

/*
 * Room in the set for want more pages: the least recently used idle
 * batches unmapped, but only if enough of them can go (else none does).
 */
static bool make_room(struct blk_pgrants *c, xengnttab_handle *gt,
		      unsigned int want)
{
	unsigned int need, idle = 0;
	uint32_t bi, prev;

	if (!c->e || want > c->max)
		return false;
	if (c->mapped + want <= c->max)
		return true;
	need = c->mapped + want - c->max;
	for (bi = c->tail; bi != NIL && idle < need; bi = c->b[bi].prev)
		if (!c->b[bi].pins)
			idle += c->b[bi].count;
	if (idle < need)
		return false;
	for (bi = c->tail; bi != NIL && c->mapped + want > c->max; bi = prev) {
		prev = c->b[bi].prev;
		if (!c->b[bi].pins) {
			drop_batch(c, gt, bi);
			c->evictions++;
		}
	}
	return true;
}

/* The request's new mapping joins the set as a batch (room was made). */
static uint32_t add_batch(struct blk_pgrants *c, uint8_t *base,
			  const grant_ref_t *refs, unsigned int count)
{
	uint32_t bi = c->free_b, i, k;
	struct blk_pbatch *b = &c->b[bi];

	c->free_b = b->next;
	b->base = base;
	b->count = count;
	b->pins = 0;
	b->first = NIL;
	for (k = count; k-- > 0;) {
		uint32_t h = bucket_of(c, refs[k]);

		i = c->free_e;
		c->free_e = c->e[i].hnext;
		c->e[i].gref = refs[k];
		c->e[i].batch = bi;
		c->e[i].addr = base + (size_t)k * RING_BLKIF_PAGE_SIZE;
		c->e[i].hnext = c->bucket[h];
		c->bucket[h] = i;
		c->e[i].bnext = b->first;
		b->first = i;
	}
	c->mapped += count;
	lru_push_head(c, bi);
	return bi;
}

/* ---- one request --------------------------------------------------------- */

static void pin(struct blk_pgrants *c, struct blk_pgrant_hold *h,
		uint32_t bi)
{
	c->b[bi].pins++;
	h->pin[h->nr_pins++] = bi;
	if (c->head != bi) {
		lru_unlink(c, bi);
		lru_push_head(c, bi);
	}
}

/*
 * Index of gref among the request's new grants (added as the next one,
 * *nr, when first seen). The table is valid for one request number.
 */
static uint32_t new_grant(struct blk_pgrants *c, grant_ref_t gref,
			  grant_ref_t *refs, unsigned int *nr)
{
	uint32_t s = hash32(gref) & (SEEN_SLOTS - 1);

	for (;; s = (s + 1) & (SEEN_SLOTS - 1)) {
		struct blk_pgrant_seen *e = &c->seen[s];

		if (e->gen != c->gen) {
			e->gen = c->gen;
			e->gref = gref;
			e->page = *nr;
			refs[(*nr)++] = gref;
			return e->page;
		}
		if (e->gref == gref)
			return e->page;
	}
}

int blk_pgrants_map_request(struct blk_pgrants *c, xengnttab_handle *gt,
			    uint32_t domid, const struct ring_blkif_seg *seg,
			    unsigned int n, int prot, uint8_t **page,
			    struct blk_pgrant_hold *h)
{
	grant_ref_t refs[BLK_MAX_INDIRECT_SEGS];
	uint32_t slot[BLK_MAX_INDIRECT_SEGS];
	unsigned int i, nr = 0;
	uint8_t *base;

	h->own = NULL;
	h->own_count = 0;
	h->nr_pins = 0;
	if (!c->seen || !n || n > BLK_MAX_INDIRECT_SEGS)
		return -EINVAL;
	if (++c->gen == 0) {
		memset(c->seen, 0, SEEN_SLOTS * sizeof(*c->seen));
		c->gen = 1;
	}
	for (i = 0; i < n; i++) {
		uint32_t e = c->e ? lookup(c, seg[i].gref) : NIL;

		if (e != NIL) {
			c->hits++;
			page[i] = c->e[e].addr;
			pin(c, h, c->e[e].batch);
			slot[i] = NIL;
		} else {
			slot[i] = new_grant(c, seg[i].gref, refs, &nr);
			page[i] = NULL;
		}
	}
	if (!nr)
		return 0;
	base = xb_grant_map(gt, domid, nr, refs, prot);
	if (!base) {
		int err = errno ? -errno : -EIO;

		blk_pgrants_release(c, gt, domid, h);
		return err;
	}
	c->misses += nr;
	c->domid = domid;
	if (make_room(c, gt, nr)) {
		pin(c, h, add_batch(c, base, refs, nr));
	} else {
		c->own++;
		h->own = base;
		h->own_count = nr;
	}
	for (i = 0; i < n; i++)
		if (slot[i] != NIL)
			page[i] = base + (size_t)slot[i] * RING_BLKIF_PAGE_SIZE;
	return 0;
}

void blk_pgrants_release(struct blk_pgrants *c, xengnttab_handle *gt,
			 uint32_t domid, struct blk_pgrant_hold *h)
{
	while (h->nr_pins) {
		uint32_t bi = h->pin[--h->nr_pins];

		if (c->b && bi < c->max && c->b[bi].pins)
			c->b[bi].pins--;
	}
	if (h->own)
		xb_grant_unmap(gt, domid, h->own, h->own_count);
	h->own = NULL;
	h->own_count = 0;
}

void blk_pgrants_destroy(struct blk_pgrants *c, xengnttab_handle *gt)
{
	if (c->b)
		while (c->head != NIL)
			drop_batch(c, gt, c->head);
	free(c->e);
	free(c->b);
	free(c->bucket);
	free(c->seen);
	memset(c, 0, sizeof(*c));
}
