/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of ring/blkif: requests are written into a ring page at the
 * byte offsets each ABI defines (as Linux's blkfront of that width lays
 * them out), independently of the module's own structs, then fetched,
 * checked and answered. One line per case: PASS/FAIL.
 */
#include "ring/blkif.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(name, cond, ...)                                  \
	do {                                                    \
		if (cond) {                                     \
			printf("PASS: %s\n", name);             \
		} else {                                        \
			printf("FAIL: %s: ", name);             \
			printf(__VA_ARGS__);                    \
			printf("\n");                           \
			failures++;                             \
		}                                               \
	} while (0)

/* ------------------------------------------------------------------ */
/* A frontend writing raw bytes                                        */
/* ------------------------------------------------------------------ */

struct layout {
	const char *name;
	enum ring_blkif_abi abi;
	size_t slot;	   /* ring entry size */
	size_t rw_id, rw_sector, rw_seg;
	size_t d_id, d_sector, d_nr;
	size_t i_id, i_sector, i_handle, i_grefs;
	size_t rsp_size;
};

static const struct layout layouts[] = {
	{ "x86_32", RING_BLKIF_ABI_X86_32, 108, 4, 12, 20, 4, 12, 20, 4, 12,
	  20, 24, 12 },
	{ "x86_64", RING_BLKIF_ABI_X86_64, 112, 8, 16, 24, 8, 16, 24, 8, 16,
	  24, 28, 16 },
	/* The build host is x86_64: native is the 64-bit layout. */
	{ "native", RING_BLKIF_ABI_NATIVE, 112, 8, 16, 24, 8, 16, 24, 8, 16,
	  24, 28, 16 },
};

struct tseg {
	uint32_t gref;
	uint8_t first, last;
};

/* A request in neutral terms; encode() lays it out for one ABI. */
struct treq {
	uint8_t op;
	uint8_t nseg;	     /* r/w */
	uint16_t ind_nseg;   /* indirect */
	uint8_t ind_op;
	uint8_t flag;	     /* discard */
	uint64_t id;
	uint64_t sector;
	uint64_t nr_sectors; /* discard */
	struct tseg seg[11];
};

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void encode(const struct layout *l, uint8_t *slot,
		   const struct treq *t)
{
	unsigned int i;

	memset(slot, 0x5a, l->slot); /* junk in every unused byte */
	slot[0] = t->op;
	if (t->op == BLKIF_OP_DISCARD) {
		slot[1] = t->flag;
		put16(slot + 2, 7);
		put64(slot + l->d_id, t->id);
		put64(slot + l->d_sector, t->sector);
		put64(slot + l->d_nr, t->nr_sectors);
	} else if (t->op == BLKIF_OP_INDIRECT) {
		slot[1] = t->ind_op;
		put16(slot + 2, t->ind_nseg);
		put64(slot + l->i_id, t->id);
		put64(slot + l->i_sector, t->sector);
		put16(slot + l->i_handle, 7);
		for (i = 0; i < 8; i++)
			put32(slot + l->i_grefs + 4 * i, 100 + i);
	} else {
		slot[1] = t->nseg;
		put16(slot + 2, 7);
		put64(slot + l->rw_id, t->id);
		put64(slot + l->rw_sector, t->sector);
		for (i = 0; i < 11; i++) {
			uint8_t *s = slot + l->rw_seg + 8 * i;

			put32(s, t->seg[i].gref);
			s[4] = t->seg[i].first;
			s[5] = t->seg[i].last;
		}
	}
}

struct tring {
	uint8_t *mem;
	unsigned int order;
	struct ring_blkif ring;
	const struct layout *l;
	uint32_t prod;
};

static void tring_init(struct tring *t, const struct layout *l,
		       unsigned int order)
{
	size_t bytes = (size_t)RING_BLKIF_PAGE_SIZE << order;

	t->mem = aligned_alloc(RING_BLKIF_PAGE_SIZE, bytes);
	memset(t->mem, 0, bytes);
	/* Shared header as SHARED_RING_INIT leaves it. */
	put32(t->mem + 4, 1); /* req_event */
	put32(t->mem + 12, 1); /* rsp_event */
	t->order = order;
	t->l = l;
	t->prod = 0;
	ring_blkif_attach(&t->ring, l->abi, t->mem, order);
}

