/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ring/blkif.c - copy-out, validation and responses for blkif rings.
 *
 * Rule of this file: the shared ring is read only by the three fetch
 * functions (one per ABI) and by ring_blkif_pending(); each reads a ring
 * slot exactly once into a local copy through a volatile access, and every
 * decision is taken on that copy.
 */
#include "ring/blkif.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Layouts: what the frontends of each ABI put in a ring slot.         */
/* ------------------------------------------------------------------ */

_Static_assert(sizeof(struct blkif_request_segment) == 8, "segment");
_Static_assert(sizeof(struct ring_blkif_x86_32_request) == 108, "x86_32 rq");
_Static_assert(sizeof(struct ring_blkif_x86_32_request_discard) == 28,
	       "x86_32 discard");
_Static_assert(sizeof(struct ring_blkif_x86_32_request_indirect) == 64,
	       "x86_32 indirect");
_Static_assert(sizeof(struct ring_blkif_x86_32_response) == 12, "x86_32 rsp");
_Static_assert(sizeof(struct ring_blkif_x86_64_request) == 112, "x86_64 rq");
_Static_assert(sizeof(struct ring_blkif_x86_64_request_discard) == 32,
	       "x86_64 discard");
_Static_assert(sizeof(struct ring_blkif_x86_64_request_indirect) == 64,
	       "x86_64 indirect");
_Static_assert(sizeof(struct ring_blkif_x86_64_response) == 16, "x86_64 rsp");
_Static_assert(offsetof(struct ring_blkif_x86_32_request, id) == 4, "32 id");
_Static_assert(offsetof(struct ring_blkif_x86_32_request, seg) == 20, "32 seg");
_Static_assert(offsetof(struct ring_blkif_x86_32_request_indirect,
			indirect_grefs) == 24,
	       "32 grefs");
_Static_assert(offsetof(struct ring_blkif_x86_64_request, id) == 8, "64 id");
_Static_assert(offsetof(struct ring_blkif_x86_64_request, seg) == 24, "64 seg");
_Static_assert(offsetof(struct ring_blkif_x86_64_request_indirect,
			indirect_grefs) == 28,
	       "64 grefs");
_Static_assert(sizeof(struct ring_blkif_x86_32_request_discard) <=
			       sizeof(struct ring_blkif_x86_32_request) &&
		       sizeof(struct ring_blkif_x86_32_request_indirect) <=
			       sizeof(struct ring_blkif_x86_32_request),
	       "x86_32 variants fit a slot");
_Static_assert(sizeof(struct ring_blkif_x86_64_request_discard) <=
			       sizeof(struct ring_blkif_x86_64_request) &&
		       sizeof(struct ring_blkif_x86_64_request_indirect) <=
			       sizeof(struct ring_blkif_x86_64_request),
	       "x86_64 variants fit a slot");
/* The shared-ring header is the same for every ABI. */
_Static_assert(offsetof(struct ring_blkif_x86_32_sring, ring) == 64 &&
		       offsetof(struct ring_blkif_x86_64_sring, ring) == 64 &&
		       offsetof(struct blkif_sring, ring) == 64,
	       "sring header");

/*
 * The native layout is the host's C layout of blkif.h: the x86_32 one on
 * i386, the x86_64 one elsewhere (every other Xen target aligns 64-bit
 * fields naturally).
 */
#if defined(__i386__)
typedef struct ring_blkif_x86_32_request native_request_t;
typedef struct ring_blkif_x86_32_request_discard native_discard_t;
typedef struct ring_blkif_x86_32_request_indirect native_indirect_t;
typedef struct ring_blkif_x86_32_response native_response_t;
#else
typedef struct ring_blkif_x86_64_request native_request_t;
typedef struct ring_blkif_x86_64_request_discard native_discard_t;
typedef struct ring_blkif_x86_64_request_indirect native_indirect_t;
typedef struct ring_blkif_x86_64_response native_response_t;
#endif
_Static_assert(sizeof(native_request_t) == sizeof(struct blkif_request),
	       "native request");
