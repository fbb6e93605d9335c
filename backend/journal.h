/*
 * journal.h - what a queue took from its ring and has not yet answered
 * publicly, kept where a successor finds it after the daemon dies.
 *
 * Resuming a ring in use from its indices alone (xb_ring_start_index())
 * is exact after a handover, which answers everything it took first. After
 * a crash it is not: a backend that completes requests out of order has
 * published answers to later requests while earlier ones are still in
 * flight, and each answer overwrites the ring slot of a request that may
 * be unanswered. A queue that completes out of order (blkif) therefore
 * journals every request it takes, until the response to it is published:
 * a copy of the request (its decoded form, before validation), the ring
 * index it came from, and once answered the response index. The journal
 * is a small file in the daemon's runtime directory mapped MAP_SHARED, so
 * that it outlives the process (not the host); it costs a copy and a few
 * stores per request.
 *
 * A successor adopting the device opens it with resume: requests whose
 * answers were published (response index below the shared rsp_prod) are
 * done; the others are served again, in their order, before anything new
 * (reads and writes are idempotent); taking from the ring goes on at the
 * journal's own req_cons, answering at the shared rsp_prod.
 *
 * Main thread: open, replay list, close. The queue's worker: take,
 * answered, published.
 */
#ifndef XB_BACKEND_JOURNAL_H
#define XB_BACKEND_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/device.h"

struct xb_journal;

/* Where journals live (default /run/xenbackd); the service sets it. */
void xb_journal_set_dir(const char *dir);

/*
 * Opens the journal of one queue of dev (queue names it, e.g. "q0") for
 * a ring of nr_ents entries and requests of req_size bytes.
 * Without dev->resume the journal starts empty at req_cons 0. With it, an
 * existing journal of the same geometry is read against the shared
 * rsp_prod: *req_cons is where taking goes on, and xb_journal_replay()
 * lists what to serve again; *found is false when there is none (the
 * predecessor handed over, which leaves nothing to replay: *req_cons is
 * then rsp_prod). A journal that contradicts the ring fails the device.
 * NULL on failure (the device failed, one line naming it).
 */
struct xb_journal *xb_journal_open(struct xb_device *dev, const char *queue,
				   unsigned int nr_ents, size_t req_size,
				   uint32_t rsp_prod, uint32_t *req_cons,
				   bool *found);
/*
 * The entries to serve again, oldest request first: their number, and
 * entry numbers in out (room for 2 * nr_ents). Each stays taken until
 * answered again.
 */
unsigned int xb_journal_replay(struct xb_journal *j, uint32_t *out);
/* The request copy of an entry. */
const void *xb_journal_req(struct xb_journal *j, uint32_t entry);

/* Records a request taken at ring index req_idx; returns its entry. */
uint32_t xb_journal_take(struct xb_journal *j, uint32_t req_idx,
			 const void *req);
/* The entry is answered at response index rsp_idx (not yet published). */
void xb_journal_answered(struct xb_journal *j, uint32_t entry,
			 uint32_t rsp_idx);
/* Responses below rsp_prod are published: their entries are done. */
void xb_journal_published(struct xb_journal *j, uint32_t rsp_prod);

/* Unmaps and removes the file (a clean stop leaves nothing to replay). */
void xb_journal_close(struct xb_journal *j);

/*
 * At start-up (a kind's start()): removes the journals of kind `type` an
 * earlier daemon left for devices that went while no daemon ran (not
 * xb_device_still_there(): no <backend_dir>/<domid>/<devid>/state, no
 * domain <domid> in xenstore or in the hypervisor). Only files
 * proven to be journals are touched (the exact name a journal gets, a
 * regular file of ours, the magic, a geometry that fits its size); the
 * journal of a device that still exists is kept for its adoption.
 */
struct xbs;
void xb_journal_sweep(struct xbs *xs, const char *type,
		      const char *backend_dir);

#endif