static void tring_push(struct tring *t, const struct treq *r)
{
	unsigned int n = ring_blkif_nr_ents(t->l->abi, t->order);

	encode(t->l, t->mem + 64 + (t->prod & (n - 1)) * t->l->slot, r);
	t->prod++;
	put32(t->mem, t->prod);
}

static struct treq rw(uint8_t op, uint64_t sector, unsigned int nseg,
		      uint8_t first, uint8_t last)
{
	struct treq t;
	unsigned int i;

	memset(&t, 0, sizeof(t));
	t.op = op;
	t.id = 0x1122334455667788ull;
	t.sector = sector;
	t.nseg = nseg;
	for (i = 0; i < 11; i++) {
		t.seg[i].gref = 10 + i;
		t.seg[i].first = first;
		t.seg[i].last = last;
	}
	return t;
}

static struct treq discard(uint64_t sector, uint64_t n)
{
	struct treq t;

	memset(&t, 0, sizeof(t));
	t.op = BLKIF_OP_DISCARD;
	t.id = 42;
	t.sector = sector;
	t.nr_sectors = n;
	return t;
}

static struct treq indirect(uint8_t op, uint16_t nseg, uint64_t sector)
{
	struct treq t;

	memset(&t, 0, sizeof(t));
	t.op = BLKIF_OP_INDIRECT;
	t.ind_op = op;
	t.ind_nseg = nseg;
	t.id = 9;
	t.sector = sector;
	return t;
}

/* ------------------------------------------------------------------ */
/* Table: one request, its device, the status it must get              */
/* ------------------------------------------------------------------ */

static const struct ring_blkif_limits lim_rw = {
	.sectors = 2048, .sector_size = 512, .max_indirect_segs = 256,
	.flush = true, .barrier = true, .discard = true,
};
static const struct ring_blkif_limits lim_ro = {
	.sectors = 2048, .sector_size = 512, .max_indirect_segs = 256,
	.readonly = true, .flush = true, .barrier = true, .discard = true,
};
static const struct ring_blkif_limits lim_bare = {
	.sectors = 2048, .sector_size = 512,
};
static const struct ring_blkif_limits lim_4k = {
	.sectors = 2048, .sector_size = 4096, .max_indirect_segs = 32,
	.flush = true,
};

struct check_case {
	const char *name;
	struct treq req;
	const struct ring_blkif_limits *lim;
	int status;
	uint64_t nr_sectors; /* when OKAY */
};

#define OK BLKIF_RSP_OKAY
#define ERR BLKIF_RSP_ERROR
#define NOTSUP BLKIF_RSP_EOPNOTSUPP
#define R BLKIF_OP_READ
#define W BLKIF_OP_WRITE