_Static_assert(offsetof(native_request_t, seg) ==
		       offsetof(struct blkif_request, seg),
	       "native seg");
_Static_assert(sizeof(native_discard_t) ==
		       sizeof(struct blkif_request_discard),
	       "native discard");
_Static_assert(offsetof(native_indirect_t, indirect_grefs) ==
		       offsetof(struct blkif_request_indirect, indirect_grefs),
	       "native indirect");
_Static_assert(sizeof(native_response_t) == sizeof(struct blkif_response),
	       "native response");
_Static_assert(offsetof(native_response_t, status) ==
		       offsetof(struct blkif_response, status),
	       "native status");

/* ------------------------------------------------------------------ */
/* Protocol names and geometry                                         */
/* ------------------------------------------------------------------ */

int ring_blkif_abi_from_protocol(const char *protocol,
				 enum ring_blkif_abi *abi)
{
	if (!protocol || !*protocol)
		*abi = RING_BLKIF_ABI_NATIVE;
	else if (!strcmp(protocol, "x86_32-abi"))
		*abi = RING_BLKIF_ABI_X86_32;
	else if (!strcmp(protocol, "x86_64-abi"))
		*abi = RING_BLKIF_ABI_X86_64;
	else
		return -1;
	return 0;
}

const char *ring_blkif_abi_name(enum ring_blkif_abi abi)
{
	switch (abi) {
	case RING_BLKIF_ABI_X86_32:
		return "x86_32-abi";
	case RING_BLKIF_ABI_X86_64:
		return "x86_64-abi";
	default:
		return "native";
	}
}

unsigned int ring_blkif_nr_ents(enum ring_blkif_abi abi, unsigned int order)
{
	size_t bytes = (size_t)RING_BLKIF_PAGE_SIZE << order;

	switch (abi) {
	case RING_BLKIF_ABI_X86_32:
		return __CONST_RING_SIZE(ring_blkif_x86_32, bytes);
	case RING_BLKIF_ABI_X86_64:
		return __CONST_RING_SIZE(ring_blkif_x86_64, bytes);
	default:
		return __CONST_RING_SIZE(blkif, bytes);
	}
}

void ring_blkif_attach(struct ring_blkif *ring, enum ring_blkif_abi abi,
		       void *sring, unsigned int order)
{
	ring_blkif_attach_at(ring, abi, sring, order, 0, 0);
}

void ring_blkif_attach_at(struct ring_blkif *ring, enum ring_blkif_abi abi,
			  void *sring, unsigned int order, RING_IDX req_cons,
			  RING_IDX start)
{
	size_t bytes = (size_t)RING_BLKIF_PAGE_SIZE << order;

	memset(ring, 0, sizeof(*ring));
	ring->abi = abi;
	switch (abi) {
	case RING_BLKIF_ABI_X86_32:
		BACK_RING_ATTACH(&ring->r.x86_32,
				 (struct ring_blkif_x86_32_sring *)sring, start,
				 bytes);
		break;
	case RING_BLKIF_ABI_X86_64:
		BACK_RING_ATTACH(&ring->r.x86_64,
				 (struct ring_blkif_x86_64_sring *)sring, start,
				 bytes);
		break;
	default:
		BACK_RING_ATTACH(&ring->r.native, (struct blkif_sring *)sring,
				 start, bytes);
		break;
	}
	/* The index fields are laid out alike in the three ABIs. */
	ring->r.native.req_cons = req_cons;
	ring->req_prod = req_cons;
}

/*
 * The index fields and the shared header are laid out alike in the three
 * back-ring types; these name them once.
 */
#define BR(ring) (&(ring)->r.native)

/* ------------------------------------------------------------------ */
/* Request side                                                        */
/* ------------------------------------------------------------------ */

