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
 *
 * The grant references are the guest's choice, so the hash is keyed:
 * SipHash-1-3 under a key drawn from getrandom() for each queue's set.
 * With an unkeyed hash a guest picks references that share a bucket (any
 * 1056 equal modulo the table size did), and every segment of its
 * requests then walks a chain of 1056: ~270k steps a request on its
 * worker. Under a secret key a guest cannot tell which references
 * collide, so chains stay as short as for any set (a handful at most
 * with 1056 grants in 4096 buckets); SipHash is a PRF, so learning one
 * collision (by timing, say) tells nothing about another.
 */
#include "blk/blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#define NIL UINT32_MAX
/* Slots of the per-request deduplication table: a power of two, at least
 * twice the most segments of a request. */
#define SEEN_SLOTS 512u
_Static_assert(SEEN_SLOTS >= 2 * BLK_MAX_INDIRECT_SEGS &&
		       (SEEN_SLOTS & (SEEN_SLOTS - 1)) == 0,
	       "deduplication table too small");

/* ---- the keyed hash of a grant reference ------------------------------ */

static inline uint64_t rotl64(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13) ^ v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17) ^ v[2];
	v[2] = rotl64(v[2], 32);
}

/*
 * SipHash-1-3 of the 4 bytes of gref (little-endian, as the message
 * block: its bytes, then the length in the top byte). The initial state,
 * the key xored with SipHash's constants, was set up by seed_hash().
 */
static uint64_t hash_gref(const struct blk_pgrants *c, grant_ref_t gref)
{
	uint64_t m = (uint64_t)4 << 56 | gref;
	uint64_t v[4] = { c->sip[0], c->sip[1], c->sip[2], c->sip[3] ^ m };

	sip_round(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	sip_round(v);
	sip_round(v);
	sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* A fresh secret key for this set. getrandom() blocks only before the
 * kernel's generator is first seeded (early boot). */
static int seed_hash(struct blk_pgrants *c)
{
	uint64_t k[2];
	ssize_t got;

	do
		got = getrandom(k, sizeof(k), 0);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)sizeof(k))
		return got < 0 ? -errno : -EIO;
	c->sip[0] = k[0] ^ 0x736f6d6570736575ull;
	c->sip[1] = k[1] ^ 0x646f72616e646f6dull;
	c->sip[2] = k[0] ^ 0x6c7967656e657261ull;
	c->sip[3] = k[1] ^ 0x7465646279746573ull;
	return 0;
}

/* The set's chains take the low bits of a hash, the request's table of
 * new grants (new_grant()) the high ones. */
static uint32_t bucket_of(const struct blk_pgrants *c, uint64_t hash)
{
	return (uint32_t)hash & (c->nbuckets - 1);
}

static uint32_t seen_slot_of(uint64_t hash)
{
	return (uint32_t)(hash >> 32) & (SEEN_SLOTS - 1);
}

