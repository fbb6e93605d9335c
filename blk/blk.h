/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk/blk.h - the block backend's internal contract.
 *
 * The folder's public face is `blk_kind` (backend/device.h). Inside it:
 *
 *   xenbus.c   the kind's callbacks: negotiation with the toolstack and
 *              the frontend, feature and size nodes, queues set up and
 *              torn down (main thread);
 *   backing.c  the file or block device behind a vbd: opening it
 *              O_DIRECT, its size, block sizes, discard and flush;
 *   datapath.c map or copy for a device: the operator's override, the
 *              toolstack's direct-io-safe, or the backing known local;
 *   queue.c    the data path of one ring, on its worker thread: requests
 *              copied out and checked (ring/blkif), guest data moved by
 *              grant copy between the guest's pages and the queue's own
 *              aligned buffers, I/O through libaio, batched responses.
 *
 * Every per-frontend resource is bounded here, allocated at connect time
 * and never in the hot path.
 */
#ifndef XB_BLK_BLK_H
#define XB_BLK_BLK_H

#include <libaio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <xengnttab.h>

#include "backend/device.h"
#include "backend/journal.h"
#include "backend/resources.h"
#include "backend/rings.h"
#include "backend/worker.h"
#include "ring/blkif.h"

/* ---- bounds ------------------------------------------------------------ */

/* Queues a frontend may ask for (multi-queue-max-queues). */
#define BLK_MAX_QUEUES 16
/* Most requests of one queue in flight at once (the rest wait in the ring). */
#define BLK_QUEUE_MAX_SLOTS 128
/* Data buffer of one queue, in pages: bounds in-flight bytes per queue. */
#define BLK_QUEUE_POOL_PAGES 1024
/* Persistent grants kept mapped per queue (Linux blkback's default). */
#define BLK_MAX_PGRANTS 1056
/* Segments per indirect request we offer (Linux blkback's maximum). */
#define BLK_MAX_INDIRECT_SEGS RING_BLKIF_MAX_INDIRECT_SEGS
/* A request's new grants always fit in an empty set. */
_Static_assert(BLK_MAX_INDIRECT_SEGS <= BLK_MAX_PGRANTS,
	       "a request's mapping could never join the set");

/* ---- backing ----------------------------------------------------------- */

struct blk_backing {
	int fd;			/* O_DIRECT, read-only if readonly */
	unsigned int domid;	/* the fd is counted for it (resources.h) */
	char path[256];
	bool is_bdev;
	bool readonly;
	bool discard;		/* PUNCH_HOLE / BLKDISCARD works */
	bool discard_secure;	/* BLKSECDISCARD works */
	uint32_t sector_size;	/* logical block size, bytes */
	uint32_t physical_sector_size;
	uint32_t discard_granularity;
	uint32_t discard_alignment;
	uint64_t bytes;
};

#define BLK_BACKING_INIT                                                      \
	{                                                                     \
		.fd = -1                                                      \
	}

/* Opens path O_DIRECT and learns its geometry. Logs the failure. */
int blk_backing_open(struct xb_device *dev, struct blk_backing *b,
		     const char *path, bool readonly);
void blk_backing_close(struct blk_backing *b);
/* Current size in bytes of the open backing (for resize), or <0. */
int blk_backing_size(const struct blk_backing *b, uint64_t *bytes);
/* Whether BLKSECDISCARD can be probed on a kernel of this release. */
bool blk_secdiscard_checks_support_first(const char *release);
/* Punches or discards [off, off + len); secure when asked and offered. */
int blk_backing_discard(const struct blk_backing *b, uint64_t off,
			uint64_t len, bool secure);

/*
 * A discard is done in chunks, one call each, so that a queue told to
 * stop (the main thread waits for it) stops between two calls rather than
 * after the whole range: one whole-disk discard on slow storage would
 * hold the main thread, every device and the watchdog for minutes. The
 * chunk adapts so that a call takes about BLK_DISCARD_CALL_NS.
 */
