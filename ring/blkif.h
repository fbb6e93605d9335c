/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ring/blkif.h - the blkif shared ring seen from the backend.
 *
 * A frontend writes requests into a ring page (or 2^order pages) it shares
 * with us. Everything in that page is guest-controlled and may change under
 * our feet, so this module is the only code that reads it:
 *
 *   ring_blkif_pending()  reads the producer index once and refuses one that
 *                         claims more requests than the ring can hold
 *                         (protocol violation: shut the device down);
 *   ring_blkif_fetch()    copies one request, in the frontend's ABI, out of
 *                         the ring into a private struct ring_blkif_req;
 *   ring_blkif_check()    validates that private copy (segments, sector
 *                         ranges, operation against the device's mode and
 *                         features) and yields the response status;
 *   ring_blkif_load_indirect() copies the segments of an indirect request
 *                         from a private copy of its indirect pages;
 *   ring_blkif_respond() / ring_blkif_push() write fully initialised
 *                         responses and publish them in batches.
 *
 * The three ABIs (native, x86_32-abi, x86_64-abi) differ only in layout;
 * they are handled here and nowhere else.
 */
#ifndef XB_RING_BLKIF_H
#define XB_RING_BLKIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/blkif.h>
#include <xen/io/ring.h>

/*
 * The barriers ring.h's macros use. Depending on the interface version
 * seen first, ring.h maps them to mb() or expects the toolstack's; we
 * define them here with exactly the text xenctrl.h uses, so that either
 * include order compiles.
 */
#undef xen_mb
#undef xen_rmb
#undef xen_wmb
#define xen_barrier() asm volatile ( "" : : : "memory")
#if defined(__i386__)
#define xen_mb()  asm volatile ( "lock addl $0, -4(%%esp)" ::: "memory" )
#define xen_rmb() xen_barrier()
#define xen_wmb() xen_barrier()
#elif defined(__x86_64__)
#define xen_mb()  asm volatile ( "lock addl $0, -32(%%rsp)" ::: "memory" )
#define xen_rmb() xen_barrier()
#define xen_wmb() xen_barrier()
#elif defined(__aarch64__)
#define xen_mb()   asm volatile ("dmb sy" : : : "memory")
#define xen_rmb()  asm volatile ("dmb sy" : : : "memory")
#define xen_wmb()  asm volatile ("dmb sy" : : : "memory")
#else
#error "Define barriers"
#endif

#define RING_BLKIF_PAGE_SIZE 4096u
#define RING_BLKIF_SECTOR_SHIFT 9 /* blkif sectors are always 512 bytes */
#define RING_BLKIF_SECTORS_PER_PAGE (RING_BLKIF_PAGE_SIZE >> 9)

/* Largest ring we accept: 2^4 pages, as Linux blkback's default. */
#define RING_BLKIF_MAX_PAGE_ORDER 4
#define RING_BLKIF_MAX_PAGES (1u << RING_BLKIF_MAX_PAGE_ORDER)

/*
 * Indirect descriptors: at most this many segments per request (Linux
 * blkback's MAX_INDIRECT_SEGMENTS), which fit in this many indirect pages.
 */
#define RING_BLKIF_MAX_INDIRECT_SEGS 256u
#define RING_BLKIF_SEGS_PER_INDIRECT_PAGE \
	(RING_BLKIF_PAGE_SIZE / sizeof(struct blkif_request_segment))
#define RING_BLKIF_MAX_INDIRECT_PAGES                                      \
	((RING_BLKIF_MAX_INDIRECT_SEGS + RING_BLKIF_SEGS_PER_INDIRECT_PAGE - \
	  1) / RING_BLKIF_SEGS_PER_INDIRECT_PAGE)

enum ring_blkif_abi {
	RING_BLKIF_ABI_NATIVE,
	RING_BLKIF_ABI_X86_32,
	RING_BLKIF_ABI_X86_64,
};

/*
 * The 32- and 64-bit x86 layouts, defined explicitly so that a backend of
 * either width serves a frontend of either width.
 */
struct ring_blkif_x86_32_request {
	uint8_t operation;
	uint8_t nr_segments;
	uint16_t handle;
	uint64_t id;
	uint64_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __attribute__((packed));

struct ring_blkif_x86_32_request_discard {
	uint8_t operation;
	uint8_t flag;
	uint16_t handle;
	uint64_t id;
	uint64_t sector_number;
	uint64_t nr_sectors;
} __attribute__((packed));

struct ring_blkif_x86_32_request_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint64_t id;
	uint64_t sector_number;
	uint16_t handle;
	uint16_t _pad1;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint64_t _pad2;
} __attribute__((packed));

struct ring_blkif_x86_32_response {
	uint64_t id;
	uint8_t operation;
	uint8_t _pad;
	int16_t status;
} __attribute__((packed));

struct ring_blkif_x86_64_request {
	uint8_t operation;
	uint8_t nr_segments;
	uint16_t handle;
	uint32_t _pad1;
	uint64_t id;
	uint64_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __attribute__((packed));

struct ring_blkif_x86_64_request_discard {
	uint8_t operation;
	uint8_t flag;
	uint16_t handle;
	uint32_t _pad1;
	uint64_t id;
	uint64_t sector_number;
	uint64_t nr_sectors;
} __attribute__((packed));

struct ring_blkif_x86_64_request_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint32_t _pad1;
	uint64_t id;
	uint64_t sector_number;
	uint16_t handle;
	uint16_t _pad2;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint32_t _pad3;
} __attribute__((packed));

struct ring_blkif_x86_64_response {
	uint64_t id;
	uint8_t operation;
	uint8_t _pad1;
	int16_t status;
	uint32_t _pad2;
} __attribute__((packed));

