/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blkfront.h - a blkif frontend for simulated guests (tests only).
 *
 * Follows Linux xen-blkfront's handshake: waits for the backend's
 * InitWait, reads max-ring-page-order and multi-queue-max-queues, writes
 * ring-ref (or ring-page-order + ring-ref<i>), event-channel, protocol,
 * feature-persistent and, for several queues, multi-queue-num-queues with
 * queue-<N>/ subdirectories; goes Initialised; waits for Connected; reads
 * sectors, info, sector-size and the feature nodes; goes Connected.
 *
 * Requests are built in the ABI the frontend announced. Everything is
 * exposed for tests that misbehave on purpose: raw slots, the producer
 * index, grants that are never given, a frontend that vanishes.
 */
#ifndef XB_TESTS_BLKFRONT_H
#define XB_TESTS_BLKFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring/blkif.h"
#include "tests/xensim/guest/xsg.h"

#define BLKFRONT_MAX_QUEUES 16
/* Data pages: as many as Linux blkfront's grants per ring (32 requests
 * of 32 segments and their indirect page), enough for 4 requests of
 * 1 MiB with theirs. */
#define BLKFRONT_POOL_PAGES 1056
#define BLKFRONT_IND_PAGES 64
/* A grant reference within the table that this frontend never grants. */
#define BLKFRONT_NEVER_GRANTED 0x7f00

struct blkfront_opts {
	unsigned int nr_queues;	  /* 1: top-level ring-ref/event-channel */
	unsigned int ring_order;  /* 0: "ring-ref"; else ring-ref0.. */
	enum ring_blkif_abi abi;  /* protocol written unless native */
	bool persistent;	  /* feature-persistent=1, keep grants */
	unsigned int max_indirect; /* use indirect up to this (0: never) */
	int timeout_ms;		  /* for each handshake step */
	/* Hostile: queue bad_ring_queue - 1 announces a never-granted
	 * reference as its last ring page (0: none). */
	unsigned int bad_ring_queue;
};

struct blkfront_queue {
	void *sring;
	uint32_t first_frame;
	unsigned int nr_pages;
	int grefs[RING_BLKIF_MAX_PAGES];
	uint32_t port;
	uint32_t req_prod_pvt;
	uint32_t rsp_cons;
	unsigned int nr_ents;
	/*
	 * Persistent grants, as Linux blkfront's per-ring list: this
	 * queue's share of the data pages (each with its grant, kept),
	 * free ones in gl[] from gl_head on (gl_len of them, circular).
	 * A request takes them from the front; its completion puts each
	 * back in segment order, at the front while the backend keeps it
	 * mapped, else ended and at the back. So the next request gets the
	 * last one's grants in reverse order, as from Linux.
	 */
	uint16_t gl[BLKFRONT_POOL_PAGES];
	unsigned int gl_size, gl_head, gl_len;
};

struct blkfront {
	struct xsg *g;
	struct xs_handle *xs;
	unsigned int devid;
	char fe[128];	/* frontend directory */
	char be[128];	/* backend directory */
	unsigned int backend_id;
	struct blkfront_opts o;
	struct blkfront_queue q[BLKFRONT_MAX_QUEUES];

	/* What the backend published. */
	uint64_t sectors;
	unsigned int sector_size, physical_sector_size, info;
	bool feat_flush, feat_barrier, feat_discard, feat_persistent;
	unsigned int max_indirect_segs;	/* backend's offer */
	unsigned int max_queues, max_ring_order;

	/* Data pages, each granted per request (or kept, if persistent). */
	uint8_t *pool;
	uint32_t pool_frame;
	int pool_gref[BLKFRONT_POOL_PAGES];
	bool pool_gref_ro[BLKFRONT_POOL_PAGES];
	uint8_t *ind;			/* indirect pages */
	uint32_t ind_frame;
	uint64_t next_id;
};

/* The frontend directory is device/vbd/<devid> of this domain. */
struct blkfront *blkfront_open(struct xsg *g, unsigned int devid);
/* Whole handshake up to Connected; 0 or -errno (-ETIMEDOUT ...). */
int blkfront_connect(struct blkfront *bf, const struct blkfront_opts *o);
/* Closing, wait for the backend's Closed, Closed; ends grants. */
int blkfront_disconnect(struct blkfront *bf);
void blkfront_free(struct blkfront *bf);
/*
 * The rings of every queue released (grants ended, channels closed,
 * pages given back); blkfront_connect() does it before it makes new ones.
 * Returns how many ring grants the backend still mapped (XSA-371 tests).
 */
unsigned int blkfront_release_rings(struct blkfront *bf);

/* Writes the frontend's xenbus state (tests driving the handshake by
 * hand). 0 or -errno. */
int blkfront_set_state(struct blkfront *bf, int state);
/* Backend's xenbus state, or -errno. */
int blkfront_backend_state(struct blkfront *bf);
/* Waits until the backend's state is want (or ms pass): 0, -ETIMEDOUT. */
int blkfront_wait_backend_state(struct blkfront *bf, int want, int ms);
/* A backend node as a number (0 on success). */
int blkfront_backend_u64(struct blkfront *bf, const char *node,
			 uint64_t *out);

/*
 * Synchronous I/O through queue q: op is BLKIF_OP_READ/WRITE/
 * FLUSH_DISKCACHE/WRITE_BARRIER; bytes a multiple of 512 (0 for a bare
 * flush); offset within the first page given by first_sect (0..7), to
 * exercise partial segments. Returns the response status (BLKIF_RSP_*),
 * or -errno (-ETIMEDOUT when no answer came).
 */