#define BLK_DISCARD_CHUNK_MIN (1ull << 20)
#define BLK_DISCARD_CHUNK_START (16ull << 20)
#define BLK_DISCARD_CHUNK_MAX (1ull << 30)
#define BLK_DISCARD_CALL_NS 100000000ull
/*
 * End of the call starting at off towards end (off < end): about chunk
 * bytes on, moved back to a boundary of the backing's discard granules
 * (discard-alignment + k * discard-granularity) so that no granule is
 * split between two calls, and always past off.
 */
uint64_t blk_discard_chunk_end(const struct blk_backing *b, uint64_t chunk,
			       uint64_t off, uint64_t end);
/* The chunk after a call of bytes that took ns. */
uint64_t blk_discard_pace(uint64_t chunk, uint64_t bytes, uint64_t ns);

/* ---- data path (datapath.c) -------------------------------------------- */

/* Room for a reason ("loop0-over-file-on-ext4-on-local-disk-vda"). */
#define BLK_DATA_WHY_MAX 96

/*
 * Whether the open backing is positively known to be local storage, which
 * never touches a page after its O_DIRECT request completed; why gets a
 * space-free phrase saying what was found.
 */
bool blk_backing_is_local(const struct blk_backing *b, char *why,
			  size_t len);
/* The same for block device maj:min. */
bool blk_bdev_is_local(unsigned int maj, unsigned int min, char *why,
		       size_t len);
/* The same for a file on the btrfs filesystem fsid (its devices). */
bool blk_btrfs_is_local(const char *fsid, char *why, size_t len);
/*
 * Tests: sysfs looked for under root ("" or NULL: the real one), by
 * every sysfs read of this file (known local, max_segments, guest_type).
 */
void blk_datapath_sysfs_root(const char *root);
struct blk_dev;
/*
 * Map (true) or copy for a device whose backing is open: the operator's
 * setting vbd-data (xenbackd.conf, XENBACKD_BLK_DATA, --set) when copy or
 * map, else the toolstack's direct-io-safe, else whether the backing is
 * known local. Main thread (reads xenstore).
 */
bool blk_data_choose(struct blk_dev *bd, char *why, size_t len);
/* The setting vbd-data: auto, copy or map. */
bool blk_data_valid(const char *value);

/*
 * Large reads in map mode (docs/blk.md, "Large reads through the pool").
 * A read of more segments than the backing's disk takes in one request
 * is served through the queue's pool (grant copy), whose physically
 * contiguous runs the disk takes as one request, where the guest's
 * scattered pages would be split; everything else stays mapped. Chosen
 * at connect when the data path was chosen by itself (vbd-data auto),
 * outside a Xen PV domain (no huge pages there, and merging follows
 * machine frames), on a backing whose data ends on disks.
 */
#define BLK_GUEST_TYPE_PATH "/sys/hypervisor/guest_type"
/*
 * The fewest segments (queue/max_segments) a device under the backing
 * takes in one request, following files, loop devices, dm and md down,
 * its name in dev; 0 when the data ends in memory (tmpfs, ramfs, zram,
 * brd, a loop device over those) or where sysfs cannot say.
 */
unsigned int blk_backing_max_segments(const struct blk_backing *b, char *dev,
				      size_t len);
/* The same for block device maj:min, and for the btrfs filesystem fsid. */
unsigned int blk_bdev_max_segments(unsigned int maj, unsigned int min,
				   char *dev, size_t len);
unsigned int blk_btrfs_max_segments(const char *fsid, char *dev, size_t len);
/* Whether the file guest_type (BLK_GUEST_TYPE_PATH) says "PV". */
bool blk_xen_pv_domain(const char *guest_type);
/*
 * The rule: reads of more than the returned number of segments go
 * through the pool (0: none), why gets a space-free phrase. limit is
 * blk_backing_max_segments()'s answer for the disk dev.
 */