DEFINE_RING_TYPES(ring_blkif_x86_32, struct ring_blkif_x86_32_request,
		  struct ring_blkif_x86_32_response);
DEFINE_RING_TYPES(ring_blkif_x86_64, struct ring_blkif_x86_64_request,
		  struct ring_blkif_x86_64_response);

/* One segment of a request, private copy. */
struct ring_blkif_seg {
	grant_ref_t gref;
	uint8_t first_sect; /* guest-derived, checked <= last_sect <= 7 */
	uint8_t last_sect;
};

/*
 * A request as copied out of the ring: the same for every ABI. Fields are
 * guest-derived until ring_blkif_check() (and, for indirect requests,
 * ring_blkif_load_indirect()) accepted them.
 */
struct ring_blkif_req {
	uint64_t id;		/* echoed in the response */
	uint8_t operation;	/* as on the ring */
	uint8_t op;		/* effective: indirect_op for indirect; answered */
	bool indirect;
	uint16_t handle;
	uint64_t sector;	/* first 512-byte sector */
	uint64_t nr_sectors;	/* discard: from the ring; r/w: from segments */
	uint8_t discard_flag;
	uint16_t nr_segments;
	uint8_t nr_indirect_pages;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	struct ring_blkif_seg seg[RING_BLKIF_MAX_INDIRECT_SEGS];
};

/* What the device allows; ring_blkif_check() judges requests by it. */
struct ring_blkif_limits {
	uint64_t sectors;	 /* device size in 512-byte sectors */
	uint32_t sector_size;	 /* logical block size of the backing */
	uint16_t max_indirect_segs; /* 0: indirect not offered */
	bool readonly;
	bool flush;
	bool barrier;
	bool discard;
};

/* The backend's side of one shared ring, in one of the ABIs. */
struct ring_blkif {
	enum ring_blkif_abi abi;
	union {
		struct blkif_back_ring native;
		struct ring_blkif_x86_32_back_ring x86_32;
		struct ring_blkif_x86_64_back_ring x86_64;
	} r;
	RING_IDX req_prod; /* last producer index read and accepted */
};

/* "x86_32-abi", "x86_64-abi", or absent/empty (native). -1 if unknown. */
int ring_blkif_abi_from_protocol(const char *protocol,
				 enum ring_blkif_abi *abi);
const char *ring_blkif_abi_name(enum ring_blkif_abi abi);

/* Number of entries of a ring of 2^order pages in that ABI. */
unsigned int ring_blkif_nr_ents(enum ring_blkif_abi abi, unsigned int order);

/* Attach to a mapped ring of 2^order pages (order checked by the caller). */
void ring_blkif_attach(struct ring_blkif *ring, enum ring_blkif_abi abi,
		       void *sring, unsigned int order);
/*
 * The same for a ring in use, resumed where the previous backend stopped:
 * answering at start (xb_ring_start_index(), backend/rings.h), taking
 * requests at req_cons (backend/journal.h; start when it kept none).
 */
void ring_blkif_attach_at(struct ring_blkif *ring, enum ring_blkif_abi abi,
			  void *sring, unsigned int order, RING_IDX req_cons,
			  RING_IDX start);

/* Index fields, alike in every ABI. */
static inline RING_IDX ring_blkif_req_cons(const struct ring_blkif *ring)
{
	return ring->r.native.req_cons;
}
static inline RING_IDX ring_blkif_rsp_prod_pvt(const struct ring_blkif *ring)
{
	return ring->r.native.rsp_prod_pvt;
}

/*
 * Read the producer index once. Returns the number of requests ready to be
 * fetched (bounded by what the ring may hold given our unanswered
 * requests), or -1 if the frontend claims more than the ring size: a
 * protocol violation.
 */
int ring_blkif_pending(struct ring_blkif *ring);

/*
 * Copy the next request out of the ring (the caller got pending() > 0).
 * Every field is read exactly once.
 */
void ring_blkif_fetch(struct ring_blkif *ring, struct ring_blkif_req *req);

/*
 * Whether the frontend published requests not taken yet: one read of the
 * producer index, a hint for polling (pending() decides and validates).
 */
static inline bool ring_blkif_peek(const struct ring_blkif *ring)
{
	return *(const volatile RING_IDX *)&ring->r.native.sring->req_prod !=
	       ring->r.native.req_cons;
}

/*
 * Re-arm req_event before sleeping; true if requests arrived meanwhile.
 */
bool ring_blkif_final_check(struct ring_blkif *ring);

/*
 * Validate a fetched request. Returns BLKIF_RSP_OKAY, BLKIF_RSP_ERROR (bad
 * request) or BLKIF_RSP_EOPNOTSUPP (operation not offered). An accepted
 * indirect request still needs ring_blkif_load_indirect().
 */
int ring_blkif_check(struct ring_blkif_req *req,
		     const struct ring_blkif_limits *lim);

/*
 * Copy and validate the segments of an accepted indirect request from
 * `pages`, a private copy of its nr_indirect_pages indirect pages. Returns
 * BLKIF_RSP_OKAY or BLKIF_RSP_ERROR.
 */
int ring_blkif_load_indirect(struct ring_blkif_req *req, const void *pages,
			     const struct ring_blkif_limits *lim);

/* Bytes of data the request moves (segments), 0 for no data. */
size_t ring_blkif_req_bytes(const struct ring_blkif_req *req);

/* Queue a response (fully initialised, padding zeroed). */
void ring_blkif_respond(struct ring_blkif *ring, uint64_t id,
			uint8_t operation, int16_t status);

/* Publish queued responses; true if the frontend must be notified. */
bool ring_blkif_push(struct ring_blkif *ring);

/* Requests taken from the ring and not yet answered. */
unsigned int ring_blkif_unanswered(const struct ring_blkif *ring);

#endif