int ring_blkif_pending(struct ring_blkif *ring)
{
	struct blkif_back_ring *br = BR(ring);
	RING_IDX rp, avail, room;

	rp = *(volatile RING_IDX *)&br->sring->req_prod;
	xen_rmb(); /* read requests only after seeing the producer index */
	if (RING_REQUEST_PROD_OVERFLOW(br, rp))
		return -1;
	ring->req_prod = rp;
	avail = rp - br->req_cons;
	/* Never take more than the ring has room to answer. */
	room = RING_SIZE(br) - (br->req_cons - br->rsp_prod_pvt);
	if (avail > room)
		avail = room;
	return (int)avail;
}

bool ring_blkif_final_check(struct ring_blkif *ring)
{
	int more;

	RING_FINAL_CHECK_FOR_REQUESTS(BR(ring), more);
	return more != 0;
}

unsigned int ring_blkif_unanswered(const struct ring_blkif *ring)
{
	return ring->r.native.req_cons - ring->r.native.rsp_prod_pvt;
}

/* `raw`: the segment array of a private copy, possibly unaligned. */
static void copy_segments(struct ring_blkif_req *req, const void *raw,
			  unsigned int n)
{
	const unsigned char *p = raw;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct blkif_request_segment s;

		memcpy(&s, p + (size_t)i * sizeof(s), sizeof(s));
		req->seg[i].gref = s.gref;
		req->seg[i].first_sect = s.first_sect;
		req->seg[i].last_sect = s.last_sect;
	}
}

/*
 * One macro body for the three ABIs, so that the three fetch functions
 * cannot drift apart; each instance works on its own layout types. `src`
 * is the private copy; discard and indirect are reinterpreted from it.
 */
#define DECODE_REQUEST(req, src, discard_t, indirect_t)                     \
	do {                                                                \
		memset((req), 0, offsetof(struct ring_blkif_req, seg));     \
		(req)->operation = (src).operation;                         \
		(req)->op = (src).operation;                                \
		(req)->id = (src).id;                                       \
		if ((src).operation == BLKIF_OP_DISCARD) {                  \
			discard_t d;                                        \
			memcpy(&d, &(src), sizeof(d));                      \
			(req)->handle = d.handle;                           \
			(req)->sector = d.sector_number;                    \
			(req)->nr_sectors = d.nr_sectors;                   \
			(req)->discard_flag = d.flag;                       \
		} else if ((src).operation == BLKIF_OP_INDIRECT) {          \
			indirect_t in;                                      \
			memcpy(&in, &(src), sizeof(in));                    \
			(req)->indirect = true;                             \
			(req)->op = in.indirect_op;                         \
			(req)->nr_segments = in.nr_segments;                \
			(req)->handle = in.handle;                          \
			(req)->sector = in.sector_number;                   \
			memcpy((req)->indirect_grefs, in.indirect_grefs,    \
			       sizeof(in.indirect_grefs));                  \
		} else {                                                    \
			(req)->nr_segments = (src).nr_segments;             \
			(req)->handle = (src).handle;                       \
			(req)->sector = (src).sector_number;                \
			copy_segments((req),                                \
				      (const char *)&(src) +                \
					      offsetof(__typeof__(src),     \
						       seg),                \
				      BLKIF_MAX_SEGMENTS_PER_REQUEST);      \
		}                                                           \
	} while (0)

static void fetch_native(struct ring_blkif *ring, struct ring_blkif_req *req)
{
	struct blkif_back_ring *br = &ring->r.native;
	native_request_t src;

	RING_COPY_REQUEST(br, br->req_cons, &src);
	br->req_cons++;
	DECODE_REQUEST(req, src, native_discard_t, native_indirect_t);
}