unsigned int blk_large_reads_rule(bool chosen_auto, bool pv,
				  unsigned int limit, const char *dev,
				  char *why, size_t len);
/* The rule for a device in map mode whose backing is open. Main thread. */
unsigned int blk_large_reads_choose(struct blk_dev *bd, char *why,
				    size_t len);

/* ---- counters (xenbackctl), updated by workers ------------------------- */

struct blk_counters {
	atomic_uint_fast64_t rd_req, wr_req, flush_req, barrier_req;
	atomic_uint_fast64_t discard_req, indirect_req;
	atomic_uint_fast64_t rd_sect, wr_sect, discard_sect;
	atomic_uint_fast64_t err_req;	  /* answered BLKIF_RSP_ERROR */
	atomic_uint_fast64_t unsupported; /* answered BLKIF_RSP_EOPNOTSUPP */
	atomic_uint_fast64_t io_errors;   /* of those, the backing failed */
	atomic_uint_fast64_t inflight;
	/* Map mode, requests of more than one segment: their segments, the
	 * iovecs those made, and the segments on the page just below the
	 * one before (what a grant reused in reverse order gives). */
	atomic_uint_fast64_t map_segs, map_iovs, map_rev_segs;
	/* Map mode, the queues' sets of mapped grants (blk/pgrant.c):
	 * segments found mapped, grants mapped, batches unmapped to make
	 * room, requests whose mapping could not be kept, and the most pages
	 * one queue's set held (with no eviction: the distinct grants the
	 * frontend cycled through on its busiest queue). */
	atomic_uint_fast64_t map_hits, map_misses, map_evictions, map_own;
	atomic_uint_fast64_t map_peak;
	/* Reversed twins (blk/pgrant.c): mapped, and segments served by
	 * one (each then joins the iovec of the segment before it). */
	atomic_uint_fast64_t map_twins, map_twin_segs;
	/* Map mode: large reads served through the pool (grant copy). */
	atomic_uint_fast64_t copy_reads;
};

/* ---- guest pages mapped (map mode, pgrant.c) ------------------------------ */

/*
 * A request's grants are mapped with one libxengnttab call, at adjacent
 * addresses in segment order, so that segments whose pages are adjacent
 * and whose sectors follow on make one iovec (the kernel then pins one
 * range for O_DIRECT, not one page per segment). Such a mapping (a
 * batch) is released only as a whole: libxengnttab's unmap takes exactly
 * the range and count one map call gave (gntdev's GET_OFFSET_FOR_VADDR
 * answers the whole map's count, and the unmap ioctl finds the map by its
 * first index and count), so one page of a batch cannot be unmapped alone.
 *
 * With persistent grants a batch joins the queue's set: at most max
 * pages, whole idle batches released least recently used first to make
 * room (Linux blkback's LRU, by batch); a batch that cannot fit (the set
 * is full of batches requests are doing I/O on) is the request's own and
 * unmapped when it is answered, as blkback maps such grants
 * non-persistently. Without persistent grants every batch is the
 * request's own. Guest-derived: the grant references; they are only
 * looked up (under a hash keyed per set, so that a guest cannot choose
 * references that share a chain), and a gref given twice in a request is
 * mapped once.
 *
 * Linux blkfront reuses its grants last in, first out: each request gets
 * the previous one's grants in reverse order, every other request on a
 * quiet queue (docs/perf.md, "Reversed grants"). Segments on descending
 * pages cannot share an iovec, so a batch whose grants come back reversed
 * gets a twin: a second mapping of the same grants, last first (Xen lets
 * a grant be mapped several times). A segment then takes its page from
 * whichever of the two follows on from its neighbour's. Twins count
 * against the bound like any page, and are made (one map call per
 * request at most) only in room the set has spare or can make from
 * batches unused for BLK_TWIN_COLD requests; they are the first to go
 * when a batch needs room; a batch goes with its twin, and neither while
 * a request holds the other.
 */