static void run_check_table(void)
{
	struct treq big_sector = rw(R, UINT64_MAX - 3, 1, 0, 7);
	struct treq flush0 = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0, 0);
	struct treq barrier0 = rw(BLKIF_OP_WRITE_BARRIER, 0, 0, 0, 0);
	struct treq mixed = rw(W, 0, 3, 0, 7);

	mixed.seg[1].first = 2;
	mixed.seg[1].last = 3;
	const struct check_case cases[] = {
		{ "read one page", rw(R, 0, 1, 0, 7), &lim_rw, OK, 8 },
		{ "write 11 segments", rw(W, 8, 11, 0, 7), &lim_rw, OK, 88 },
		{ "partial segments summed", mixed, &lim_rw, OK, 18 },
		{ "12 segments refused", rw(R, 0, 12, 0, 7), &lim_rw, ERR, 0 },
		{ "255 segments refused", rw(R, 0, 255, 0, 7), &lim_rw, ERR, 0 },
		{ "read without segments refused", rw(R, 0, 0, 0, 7), &lim_rw,
		  ERR, 0 },
		{ "last_sect beyond page", rw(R, 0, 1, 0, 8), &lim_rw, ERR, 0 },
		{ "last_sect 255", rw(R, 0, 1, 0, 255), &lim_rw, ERR, 0 },
		{ "first_sect after last_sect", rw(R, 0, 1, 5, 4), &lim_rw, ERR,
		  0 },
		{ "last sector of disk", rw(R, 2047, 1, 7, 7), &lim_rw, OK, 1 },
		{ "one past the end", rw(R, 2047, 1, 6, 7), &lim_rw, ERR, 0 },
		{ "start beyond the end", rw(R, 4096, 1, 0, 0), &lim_rw, ERR,
		  0 },
		{ "sector overflow wraps", big_sector, &lim_rw, ERR, 0 },
		{ "write on read-only", rw(W, 0, 1, 0, 7), &lim_ro, ERR, 0 },
		{ "read on read-only", rw(R, 0, 1, 0, 7), &lim_ro, OK, 8 },
		{ "flush without data", flush0, &lim_rw, OK, 0 },
		{ "flush with data", rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 2, 0, 7),
		  &lim_rw, OK, 16 },
		{ "flush not offered", flush0, &lim_bare, NOTSUP, 0 },
		{ "flush on read-only", flush0, &lim_ro, ERR, 0 },
		{ "barrier without data", barrier0, &lim_rw, OK, 0 },
		{ "barrier not offered", barrier0, &lim_bare, NOTSUP, 0 },
		{ "reserved op 4", rw(BLKIF_OP_RESERVED_1, 0, 1, 0, 7), &lim_rw,
		  NOTSUP, 0 },
		{ "unknown op 200", rw(200, 0, 1, 0, 7), &lim_rw, NOTSUP, 0 },
		{ "discard", discard(16, 64), &lim_rw, OK, 64 },
		{ "discard to the end", discard(0, 2048), &lim_rw, OK, 2048 },
		{ "discard past the end", discard(2000, 49), &lim_rw, ERR, 0 },
		{ "discard length overflow", discard(8, UINT64_MAX - 4), &lim_rw,
		  ERR, 0 },
		{ "discard not offered", discard(0, 8), &lim_bare, NOTSUP, 0 },
		{ "discard on read-only", discard(0, 8), &lim_ro, ERR, 0 },
		{ "indirect read header", indirect(R, 100, 0), &lim_rw, OK, 0 },
		{ "indirect 256 segments", indirect(W, 256, 0), &lim_rw, OK, 0 },
		{ "indirect 257 segments", indirect(W, 257, 0), &lim_rw, ERR,
		  0 },
		{ "indirect 65535 segments", indirect(W, 65535, 0), &lim_rw, ERR,
		  0 },
		{ "indirect over device max", indirect(R, 33, 0), &lim_4k, ERR,
		  0 },
		{ "indirect zero segments", indirect(R, 0, 0), &lim_rw, ERR, 0 },
		{ "indirect of discard", indirect(BLKIF_OP_DISCARD, 4, 0),
		  &lim_rw, ERR, 0 },
		{ "indirect of indirect", indirect(BLKIF_OP_INDIRECT, 4, 0),
		  &lim_rw, ERR, 0 },
		{ "indirect not offered", indirect(R, 4, 0), &lim_bare, NOTSUP,
		  0 },
		{ "indirect write on read-only", indirect(W, 4, 0), &lim_ro, ERR,
		  0 },
		{ "4k sectors: whole page", rw(R, 8, 1, 0, 7), &lim_4k, OK, 8 },
		{ "4k sectors: partial block", rw(R, 8, 1, 1, 7), &lim_4k, ERR,
		  0 },
		{ "4k sectors: unaligned start", rw(R, 4, 1, 0, 7), &lim_4k, ERR,
		  0 },
	};
	unsigned int li, i;

	for (li = 0; li < sizeof(layouts) / sizeof(layouts[0]); li++) {
		const struct layout *l = &layouts[li];

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct check_case *c = &cases[i];
			struct ring_blkif_req *req = malloc(sizeof(*req));
			struct tring t;
			char name[160];
			int st, n;

			tring_init(&t, l, 0);
			tring_push(&t, &c->req);
			n = ring_blkif_pending(&t.ring);
			ring_blkif_fetch(&t.ring, req);
			st = ring_blkif_check(req, c->lim);
			snprintf(name, sizeof(name), "%s: %s", l->name,
				 c->name);
			if (st == OK && !req->indirect)
				CHECK(name,
				      n == 1 && req->id == c->req.id &&
					      req->nr_sectors == c->nr_sectors,
				      "pending %d id %" PRIx64
				      " sectors %" PRIu64 " want %" PRIu64,
				      n, req->id, req->nr_sectors,
				      c->nr_sectors);
			else
				CHECK(name, st == c->status,
				      "status %d, want %d", st, c->status);
			free(req);
			free(t.mem);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Decoding: every field lands where the ABI puts it                   */
/* ------------------------------------------------------------------ */

static void run_decode(void)
{
	unsigned int li;

	for (li = 0; li < sizeof(layouts) / sizeof(layouts[0]); li++) {
		const struct layout *l = &layouts[li];
		struct ring_blkif_req *req = malloc(sizeof(*req));
		struct treq a = rw(W, 0x0102030405060708ull, 11, 1, 6);
		struct treq d = discard(0x1111, 0x2222);
		struct treq in = indirect(R, 300, 0x3333);
		struct tring t;
		char name[96];

		a.seg[10].gref = 0xdeadbeef;
		d.flag = BLKIF_DISCARD_SECURE;
		tring_init(&t, l, 0);
		tring_push(&t, &a);
		tring_push(&t, &d);
		tring_push(&t, &in);

		snprintf(name, sizeof(name), "%s: decode read/write", l->name);
		ring_blkif_pending(&t.ring);
		ring_blkif_fetch(&t.ring, req);
		CHECK(name,
		      req->operation == W && req->nr_segments == 11 &&
			      req->id == a.id &&
			      req->sector == 0x0102030405060708ull &&
			      req->handle == 7 && req->seg[0].gref == 10 &&
			      req->seg[10].gref == 0xdeadbeef &&
			      req->seg[10].first_sect == 1 &&
			      req->seg[10].last_sect == 6,
		      "op %u nseg %u sector %" PRIx64 " gref10 %x",
		      req->operation, req->nr_segments, req->sector,
		      req->seg[10].gref);

		snprintf(name, sizeof(name), "%s: decode discard", l->name);
		ring_blkif_fetch(&t.ring, req);
		CHECK(name,
		      req->operation == BLKIF_OP_DISCARD && req->id == 42 &&
			      req->sector == 0x1111 &&
			      req->nr_sectors == 0x2222 &&
			      req->discard_flag == BLKIF_DISCARD_SECURE,
		      "sector %" PRIx64 " nr %" PRIx64, req->sector,
		      req->nr_sectors);

		snprintf(name, sizeof(name), "%s: decode indirect", l->name);
		ring_blkif_fetch(&t.ring, req);
		CHECK(name,
		      req->indirect && req->op == R && req->id == 9 &&
			      req->nr_segments == 300 &&
			      req->sector == 0x3333 && req->handle == 7 &&
			      req->indirect_grefs[0] == 100 &&
			      req->indirect_grefs[7] == 107,
		      "op %u nseg %u sector %" PRIx64 " gref0 %u", req->op,
		      req->nr_segments, req->sector, req->indirect_grefs[0]);
		free(req);
		free(t.mem);
	}
}

/* ------------------------------------------------------------------ */
/* Indirect segments                                                   */
/* ------------------------------------------------------------------ */

static void run_indirect(void)
{
	struct ring_blkif_req *req = malloc(sizeof(*req));
	uint8_t *page = calloc(1, RING_BLKIF_PAGE_SIZE);
	struct tring t;
	struct treq in = indirect(W, 200, 16);
	unsigned int i;
	int st;

	for (i = 0; i < 200; i++) {
		put32(page + 8 * i, 1000 + i);
		page[8 * i + 4] = 0;
		page[8 * i + 5] = 7;
	}
	tring_init(&t, &layouts[1], 0);
	tring_push(&t, &in);
	ring_blkif_pending(&t.ring);
	ring_blkif_fetch(&t.ring, req);
	st = ring_blkif_check(req, &lim_rw);
	CHECK("indirect: header accepted, one page", st == OK &&
	      req->nr_indirect_pages == 1, "st %d pages %u", st,
	      req->nr_indirect_pages);
	st = ring_blkif_load_indirect(req, page, &lim_rw);
	CHECK("indirect: 200 segments loaded",
	      st == OK && req->nr_sectors == 1600 &&
		      req->seg[199].gref == 1199 &&
		      ring_blkif_req_bytes(req) == 1600 * 512,
	      "st %d sectors %" PRIu64, st, req->nr_sectors);

	page[8 * 150 + 5] = 9;
	st = ring_blkif_load_indirect(req, page, &lim_rw);
	CHECK("indirect: bad segment in page refused", st == ERR, "st %d",
	      st);
	page[8 * 150 + 5] = 7;
	req->sector = 2048 - 1599;
	st = ring_blkif_load_indirect(req, page, &lim_rw);
	CHECK("indirect: range past the end refused", st == ERR, "st %d",
	      st);
	free(page);
	free(req);
	free(t.mem);
}

/* ------------------------------------------------------------------ */
/* Ring indices, responses, notification                               */
/* ------------------------------------------------------------------ */

static void run_ring(void)
{
	struct ring_blkif_req *req = malloc(sizeof(*req));
	struct treq a = rw(R, 0, 1, 0, 7);
	struct tring t;
	unsigned int i, n;
	int p;
	bool notify;

	CHECK("ring: one page holds 32 entries, both ABIs",
	      ring_blkif_nr_ents(RING_BLKIF_ABI_X86_32, 0) == 32 &&
		      ring_blkif_nr_ents(RING_BLKIF_ABI_X86_64, 0) == 32,
	      "%u %u", ring_blkif_nr_ents(RING_BLKIF_ABI_X86_32, 0),
	      ring_blkif_nr_ents(RING_BLKIF_ABI_X86_64, 0));
	CHECK("ring: order 4 holds 512 entries",
	      ring_blkif_nr_ents(RING_BLKIF_ABI_X86_64, 4) == 512 &&
		      ring_blkif_nr_ents(RING_BLKIF_ABI_X86_32, 4) == 512,
	      "%u", ring_blkif_nr_ents(RING_BLKIF_ABI_X86_64, 4));

	tring_init(&t, &layouts[1], 0);
	put32(t.mem, 32);
	p = ring_blkif_pending(&t.ring);
	CHECK("ring: producer at ring size accepted", p == 32, "pending %d",
	      p);
	put32(t.mem, 33);
	p = ring_blkif_pending(&t.ring);
	CHECK("ring: producer beyond ring size is a violation", p == -1,
	      "pending %d", p);
	put32(t.mem, 0x80000000u);
	p = ring_blkif_pending(&t.ring);
	CHECK("ring: wild producer index is a violation", p == -1,
	      "pending %d", p);
	free(t.mem);

	/* Fetch everything, answer nothing: the frontend may not refill. */
	tring_init(&t, &layouts[1], 0);
	for (i = 0; i < 32; i++)
		tring_push(&t, &a);
	p = ring_blkif_pending(&t.ring);
	for (i = 0; i < (unsigned int)p; i++)
		ring_blkif_fetch(&t.ring, req);
	CHECK("ring: 32 unanswered", ring_blkif_unanswered(&t.ring) == 32,
	      "%u", ring_blkif_unanswered(&t.ring));
	tring_push(&t, &a);
	p = ring_blkif_pending(&t.ring);
	CHECK("ring: request over unanswered ones is a violation", p == -1,
	      "pending %d", p);

	/* Answer one, push: the frontend asked to be told (rsp_event 1). */
	ring_blkif_respond(&t.ring, 77, R, OK);
	notify = ring_blkif_push(&t.ring);
	CHECK("ring: first response notifies", notify, "no notify");
	ring_blkif_respond(&t.ring, 78, R, OK);
	notify = ring_blkif_push(&t.ring);
	CHECK("ring: response before rsp_event is silent", !notify,
	      "notified");
	put32(t.mem + 12, 3);
	ring_blkif_respond(&t.ring, 79, R, OK);
	notify = ring_blkif_push(&t.ring);
	CHECK("ring: response reaching rsp_event notifies", notify,
	      "no notify");
	free(t.mem);

	/* Final check re-arms req_event at req_cons + 1. */
	tring_init(&t, &layouts[0], 0);
	tring_push(&t, &a);
	ring_blkif_pending(&t.ring);
	ring_blkif_fetch(&t.ring, req);
	notify = ring_blkif_final_check(&t.ring);
	memcpy(&n, t.mem + 4, 4);
	CHECK("ring: final check arms req_event", !notify && n == 2,
	      "more %d req_event %u", notify, n);
	tring_push(&t, &a);
	notify = ring_blkif_final_check(&t.ring);
	CHECK("ring: final check sees late request", notify, "missed");
	free(t.mem);

	/* Multi-page ring wraps through all its pages. */
	tring_init(&t, &layouts[0], 2);
	n = ring_blkif_nr_ents(RING_BLKIF_ABI_X86_32, 2);
	for (i = 0; i < 3 * n; i++) {
		a.id = i;
		tring_push(&t, &a);
		p = ring_blkif_pending(&t.ring);
		if (p != 1)
			break;
		ring_blkif_fetch(&t.ring, req);
		if (req->id != i || ring_blkif_check(req, &lim_rw) != OK)
			break;
		ring_blkif_respond(&t.ring, req->id, R, OK);
		ring_blkif_push(&t.ring);
	}
	CHECK("ring: order-2 ring wraps three times", i == 3 * n,
	      "stopped at %u of %u", i, 3 * n);
	free(t.mem);
	free(req);
}

static void run_responses(void)
{
	unsigned int li;

	for (li = 0; li < sizeof(layouts) / sizeof(layouts[0]); li++) {
		const struct layout *l = &layouts[li];
		uint8_t want[16];
		struct tring t;
		char name[96];
		int16_t st = BLKIF_RSP_EOPNOTSUPP;
		uint64_t id = 0xa1a2a3a4a5a6a7a8ull;

		tring_init(&t, l, 0);
		memset(t.mem + 64, 0xee, RING_BLKIF_PAGE_SIZE - 64);
		ring_blkif_respond(&t.ring, id, BLKIF_OP_DISCARD, st);
		memset(want, 0, sizeof(want));
		memcpy(want, &id, 8);
		want[8] = BLKIF_OP_DISCARD;
		memcpy(want + 10, &st, 2);
		snprintf(name, sizeof(name),
			 "%s: response laid out, padding zeroed (XSA-216)",
			 l->name);
		CHECK(name, !memcmp(t.mem + 64, want, l->rsp_size) &&
				    t.mem[64 + l->rsp_size] == 0xee,
		      "bytes differ");
		free(t.mem);
	}
}

static void run_protocol_names(void)
{
	enum ring_blkif_abi abi = RING_BLKIF_ABI_X86_32;

	CHECK("protocol: absent is native",
	      ring_blkif_abi_from_protocol(NULL, &abi) == 0 &&
		      abi == RING_BLKIF_ABI_NATIVE,
	      "abi %d", abi);
	CHECK("protocol: x86_32-abi",
	      ring_blkif_abi_from_protocol("x86_32-abi", &abi) == 0 &&
		      abi == RING_BLKIF_ABI_X86_32,
	      "abi %d", abi);
	CHECK("protocol: x86_64-abi",
	      ring_blkif_abi_from_protocol("x86_64-abi", &abi) == 0 &&
		      abi == RING_BLKIF_ABI_X86_64,
	      "abi %d", abi);
	CHECK("protocol: unknown refused",
	      ring_blkif_abi_from_protocol("arm-abi", &abi) == -1, "accepted");
}

/* XSA-155: the request is a private copy; later ring writes change nothing. */
static void run_no_double_fetch(void)
{
	struct ring_blkif_req *req = malloc(sizeof(*req));
	struct treq a = rw(R, 0, 1, 0, 7);
	struct tring t;
	int st;

	tring_init(&t, &layouts[1], 0);
	tring_push(&t, &a);
	ring_blkif_pending(&t.ring);
	ring_blkif_fetch(&t.ring, req);
	/* The frontend rewrites the slot after the fetch. */
	t.mem[64 + 1] = 200;
	t.mem[64 + 24 + 5] = 250;
	st = ring_blkif_check(req, &lim_rw);
	CHECK("xsa155: checks see the fetched copy only",
	      st == OK && req->nr_segments == 1 && req->seg[0].last_sect == 7,
	      "st %d nseg %u", st, req->nr_segments);
	free(req);
	free(t.mem);
}

int main(void)
{
	run_check_table();
	run_decode();
	run_indirect();
	run_ring();
	run_responses();
	run_protocol_names();
	run_no_double_fetch();
	return failures ? 1 : 0;
}