static void fetch_x86_32(struct ring_blkif *ring, struct ring_blkif_req *req)
{
	struct ring_blkif_x86_32_back_ring *br = &ring->r.x86_32;
	struct ring_blkif_x86_32_request src;

	RING_COPY_REQUEST(br, br->req_cons, &src);
	br->req_cons++;
	DECODE_REQUEST(req, src, struct ring_blkif_x86_32_request_discard,
		       struct ring_blkif_x86_32_request_indirect);
}

static void fetch_x86_64(struct ring_blkif *ring, struct ring_blkif_req *req)
{
	struct ring_blkif_x86_64_back_ring *br = &ring->r.x86_64;
	struct ring_blkif_x86_64_request src;

	RING_COPY_REQUEST(br, br->req_cons, &src);
	br->req_cons++;
	DECODE_REQUEST(req, src, struct ring_blkif_x86_64_request_discard,
		       struct ring_blkif_x86_64_request_indirect);
}

void ring_blkif_fetch(struct ring_blkif *ring, struct ring_blkif_req *req)
{
	switch (ring->abi) {
	case RING_BLKIF_ABI_X86_32:
		fetch_x86_32(ring, req);
		break;
	case RING_BLKIF_ABI_X86_64:
		fetch_x86_64(ring, req);
		break;
	default:
		fetch_native(ring, req);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Validation, on the private copy only                                */
/* ------------------------------------------------------------------ */

/* [sector, sector + count) within the device, without overflow. */
static bool range_ok(uint64_t sector, uint64_t count, uint64_t sectors)
{
	return sector <= sectors && count <= sectors - sector;
}

/* Sectors of 512 bytes per logical block of the backing (1, 2, 4 or 8). */
static unsigned int block_sectors(const struct ring_blkif_limits *lim)
{
	unsigned int s = lim->sector_size >> RING_BLKIF_SECTOR_SHIFT;

	return s ? s : 1;
}

/*
 * Segments: each within its page, each a whole number of logical blocks
 * (O_DIRECT never sees a partial block), and the whole transfer within the
 * device.
 */
static int check_segments(struct ring_blkif_req *req,
			  const struct ring_blkif_limits *lim)
{
	unsigned int bs = block_sectors(lim);
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < req->nr_segments; i++) {
		const struct ring_blkif_seg *s = &req->seg[i];
		unsigned int n;

		if (s->last_sect >= RING_BLKIF_SECTORS_PER_PAGE ||
		    s->first_sect > s->last_sect)
			return BLKIF_RSP_ERROR;
		n = s->last_sect - s->first_sect + 1u;
		if (s->first_sect % bs || n % bs)
			return BLKIF_RSP_ERROR;
		total += n;
	}
	if (req->sector % bs)
		return BLKIF_RSP_ERROR;
	if (!range_ok(req->sector, total, lim->sectors))
		return BLKIF_RSP_ERROR;
	req->nr_sectors = total;
	return BLKIF_RSP_OKAY;
}

static int check_discard(struct ring_blkif_req *req,
			 const struct ring_blkif_limits *lim)
{
	if (!lim->discard)
		return BLKIF_RSP_EOPNOTSUPP;
	if (lim->readonly)
		return BLKIF_RSP_ERROR;
	if (!range_ok(req->sector, req->nr_sectors, lim->sectors))
		return BLKIF_RSP_ERROR;
	req->nr_segments = 0;
	return BLKIF_RSP_OKAY;
}

static int check_indirect(struct ring_blkif_req *req,
			  const struct ring_blkif_limits *lim)
{
	unsigned int pages;

	if (!lim->max_indirect_segs)
		return BLKIF_RSP_EOPNOTSUPP;
	if (req->op != BLKIF_OP_READ && req->op != BLKIF_OP_WRITE)
		return BLKIF_RSP_ERROR;
	if (req->op == BLKIF_OP_WRITE && lim->readonly)
		return BLKIF_RSP_ERROR;
	if (req->nr_segments == 0 || req->nr_segments > lim->max_indirect_segs ||
	    req->nr_segments > RING_BLKIF_MAX_INDIRECT_SEGS)
		return BLKIF_RSP_ERROR;
	pages = (req->nr_segments + RING_BLKIF_SEGS_PER_INDIRECT_PAGE - 1) /
		RING_BLKIF_SEGS_PER_INDIRECT_PAGE;
	if (pages > RING_BLKIF_MAX_INDIRECT_PAGES)
		return BLKIF_RSP_ERROR;
	req->nr_indirect_pages = (uint8_t)pages;
	return BLKIF_RSP_OKAY;
}

int ring_blkif_check(struct ring_blkif_req *req,
		     const struct ring_blkif_limits *lim)
{
	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		if (req->nr_segments == 0)
			return BLKIF_RSP_ERROR;
		break;
	case BLKIF_OP_WRITE_BARRIER:
		if (!lim->barrier)
			return BLKIF_RSP_EOPNOTSUPP;
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:
		if (!lim->flush)
			return BLKIF_RSP_EOPNOTSUPP;
		break;
	case BLKIF_OP_DISCARD:
		return check_discard(req, lim);
	case BLKIF_OP_INDIRECT:
		return check_indirect(req, lim);
	default:
		return BLKIF_RSP_EOPNOTSUPP;
	}
	/* Read, write, and barrier/flush with or without data. */
	if (req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return BLKIF_RSP_ERROR;
	if (req->operation != BLKIF_OP_READ && lim->readonly)
		return BLKIF_RSP_ERROR;
	if (req->nr_segments == 0) {
		req->nr_sectors = 0;
		return BLKIF_RSP_OKAY;
	}
	return check_segments(req, lim);
}

int ring_blkif_load_indirect(struct ring_blkif_req *req, const void *pages,
			     const struct ring_blkif_limits *lim)
{
	if (!req->indirect || req->nr_segments > RING_BLKIF_MAX_INDIRECT_SEGS)
		return BLKIF_RSP_ERROR;
	copy_segments(req, pages, req->nr_segments);
	return check_segments(req, lim);
}

size_t ring_blkif_req_bytes(const struct ring_blkif_req *req)
{
	if (req->op == BLKIF_OP_DISCARD && !req->indirect)
		return 0;
	return (size_t)req->nr_sectors << RING_BLKIF_SECTOR_SHIFT;
}

/* ------------------------------------------------------------------ */
/* Response side                                                       */
/* ------------------------------------------------------------------ */

/*
 * A response is built whole in a zeroed local and copied into the slot,
 * so no padding byte carries stale backend memory to the guest (XSA-216).
 */
#define WRITE_RESPONSE(br, rsp_t, id_, op_, status_)                        \
	do {                                                                \
		rsp_t rsp;                                                  \
		memset(&rsp, 0, sizeof(rsp));                               \
		rsp.id = (id_);                                             \
		rsp.operation = (op_);                                      \
		rsp.status = (status_);                                     \
		memcpy(RING_GET_RESPONSE((br), (br)->rsp_prod_pvt), &rsp,   \
		       sizeof(rsp));                                        \
		(br)->rsp_prod_pvt++;                                       \
	} while (0)

void ring_blkif_respond(struct ring_blkif *ring, uint64_t id,
			uint8_t operation, int16_t status)
{
	switch (ring->abi) {
	case RING_BLKIF_ABI_X86_32:
		WRITE_RESPONSE(&ring->r.x86_32,
			       struct ring_blkif_x86_32_response, id, operation,
			       status);
		break;
	case RING_BLKIF_ABI_X86_64:
		WRITE_RESPONSE(&ring->r.x86_64,
			       struct ring_blkif_x86_64_response, id, operation,
			       status);
		break;
	default:
		WRITE_RESPONSE(&ring->r.native, native_response_t, id,
			       operation, status);
		break;
	}
}

bool ring_blkif_push(struct ring_blkif *ring)
{
	int notify;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(BR(ring), notify);
	return notify != 0;
}