#define BLK_TWIN_COLD 1024
struct blk_pgrant {
	grant_ref_t gref;
	uint32_t batch;		/* the mapping its page is in */
	uint8_t *addr;
	uint32_t hnext;		/* hash chain, or free list */
	uint32_t bnext;		/* next grant of the same batch */
};

struct blk_pbatch {
	uint8_t *base;		/* what one map call gave: count pages */
	uint32_t count;
	uint32_t pins;		/* segments in flight on it: kept mapped */
	uint32_t first;		/* its grants, chained through bnext */
	uint32_t prev, next;	/* use order, most recent at head; free list */
	uint32_t twin;		/* its reversed twin (NIL: none); of a twin:
				 * the batch it reverses */
	bool reversed;		/* a twin: the batch's grants, last first */
	uint64_t used;		/* the set's request count at its last use */
};

/* Deduplication of one request's grants not in the set. */
struct blk_pgrant_seen {
	grant_ref_t gref;
	uint32_t gen;		/* valid for the request of this number */
	uint32_t page;		/* its page in the request's new mapping */
};

struct blk_pgrants {
	struct blk_pgrant *e;	/* max grants (none without persistence) */
	struct blk_pbatch *b;	/* max batches */
	uint32_t *bucket;
	struct blk_pgrant_seen *seen;
	uint32_t gen;
	uint32_t free_e, free_b;
	unsigned int max, nbuckets, mapped;	/* mapped: pages in the set */
	uint32_t head, tail;
	uint64_t sip[4];	/* secret hash key, as SipHash's first state */
	uint64_t hits, misses, evictions, own;
	uint64_t twins, twin_segs, twin_drops;	/* made, used, unmapped */
	uint64_t reqs;		/* requests looked up */
	uint64_t steps;		/* hash entries and batches walked (tests) */
	uint32_t domid;		/* whose grants (backend/resources.h) */
};

/* What one request holds: pins on batches of the set, its own mapping. */
struct blk_pgrant_hold {
	uint8_t *own;
	uint32_t own_count;
	uint32_t nr_pins;
	uint32_t pin[BLK_MAX_INDIRECT_SEGS];
};

/* max 0: no set (every request maps its grants for itself). 0, or
 * -errno (no memory, no random key). */
int blk_pgrants_init(struct blk_pgrants *c, unsigned int max);
/*
 * The pages of a request's n segments (n <= BLK_MAX_INDIRECT_SEGS) in
 * page[i], held in h until blk_pgrants_release(): I/O runs on them.
 * Grants not in the set are mapped with prot in one call (one bad
 * reference fails it all). 0, or -errno with nothing held or mapped.
 */
int blk_pgrants_map_request(struct blk_pgrants *c, xengnttab_handle *gt,
			    uint32_t domid, const struct ring_blkif_seg *seg,
			    unsigned int n, int prot, uint8_t **page,
			    struct blk_pgrant_hold *h);
/* The request is done: its pins dropped, its own mapping unmapped. */
void blk_pgrants_release(struct blk_pgrants *c, xengnttab_handle *gt,
			 uint32_t domid, struct blk_pgrant_hold *h);
/* Unmaps everything; NULL-safe, idempotent. */
void blk_pgrants_destroy(struct blk_pgrants *c, xengnttab_handle *gt);

/* ---- a queue's data pages, in contiguous runs (pool.c) ------------------ */

#define BLK_POOL_MAX_PAGES 1024

struct blk_pool {
	uint8_t *base;			/* 2 MiB aligned, MADV_HUGEPAGE */
	void *map;
	size_t map_len;
	bool huge;			/* the kernel took MADV_HUGEPAGE */
	unsigned int nr_pages;		/* a multiple of 64 */
	unsigned int nr_free;
	uint64_t free[BLK_POOL_MAX_PAGES / 64];	/* bit set: page free */
	uint64_t nr_runs, nr_scattered;	/* takes served each way */
};