int blkfront_io(struct blkfront *bf, unsigned int q, uint8_t op,
		uint64_t sector, void *buf, size_t bytes,
		unsigned int first_sect);
int blkfront_discard(struct blkfront *bf, unsigned int q, uint64_t sector,
		     uint64_t nr, bool secure);

/*
 * Several writes or reads in flight at once on queue q (each of
 * bytes_each at sector[i]): all pushed, one notify, then all awaited.
 * Statuses in st[]. Returns 0 or -errno.
 */
int blkfront_io_batch(struct blkfront *bf, unsigned int q, uint8_t op,
		      const uint64_t *sector, uint8_t *const *buf,
		      size_t bytes_each, unsigned int n, int16_t *st);

/*
 * Asynchronous requests (benchmarks): data in pool pages page0.. (with
 * persistent grants: the queue's free grants, as Linux, in page[]), the
 * indirect page ind_idx when more than 11 segments (with persistent
 * grants: a free grant's page, ind_page); wbuf NULL leaves the pages as
 * they are. submit() queues (push with blkfront_push()), returns the id
 * or -errno (-ENOSPC: too few free grants); complete() ends or gives
 * back the request's grants once it was answered.
 */
struct blkfront_req {
	uint8_t op;
	uint64_t sector;
	const void *wbuf;
	size_t bytes;
	unsigned int page0, ind_idx;
	unsigned int nseg;
	int ind_gref;
	unsigned int q;		/* set by submit() */
	int ind_page;		/* persistent: page of the indirect grant */
	uint16_t page[RING_BLKIF_MAX_INDIRECT_SEGS];
};
int64_t blkfront_submit(struct blkfront *bf, unsigned int q,
			struct blkfront_req *r);
void blkfront_complete(struct blkfront *bf, struct blkfront_req *r);

/* ---- raw access for hostile tests ------------------------------------ */

/* Writes a whole slot (in the ring's ABI) at req_prod_pvt, advances it. */
void blkfront_put_raw(struct blkfront *bf, unsigned int q, const void *slot,
		      size_t len);
/* Publishes req_prod_pvt (or any value) and notifies. */
void blkfront_push(struct blkfront *bf, unsigned int q);
/* Publishes req_prod_pvt, notifies only if the backend asked (req_event),
 * as Linux blkfront: what the normal I/O paths and the bench use. */
void blkfront_push_check(struct blkfront *bf, unsigned int q);
void blkfront_set_req_prod(struct blkfront *bf, unsigned int q,
			   uint32_t prod);
/* Next response: 0 and its fields, or -ETIMEDOUT. */
int blkfront_get_response(struct blkfront *bf, unsigned int q, int ms,
			  uint64_t *id, uint8_t *op, int16_t *status);
/*
 * A request in neutral terms, laid out in the ring's ABI (any values,
 * hostile ones too) by blkfront_encode(): read/write/flush/barrier take
 * nr_segments (the count written, seg[] up to 11 of them), discard takes
 * nr_sectors and discard_flag, indirect takes indirect_op, nr_segments
 * (16 bits) and nr_ind pages in ind_gref[].
 */
#define BLKFRONT_RAW_IND 8
struct blkfront_rawreq {
	uint8_t operation, indirect_op, discard_flag;
	uint16_t nr_segments;
	uint64_t id, sector, nr_sectors;
	unsigned int nr_ind;
	uint32_t ind_gref[BLKFRONT_RAW_IND];
	struct ring_blkif_seg seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
void blkfront_encode(const struct blkfront *bf, uint8_t *slot,
		     const struct blkfront_rawreq *r);
/* Encodes r at req_prod_pvt and advances it (blkfront_push publishes). */
void blkfront_put_req(struct blkfront *bf, unsigned int q,
		      const struct blkfront_rawreq *r);
/* Slot size of the ring's ABI. */
size_t blkfront_slot_size(const struct blkfront *bf);
/* Grants data page i to the backend (rw), returns its gref. */
int blkfront_grant_page(struct blkfront *bf, unsigned int i);
void *blkfront_page(struct blkfront *bf, unsigned int i);

/* ---- for test programs (prints PASS:/FAIL: lines) -------------------- */

/* The name in each line ("PASS: <name>: <what>"), and the FAIL count. */
extern const char *blkfront_name;
extern int blkfront_failures;
/* One line: PASS, or FAIL with the reason formatted from why. */
void blkfront_report(bool ok, const char *what, const char *why, ...)
	__attribute__((format(printf, 3, 4)));
/* Reproducible random numbers (xorshift64); blkfront_seed() varies them. */
uint64_t blkfront_rand(void);
void blkfront_seed(uint64_t seed);
/*
 * The options every blkfront test program takes, for its getopt loop:
 * -d devid, -a 32|64|native (the ABI), -p (persistent grants), -s seed,
 * -n name. True if c was one of them (and is taken).
 */
bool blkfront_common_opt(int c, const char *arg, struct blkfront_opts *o,
			 unsigned int *devid);
/* This process as its domain (under xensim run), device devid connected
 * with o, "connect" reported; NULL (a FAIL line printed) if not. */
struct blkfront *blkfront_start(unsigned int devid,
				const struct blkfront_opts *o);
/*
 * After a test program's getopt loop: *sc, its scenario (argv[optind]),
 * and *bf, devid connected as by blkfront_start(). Returns 0, or what
 * main() returns: 2 without a scenario (said on stderr), 1 if not
 * connected (a FAIL line).
 */
int blkfront_start_scenario(int argc, char **argv, unsigned int devid,
			    const struct blkfront_opts *o, const char **sc,
			    struct blkfront **bf);
/* blkfront_free() and the guest library handle closed. */
void blkfront_stop(struct blkfront *bf);

#endif