int blk_pgrants_init(struct blk_pgrants *c, unsigned int max)
{
	unsigned int i;
	int rc;

	memset(c, 0, sizeof(*c));
	c->max = max;
	c->head = c->tail = NIL;
	c->free_e = c->free_b = NIL;
	c->seen = calloc(SEEN_SLOTS, sizeof(*c->seen));
	if (!c->seen)
		return -ENOMEM;
	rc = seed_hash(c);
	if (rc < 0) {
		blk_pgrants_destroy(c, NULL);
		return rc;
	}
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

/* The grant's entry in the set, or NIL; steps counts what was walked. */
static uint32_t lookup(struct blk_pgrants *c, grant_ref_t gref,
		       uint64_t hash)
{
	uint32_t i, steps = 0;

	for (i = c->bucket[bucket_of(c, hash)]; i != NIL; i = c->e[i].hnext) {
		steps++;
		if (c->e[i].gref == gref)
			break;
	}
	c->steps += steps;
	return i;
}

static void hash_unlink(struct blk_pgrants *c, uint32_t i)
{
	uint32_t *p = &c->bucket[bucket_of(c, hash_gref(c, c->e[i].gref))];

	while (*p != NIL && *p != i)
		p = &c->e[*p].hnext;
	if (*p == i)
		*p = c->e[i].hnext;
}

/*
 * Whether a batch may be unmapped now: no request holds it, nor, for a
 * batch with a twin, the twin (which goes with it). A twin may go alone.
 */
static bool batch_idle(const struct blk_pgrants *c, uint32_t bi)
{
	const struct blk_pbatch *b = &c->b[bi];

	if (b->pins)
		return false;
	return b->reversed || b->twin == NIL || !c->b[b->twin].pins;
}

/* Unmaps a batch of the set with all its grants and its twin (idle); or a
 * twin alone. */
static void drop_batch(struct blk_pgrants *c, xengnttab_handle *gt,
		       uint32_t bi)
{
	struct blk_pbatch *b = &c->b[bi];
	uint32_t i, next;

	if (b->reversed) {
		c->b[b->twin].twin = NIL;
		c->twin_drops++;
	} else if (b->twin != NIL) {
		drop_batch(c, gt, b->twin);
	}
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
 * Room in the set for want more pages: idle twins unmapped first, then
 * the least recently used idle batches (with their twins), only those
 * last used before request number before, and only if enough of them can
 * go (else none does). Each page is counted once: a batch is idle only
 * with its twin, which counts its own pages. The list is in use order,
 * so the walk from its tail stops at the first batch used since.
 */
static bool make_room(struct blk_pgrants *c, xengnttab_handle *gt,
		      unsigned int want, uint64_t before)
{
	unsigned int need, idle = 0, pass;
	uint32_t bi, prev;

	if (!c->e || want > c->max)
		return false;
	if (c->mapped + want <= c->max)
		return true;
	need = c->mapped + want - c->max;
	for (bi = c->tail; bi != NIL && idle < need && c->b[bi].used < before;
	     bi = c->b[bi].prev) {
		c->steps++;
		if (batch_idle(c, bi))
			idle += c->b[bi].count;
	}
	if (idle < need)
		return false;
	for (pass = 0; pass < 2; pass++) {
		for (bi = c->tail; bi != NIL && c->mapped + want > c->max &&
				   c->b[bi].used < before;
		     bi = prev) {
			bool twin = c->b[bi].reversed;

			c->steps++;
			prev = c->b[bi].prev;
			if (!batch_idle(c, bi) || (pass == 0 && !twin))
				continue;
			/* A batch's twin goes with it: step over it. */
			if (!twin && prev != NIL && c->b[bi].twin == prev)
				prev = c->b[prev].prev;
			drop_batch(c, gt, bi);
			if (!twin)
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
	b->twin = NIL;
	b->reversed = false;
	b->used = c->reqs;
	for (k = count; k-- > 0;) {
		uint32_t h = bucket_of(c, hash_gref(c, refs[k]));

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

/* ---- reversed twins ---------------------------------------------------- */

/* Entry e's page in the twin tw of its batch (the batch's last page is
 * the twin's first). */
static uint8_t *twin_addr(const struct blk_pgrants *c, uint32_t e,
			  uint32_t tw)
{
	const struct blk_pbatch *b = &c->b[c->e[e].batch];
	size_t k = (size_t)(c->e[e].addr - b->base) / RING_BLKIF_PAGE_SIZE;

	return c->b[tw].base + (b->count - 1 - k) * RING_BLKIF_PAGE_SIZE;
}

/*
 * A twin for batch bi, in one map call: its grants last first. Only in
 * room beyond the nr pages the request's new grants will take, spare or
 * made from idle batches unused for BLK_TWIN_COLD requests (a twin never
 * pushes out a batch in use). The request's batches were touched, so
 * none of them goes. A map call refused leaves the batch as it is.
 */
static void make_twin(struct blk_pgrants *c, xengnttab_handle *gt,
		      uint32_t domid, uint32_t bi, unsigned int nr, int prot)
{
	grant_ref_t refs[BLK_MAX_INDIRECT_SEGS];
	uint32_t count = c->b[bi].count, i, k = count, ti;
	uint64_t cold = c->reqs > BLK_TWIN_COLD ? c->reqs - BLK_TWIN_COLD : 0;
	uint8_t *base;

	if (!make_room(c, gt, count + nr, cold) || c->free_b == NIL)
		return;
	for (i = c->b[bi].first; i != NIL; i = c->e[i].bnext)
		refs[--k] = c->e[i].gref;
	base = xb_grant_map(gt, domid, count, refs, prot);
	if (!base)
		return;
	c->domid = domid;
	ti = c->free_b;
	c->free_b = c->b[ti].next;
	c->b[ti] = (struct blk_pbatch){ .base = base, .count = count,
					.first = NIL, .twin = bi,
					.reversed = true, .used = c->reqs };
	c->b[bi].twin = ti;
	c->mapped += count;
	c->twins++;
	lru_push_head(c, ti);
}

/* ---- one request --------------------------------------------------------- */

/* Batch bi used by this request: to the head of the use order (once a
 * request: the batches it touched are the head's, in some order). */
static void touch(struct blk_pgrants *c, uint32_t bi)
{
	if (c->b[bi].used == c->reqs)
		return;
	c->b[bi].used = c->reqs;
	if (c->head != bi) {
		lru_unlink(c, bi);
		lru_push_head(c, bi);
	}
}

static void pin(struct blk_pgrants *c, struct blk_pgrant_hold *h,
		uint32_t bi)
{
	c->b[bi].pins++;
	h->pin[h->nr_pins++] = bi;
	touch(c, bi);
}

/* Whether segment i + 1's grant is on the page just before segment i's
 * in the same batch (a pair reused in reverse). */
static bool reversed_pair(const struct blk_pgrants *c, const uint32_t *ent,
			  unsigned int i)
{
	uint32_t a = ent[i], b = ent[i + 1];

	return a != NIL && b != NIL && c->e[a].batch == c->e[b].batch &&
	       c->e[b].addr + RING_BLKIF_PAGE_SIZE == c->e[a].addr;
}

/*
 * Pages of the segments found in the set (ent[i], NIL for new grants):
 * a segment in a reversed pair takes its page in the batch's twin (made
 * now if there is room, one map call per request at most), where it
 * follows on; every other one its batch's page. Each batch used is
 * pinned (a twin's batch is touched: it is in use too).
 */
static void pick_pages(struct blk_pgrants *c, xengnttab_handle *gt,
		       uint32_t domid, const uint32_t *ent, unsigned int n,
		       unsigned int nr, int prot, uint8_t **page,
		       struct blk_pgrant_hold *h)
{
	bool rev[BLK_MAX_INDIRECT_SEGS];
	bool tried = false;
	unsigned int i;

	/* In use from now: a twin's room is not made from them. */
	for (i = 0; i < n; i++)
		if (ent[i] != NIL)
			touch(c, c->e[ent[i]].batch);
	for (i = 0; i + 1 < n; i++) {
		rev[i] = reversed_pair(c, ent, i);
		/* One try a request (its walk for room included), whatever
		 * the guest's references. */
		if (rev[i] && !tried &&
		    c->b[c->e[ent[i]].batch].twin == NIL) {
			make_twin(c, gt, domid, c->e[ent[i]].batch, nr, prot);
			tried = true;
		}
	}
	for (i = 0; i < n; i++) {
		uint32_t e = ent[i], bi, tw;

		if (e == NIL)
			continue;
		bi = c->e[e].batch;
		tw = c->b[bi].twin;
		if (tw != NIL &&
		    ((i > 0 && rev[i - 1]) || (i + 1 < n && rev[i]))) {
			page[i] = twin_addr(c, e, tw);
			pin(c, h, tw);
			touch(c, bi);
			c->twin_segs++;
		} else {
			page[i] = c->e[e].addr;
			pin(c, h, bi);
		}
	}
}

/*
 * Index of gref among the request's new grants (added as the next one,
 * *nr, when first seen). The table is valid for one request number.
 */
static uint32_t new_grant(struct blk_pgrants *c, grant_ref_t gref,
			  uint64_t hash, grant_ref_t *refs, unsigned int *nr)
{
	uint32_t s = seen_slot_of(hash);

	for (;; s = (s + 1) & (SEEN_SLOTS - 1)) {
		struct blk_pgrant_seen *e = &c->seen[s];

		c->steps++;
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
	uint32_t slot[BLK_MAX_INDIRECT_SEGS], ent[BLK_MAX_INDIRECT_SEGS];
	unsigned int i, nr = 0;
	uint8_t *base;

	h->own = NULL;
	h->own_count = 0;
	h->nr_pins = 0;
	if (!c->seen || !n || n > BLK_MAX_INDIRECT_SEGS)
		return -EINVAL;
	c->reqs++;
	if (++c->gen == 0) {
		memset(c->seen, 0, SEEN_SLOTS * sizeof(*c->seen));
		c->gen = 1;
	}
	for (i = 0; i < n; i++) {
		uint64_t hash = hash_gref(c, seg[i].gref);
		uint32_t e = c->e ? lookup(c, seg[i].gref, hash) : NIL;

		ent[i] = e;
		page[i] = NULL;
		if (e != NIL) {
			c->hits++;
			slot[i] = NIL;
		} else {
			slot[i] = new_grant(c, seg[i].gref, hash, refs, &nr);
		}
	}
	if (c->e)
		pick_pages(c, gt, domid, ent, n, nr, prot, page, h);
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
	if (make_room(c, gt, nr, UINT64_MAX)) {
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