/* Reserves nr_pages pages (a multiple of 64); -errno. */
int blk_pool_init(struct blk_pool *p, unsigned int nr_pages);
/*
 * Faults every page of the pool in, writable (MADV_POPULATE_WRITE), so
 * that no request waits for memory; 0 or -errno (-ENOMEM: the host has
 * none to give). The queue's worker, before it serves (it may take a
 * while: zeroing, compaction for huge pages).
 */
int blk_pool_populate(struct blk_pool *p);
/*
 * Asks the kernel (/proc/self/pagemap) whether each 2 MiB part of the
 * populated pool is one physically contiguous range: true when the pool
 * really got huge pages. Needs CAP_SYS_ADMIN (the kernel hides frame
 * numbers otherwise: false).
 */
bool blk_pool_contiguous(struct blk_pool *p);
/* NULL-safe on a zeroed pool, idempotent. */
void blk_pool_destroy(struct blk_pool *p);
/*
 * Takes n free pages into page[]: one contiguous run (page[i] =
 * page[0] + i) where one is free, else any free pages. false (nothing
 * taken) when fewer than n are free.
 */
bool blk_pool_take(struct blk_pool *p, unsigned int n, uint32_t *page);
void blk_pool_put(struct blk_pool *p, const uint32_t *page, unsigned int n);
static inline uint8_t *blk_pool_addr(const struct blk_pool *p, uint32_t page)
{
	return p->base + (size_t)page * RING_BLKIF_PAGE_SIZE;
}

/* ---- adaptive polling before sleeping (poll.c) --------------------------- */

/*
 * vbd-poll-us (xenbackd.conf) or $XENBACKD_BLK_POLL_US: the most a worker
 * polls before each sleep, in microseconds (BLK_POLL_DEFAULT_US is
 * BLK_POLL_DEFAULT as a number).
 */
#define BLK_POLL_DEFAULT "50"
#define BLK_POLL_DEFAULT_US 50
#define BLK_POLL_MAX_US 1000
/* A budget starts here when it grows from 0, and drops to 0 below it. */
#define BLK_POLL_MIN_NS 4000u

enum { BLK_POLL_RING, BLK_POLL_IO, BLK_POLL_STATES };

struct blk_poll {
	uint32_t max_ns;		/* 0: never poll */
	uint32_t ns[BLK_POLL_STATES];	/* current budget per state */
	unsigned int state;		/* of the sleep in progress */
	uint64_t idle_since;		/* when that idle period began */
};

/* After a sleep: the whole idle time (polling + sleep) of that state. */
void blk_poll_adapt(struct blk_poll *p, unsigned int state,
		    uint64_t waited_ns);
/* The setting vbd-poll-us: a value the core may accept. */
bool blk_poll_us_valid(const char *value);
/* The operator's maximum now in force (vbd-poll-us). Main thread. */
unsigned int blk_poll_max_us(void);

/* ---- one queue (ring) -------------------------------------------------- */

struct blk_dev;
struct blk_slot;

struct blk_queue {
	struct blk_dev *bd;
	unsigned int index;
	char name[16];			/* worker thread name */

	struct xb_ring_map map;
	struct xb_evtchn ch;
	struct ring_blkif ring;
	struct ring_blkif_limits lim;	/* copy for this worker */
	struct xb_worker *worker;
	xengnttab_handle *gt;		/* this queue's grant-copy handle */

	io_context_t aio;
	int efd;			/* libaio completions */
	bool dead;			/* rogue frontend: take nothing more */
	bool stopping;

	/* Request slots: free ones on a stack. */
	struct blk_slot *slots;
	unsigned int nr_slots;
	unsigned int *free_slots;
	unsigned int nr_free_slots;
	/* Data pages (copy mode's buffers; map mode's bound). */
	struct blk_pool pool;
	uint8_t *indirect_buf;		/* private copy of indirect pages */

