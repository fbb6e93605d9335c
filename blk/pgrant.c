/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk/pgrant.c - persistent grants of one queue: a bounded map of the
 * frontend's grant references to pages we keep mapped.
 *
 * A hash (chained through entry indices) finds a grant; a doubly linked
 * list keeps them in use order, so that when the set is full the least
 * recently used grant is unmapped to make room, as Linux blkback's LRU
 * does. The bound is the only memory a frontend can make us map, and
 * everything is unmapped when the queue goes (XSA-371).
 */
#include "blk/blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NIL UINT32_MAX

static uint32_t hash(const struct blk_pgrants *c, grant_ref_t gref)
{
	return (gref * 2654435761u) & (c->nbuckets - 1);
}

int blk_pgrants_init(struct blk_pgrants *c, unsigned int max)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->max = max;
	c->nbuckets = 1;
	while (c->nbuckets < 2 * max)
		c->nbuckets <<= 1;
	c->e = calloc(max, sizeof(*c->e));
	c->bucket = malloc(c->nbuckets * sizeof(*c->bucket));
	if (!c->e || !c->bucket) {
		free(c->e);
		free(c->bucket);
		memset(c, 0, sizeof(*c));
		return -ENOMEM;
	}
	for (i = 0; i < c->nbuckets; i++)
		c->bucket[i] = NIL;
	c->head = c->tail = NIL;
	return 0;
}

static void lru_unlink(struct blk_pgrants *c, uint32_t i)
{
	struct blk_pgrant *e = &c->e[i];

	if (e->prev != NIL)
		c->e[e->prev].next = e->next;
	else
		c->head = e->next;
	if (e->next != NIL)
		c->e[e->next].prev = e->prev;
	else
		c->tail = e->prev;
}

static void lru_push_head(struct blk_pgrants *c, uint32_t i)
{
	struct blk_pgrant *e = &c->e[i];

	e->prev = NIL;
	e->next = c->head;
	if (c->head != NIL)
		c->e[c->head].prev = i;
	c->head = i;
	if (c->tail == NIL)
		c->tail = i;
}

static void hash_unlink(struct blk_pgrants *c, uint32_t i)
{
	uint32_t *p = &c->bucket[hash(c, c->e[i].gref)];

	while (*p != NIL && *p != i)
		p = &c->e[*p].hnext;
	if (*p == i)
		*p = c->e[i].hnext;
}

/* The least recently used grant no request is doing I/O on, or NIL. */
static uint32_t lru_victim(const struct blk_pgrants *c)
{
	uint32_t i;

	for (i = c->tail; i != NIL; i = c->e[i].prev)
		if (!c->e[i].pins)
			return i;
	return NIL;
}

void *blk_pgrants_get(struct blk_pgrants *c, xengnttab_handle *gt,
		      uint32_t domid, grant_ref_t gref, uint32_t *idx)
{
	uint32_t h, i, victim = NIL;
	void *addr;

	if (!c->e)
		return NULL;
	h = hash(c, gref);
	for (i = c->bucket[h]; i != NIL; i = c->e[i].hnext) {
		if (c->e[i].gref == gref) {
			c->hits++;
			if (c->head != i) {
				lru_unlink(c, i);
				lru_push_head(c, i);
			}
			goto found;
		}
	}
	if (c->nr >= c->max) {
		victim = lru_victim(c);
		if (victim == NIL)
			return NULL; /* every grant is under I/O */
	}
	addr = xb_grant_map(gt, domid, 1, &gref, PROT_READ | PROT_WRITE);
	if (!addr)
		return NULL;
	c->domid = domid;
	c->misses++;
	if (victim == NIL) {
		i = c->nr++;
	} else {
		/* Full: the least recently used idle grant makes room. */
		i = victim;
		lru_unlink(c, i);
		hash_unlink(c, i);
		xb_grant_unmap(gt, domid, c->e[i].addr, 1);
		c->evictions++;
	}
	c->e[i].gref = gref;
	c->e[i].addr = addr;
	c->e[i].pins = 0;
	c->e[i].hnext = c->bucket[h];
	c->bucket[h] = i;
	lru_push_head(c, i);
found:
	if (idx) {
		c->e[i].pins++;
		*idx = i;
	}
	return c->e[i].addr;
}

void blk_pgrants_unpin(struct blk_pgrants *c, uint32_t idx)
{
	if (c->e && idx < c->nr && c->e[idx].pins)
		c->e[idx].pins--;
}

void blk_pgrants_destroy(struct blk_pgrants *c, xengnttab_handle *gt)
{
	unsigned int i;

	if (c->e && gt)
		for (i = 0; i < c->nr; i++)
			xb_grant_unmap(gt, c->domid, c->e[i].addr, 1);
	free(c->e);
	free(c->bucket);
	memset(c, 0, sizeof(*c));
}
