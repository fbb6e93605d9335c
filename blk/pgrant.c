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
		uint64_t hash = hash_gref(c, seg[i].gref);
		uint32_t e = c->e ? lookup(c, seg[i].gref, hash) : NIL;

		if (e != NIL) {
			c->hits++;
			page[i] = c->e[e].addr;
			pin(c, h, c->e[e].batch);
			slot[i] = NIL;
		} else {
			slot[i] = new_grant(c, seg[i].gref, hash, refs, &nr);
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