	/* Work of one pass, sized at connect time. */
	xengnttab_grant_copy_segment_t *copy;
	struct blk_slot **copy_owner;	/* slot of each copy segment */
	unsigned int nr_copy, max_copy;
	struct iocb **submit;
	unsigned int nr_submit;
	struct blk_slot **staged;	/* data moved, to submit or answer */
	unsigned int nr_staged;
	struct blk_pgrants pgrants;
	struct io_event *events;

	/* Queue 0 only: a timer to look at the backing's size (resize). */
	int size_timer;

	/* A barrier waits for earlier I/O to finish before it starts. */
	struct blk_slot *barrier;
	unsigned int in_use;		/* slots taken */

	/* Requests taken and not yet answered publicly, for a successor
	 * after a crash (backend/journal.h); entries to serve again first
	 * when this queue adopted a ring in use. */
	struct xb_journal *journal;
	uint32_t *replay;
	unsigned int nr_replay, replay_pos;

	struct blk_poll poll;
	uint64_t discard_chunk;		/* bytes per discard call now */
	/* Map mode: reads of more segments go through the pool (large
	 * reads, datapath.c); UINT_MAX: none. */
	unsigned int copy_reads_over;
};

/* ---- one device -------------------------------------------------------- */

struct blk_dev {
	struct xb_device *dev;
	struct blk_backing backing;
	bool cdrom;
	bool readonly;
	bool use_script;	/* wait for physical-device from the script */

	/* Negotiated at connect. */
	enum ring_blkif_abi abi;
	unsigned int ring_order;
	unsigned int nr_queues;
	bool persistent;	/* both ends use persistent grants */
	bool data_map;		/* map grants (else grant copy) */
	char data_why[BLK_DATA_WHY_MAX];	/* why (xenbackctl, log) */
	/* Map mode: reads over this many segments through the pool (0:
	 * none) and why, as chosen at connect; the queues whose pool is not
	 * contiguous (their workers count them before serving), and how
	 * many of those the main thread has logged. */
	unsigned int large_reads_over;
	char large_why[BLK_DATA_WHY_MAX];
	atomic_uint large_pools_scattered;
	unsigned int large_pools_logged;
	unsigned int poll_us;	/* vbd-poll-us at connect */
	struct blk_queue *queues;
	bool connected;
	bool closing;		/* queues draining (disconnect_begin) */

	/* Device size in 512-byte sectors; resize changes it. */
	_Atomic uint64_t sectors;
	/*
	 * The backing refused a flush (fdatasync: EOPNOTSUPP or EINVAL):
	 * as blkback, flush and barrier are no longer offered (workers stop
	 * taking them; the main thread writes feature-flush-cache and
	 * feature-barrier 0, flush_published once done). Kept while the
	 * backing stays open, across reconnects.
	 */
	atomic_bool flush_refused;
	bool flush_published;
	struct blk_counters ctr;
};

/*
 * Main thread: looks at the backing's size and publishes a change to the
 * frontend. 1 changed, 0 unchanged, <0 unknown; old/new sectors (NULL ok).
 */
int blk_resize_check(struct blk_dev *bd, uint64_t *old_sectors,
		     uint64_t *new_sectors);
/* How often a device's first worker looks at its backing's size. */
#define BLK_RESIZE_POLL_MS 1000

/* Sets a queue up on mapped rings and bound channels, and starts it. */
int blk_queue_start(struct blk_queue *q);
/* Stops its worker (I/O in flight drained) and frees what start made. */
void blk_queue_stop(struct blk_queue *q);
/* The first half of blk_queue_stop(): the worker starts draining. */
void blk_queue_stop_begin(struct blk_queue *q);
/* Whether its worker has drained and ended (blk_queue_stop() waits for
 * nothing more). Never blocks. */
bool blk_queue_ended(const struct blk_queue *q);

#endif
