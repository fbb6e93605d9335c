/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk/xenbus.c - the vbd device kind: negotiation with the toolstack and
 * the frontend, on the main thread.
 *
 *   probe         mode, device-type, script; advertise what does not
 *                 depend on the backing (indirect segments, ring order,
 *                 queues, persistent grants) -> InitWait at once, as libxl
 *                 gives a backend 10 s
 *   hotplug_done  the block script wrote physical-device, or there is no
 *                 script and params names the backing
 *   connect       open the backing, read the frontend's rings, channels
 *                 and protocol, start a worker per queue, publish the
 *                 backing's features and size, as blkback does before
 *                 Connected
 *   disconnect    stop the queues (I/O in flight answered first);
 *                 disconnect_begin starts that without waiting
 *   remove        close the backing
 */
#include "blk/blk.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "xenstore/xbs.h"

static unsigned int max_queues(void)
{
	int n = get_nprocs();

	if (n < 4)
		n = 4;
	return n > BLK_MAX_QUEUES ? BLK_MAX_QUEUES : (unsigned int)n;
}

/* ------------------------------------------------------------------ */
/* probe                                                               */
/* ------------------------------------------------------------------ */

static int read_mode(struct blk_dev *bd)
{
	struct xb_device *dev = bd->dev;
	char *mode = NULL, *type = NULL, *script = NULL;
	int rc;

	rc = xb_be_read_str(dev, "mode", &mode);
	if (rc == -ENOENT) {
		/* libxl writes it with the rest of the directory. */
		return -EAGAIN;
	}
	if (rc < 0) {
		xb_device_fail(dev, rc, "backend node mode: %s",
			       xb_read_error(rc));
		return rc;
	}
	if (mode[0] != 'r' && mode[0] != 'w') {
		xb_device_fail(dev, -EINVAL,
			       "backend node mode is '%.16s', not r or w",
			       mode);
		free(mode);
		return -EINVAL;
	}
	bd->readonly = mode[0] == 'r';
	free(mode);

	rc = xb_be_read_str(dev, "device-type", &type);
	if (rc == 0) {
		bd->cdrom = !strcmp(type, "cdrom");
		free(type);
	}
	/* A cdrom is never written, whatever the mode says. */
	if (bd->cdrom)
		bd->readonly = true;

	rc = xb_be_read_str(dev, "script", &script);
	bd->use_script = rc == 0 && script[0] != '\0';
	free(script);
	return 0;
}

static int blk_probe(struct xb_device *dev)
{
	struct blk_dev *bd = dev->priv;
	int rc;

	if (!bd) {
		bd = calloc(1, sizeof(*bd));
		if (!bd)
			return -ENOMEM;
		bd->dev = dev;
		bd->backing = (struct blk_backing)BLK_BACKING_INIT;
		dev->priv = bd;
	}
	rc = read_mode(bd);
	if (rc < 0)
		return rc;
	rc = xb_be_write(dev, "feature-max-indirect-segments", "%u",
			 BLK_MAX_INDIRECT_SEGS);
	if (rc == 0)
		rc = xb_be_write(dev, "max-ring-page-order", "%u",
				 RING_BLKIF_MAX_PAGE_ORDER);
	if (rc == 0)
		rc = xb_be_write(dev, "multi-queue-max-queues", "%u",
				 max_queues());
	if (rc < 0) {
		xb_device_fail(dev, rc, "cannot write feature nodes");
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* hotplug and backing                                                 */
/* ------------------------------------------------------------------ */

static bool blk_hotplug_done(struct xb_device *dev)
{
	struct blk_dev *bd = dev->priv;
	char *v = NULL;
	bool done;

	if (!bd)
		return false;
	if (bd->use_script) {
		done = xb_be_read_str(dev, "physical-device", &v) == 0;
	} else {
		done = xb_be_read_str(dev, "params", &v) == 0 && v[0];
	}
	free(v);
	return done;
}

static int open_from_physical_device(struct blk_dev *bd, const char *pd)
{
	struct xb_device *dev = bd->dev;
	unsigned int maj, min;
	char *path = NULL, buf[64];
	struct stat st;
	int rc;

	rc = xbs_parse_major_minor(pd, &maj, &min);
	if (rc) {
		xb_device_fail(dev, rc,
			       "backend node physical-device '%.32s' is not "
			       "a block device's hex major:minor%s",
			       pd,
			       rc == -ERANGE ? " (major 1-fff, minor 0-fffff)"
					     : "");
		return rc;
	}
	rc = xb_be_read_str(dev, "physical-device-path", &path);
	if (rc < 0) {
		snprintf(buf, sizeof(buf), "/dev/block/%u:%u", maj, min);
		path = strdup(buf);
		if (!path)
			return -ENOMEM;
	}
	rc = blk_backing_open(dev, &bd->backing, path, bd->readonly);
	if (rc < 0) {
		xb_device_fail(dev, rc, "cannot open backing %s", path);
		free(path);
		return rc;
	}
	if (fstat(bd->backing.fd, &st) < 0 || !S_ISBLK(st.st_mode) ||
	    major(st.st_rdev) != maj || minor(st.st_rdev) != min) {
		xb_device_fail(dev, -EINVAL,
			       "backing %s is not device %u:%u named by "
			       "physical-device",
			       path, maj, min);
		blk_backing_close(&bd->backing);
		free(path);
		return -EINVAL;
	}
	free(path);
	return 0;
}

static int open_backing(struct blk_dev *bd)
{
	struct xb_device *dev = bd->dev;
	char *v = NULL;
	int rc;

	if (bd->backing.fd >= 0) {
		/* Kept open across a reconnect: it may have been resized. */
		uint64_t bytes;

		if (blk_backing_size(&bd->backing, &bytes) == 0) {
			bd->backing.bytes = bytes;
			atomic_store(&bd->sectors,
				     bytes >> RING_BLKIF_SECTOR_SHIFT);
		}
		return 0;
	}
	rc = xb_be_read_str(dev, "physical-device", &v);
	if (rc == 0) {
		rc = open_from_physical_device(bd, v);
		free(v);
	} else if (!bd->use_script) {
		rc = xb_be_read_str(dev, "params", &v);
		if (rc < 0 || !v[0]) {
			xb_device_fail(dev, rc < 0 ? rc : -EINVAL,
				       "backend node params: %s",
				       rc < 0 ? xb_read_error(rc) : "empty");
			free(v);
			return rc < 0 ? rc : -EINVAL;
		}
		rc = blk_backing_open(dev, &bd->backing, v, bd->readonly);
		if (rc < 0)
			xb_device_fail(dev, rc, "cannot open backing %s", v);
		free(v);
	} else {
		return -EAGAIN; /* the script has not run yet */
	}
	if (rc < 0)
		return rc;
	atomic_store(&bd->sectors,
		     bd->backing.bytes >> RING_BLKIF_SECTOR_SHIFT);
	xb_dev_info(dev,
		    "backing %s: %" PRIu64 " bytes, block %u/%u%s%s%s%s",
		    bd->backing.path, bd->backing.bytes,
		    bd->backing.sector_size, bd->backing.physical_sector_size,
		    bd->readonly ? ", read-only" : "",
		    bd->cdrom ? ", cdrom" : "",
		    bd->backing.discard ? ", discard" : "",
		    bd->backing.discard_secure ? " (secure)" : "");
	return 0;
}

/* ------------------------------------------------------------------ */
/* connect                                                             */
/* ------------------------------------------------------------------ */

/*
 * Grant references of queue qi (backend/rings.h: "ring-ref" or
 * "ring-ref<i>", under "queue-<qi>/" with several queues, the order
 * from the top-level "ring-page-order"). Queue 0 fixes the ring order;
 * every other queue must have the same (the guest could change the node
 * between reads, and a ring must never be larger than what was mapped).
 */
static int read_ring_refs(struct blk_dev *bd, unsigned int qi,
			  grant_ref_t *refs)
{
	struct xb_device *dev = bd->dev;
	char dir[16], bad[XBS_PATH_MAX];
	unsigned int nr = 0, order = 0;
	int rc;

	snprintf(dir, sizeof(dir), "queue-%u", qi);
	rc = xb_ring_read_refs(dev, bd->nr_queues > 1 ? dir : NULL,
			       "ring-ref", RING_BLKIF_MAX_PAGE_ORDER, refs, &nr,
			       bad);
	if (rc < 0) {
		xb_device_fail(dev, rc, "frontend node %s: %s", bad,
			       xb_read_error(rc));
		return rc;
	}
	while ((1u << order) < nr)
		order++;
	if (qi == 0) {
		bd->ring_order = order;
	} else if (order != bd->ring_order) {
		xb_device_fail(dev, -EINVAL,
			       "queue %u has a ring of order %u, queue 0 of %u",
			       qi, order, bd->ring_order);
		return -EINVAL;
	}
	return 0;
}

static int read_frontend(struct blk_dev *bd)
{
	struct xb_device *dev = bd->dev;
	char *proto = NULL;
	int rc;

	rc = xb_fe_read_uint_def(dev, "multi-queue-num-queues", max_queues(),
				 1, &bd->nr_queues);
	if (rc == 0 && bd->nr_queues == 0)
		rc = -ERANGE;
	if (rc < 0) {
		xb_device_fail(dev, rc, "frontend node multi-queue-num-queues: %s",
			       xb_read_error(rc));
		return rc;
	}
	rc = xb_fe_read_str(dev, "protocol", &proto);
	if (rc < 0 && rc != -ENOENT) {
		xb_device_fail(dev, rc, "frontend node protocol: %s",
			       xb_read_error(rc));
		return rc;
	}
	if (ring_blkif_abi_from_protocol(rc == 0 ? proto : NULL, &bd->abi)) {
		xb_device_fail(dev, -EINVAL,
			       "frontend node protocol '%.32s' is unknown",
			       proto);
		free(proto);
		return -EINVAL;
	}
	free(proto);
	/*
	 * We always offer persistent grants: the protocol is the frontend
	 * keeping its pages granted. Grant copy serves them as any grant;
	 * map mode then keeps them mapped.
	 */
	rc = xb_fe_read_flag(dev, "feature-persistent", &bd->persistent);
	if (rc < 0)
		bd->persistent = false;
	return 0;
}

_Static_assert(RING_BLKIF_MAX_PAGES == XB_RING_MAX_PAGES,
	       "blkif and backend/rings.h agree on the largest ring");

static int start_queue(struct blk_dev *bd, struct blk_queue *q)
{
	struct xb_device *dev = bd->dev;
	grant_ref_t refs[RING_BLKIF_MAX_PAGES];
	evtchn_port_t port;
	char node[64];
	int rc;

	q->bd = bd;
	q->map = (struct xb_ring_map)XB_RING_MAP_INIT;
	q->ch = (struct xb_evtchn)XB_EVTCHN_INIT;
	q->efd = -1;
	q->lim.sectors = atomic_load(&bd->sectors);
	q->lim.sector_size = bd->backing.sector_size;
	q->lim.max_indirect_segs = BLK_MAX_INDIRECT_SEGS;
	q->lim.readonly = bd->readonly;
	q->lim.flush = !bd->readonly && !atomic_load(&bd->flush_refused);
	q->lim.barrier = q->lim.flush;
	q->lim.discard = bd->backing.discard && !bd->readonly;

	rc = read_ring_refs(bd, q->index, refs);
	if (rc < 0)
		return rc;
	if (bd->nr_queues > 1)
		snprintf(node, sizeof(node), "queue-%u/event-channel",
			 q->index);
	else
		snprintf(node, sizeof(node), "event-channel");
	rc = xb_evtchn_read_port(dev, node, &port);
	if (rc < 0) {
		xb_device_fail(dev, rc, "frontend node %s: %s", node,
			       xb_read_error(rc));
		return rc;
	}
	rc = xb_ring_map(dev, &q->map, refs, 1u << bd->ring_order);
	if (rc < 0) {
		xb_device_fail(dev, rc, "cannot map the ring of queue %u",
			       q->index);
		return rc;
	}
	rc = xb_evtchn_bind(dev, &q->ch, port);
	if (rc < 0) {
		xb_ring_unmap(&q->map);
		xb_device_fail(dev, rc,
			       "cannot bind the event channel of queue %u",
			       q->index);
		return rc;
	}
	rc = blk_queue_start(q);
	if (rc < 0) {
		xb_evtchn_unbind(&q->ch);
		xb_ring_unmap(&q->map);
		xb_device_fail(dev, rc, "cannot start queue %u", q->index);
		return rc;
	}
	return 0;
}

static void stop_queues(struct blk_dev *bd)
{
	unsigned int i;

	if (!bd->queues)
		return;
	/* All drain at once: the main thread waits for the slowest queue's
	 * I/O (a flush can take seconds), not for each queue in turn. */
	for (i = 0; i < bd->nr_queues; i++)
		if (bd->queues[i].bd)
			blk_queue_stop_begin(&bd->queues[i]);
	for (i = 0; i < bd->nr_queues; i++)
		if (bd->queues[i].bd)
			blk_queue_stop(&bd->queues[i]);
	free(bd->queues);
	bd->queues = NULL;
}

/* What the frontend reads once we are Connected (blkback's connect()). */
static int write_connect_nodes(struct blk_dev *bd)
{
	struct xb_device *dev = bd->dev;
	const struct blk_backing *b = &bd->backing;
	unsigned int info = 0;
	bool discard = b->discard && !bd->readonly;
	bool flush = !bd->readonly && !atomic_load(&bd->flush_refused);
	int rc;

	if (bd->cdrom)
		info |= VDISK_CDROM | VDISK_REMOVABLE;
	if (bd->readonly)
		info |= VDISK_READONLY;
	rc = xb_be_write(dev, "feature-flush-cache", "%d", flush);
	if (rc == 0)
		rc = xb_be_write(dev, "feature-barrier", "%d", flush);
	if (rc == 0)
		rc = xb_be_write(dev, "feature-discard", "%d", discard);
	if (rc == 0 && discard)
		rc = xb_be_write(dev, "discard-granularity", "%u",
				 b->discard_granularity);
	if (rc == 0 && discard)
		rc = xb_be_write(dev, "discard-alignment", "%u",
				 b->discard_alignment);
	if (rc == 0 && discard)
		rc = xb_be_write(dev, "discard-secure", "%d",
				 b->discard_secure);
	if (rc == 0)
		rc = xb_be_write(dev, "feature-persistent", "%d", 1);
	if (rc == 0)
		rc = xb_be_write(dev, "sectors", "%" PRIu64,
				 (uint64_t)atomic_load(&bd->sectors));
	if (rc == 0)
		rc = xb_be_write(dev, "info", "%u", info);
	if (rc == 0)
		rc = xb_be_write(dev, "sector-size", "%u", b->sector_size);
	if (rc == 0)
		rc = xb_be_write(dev, "physical-sector-size", "%u",
				 b->physical_sector_size);
	if (rc < 0)
		xb_device_fail(dev, rc, "cannot write the device's nodes");
	return rc;
}

/*
 * Large reads (map mode) go through a queue's pool only where it got
 * physically contiguous runs (each queue's worker checks its own before
 * it serves): whether any queue still copies them, and the reason, with
 * the queues that do not, into why.
 */
#define LARGE_WHY_MAX (BLK_DATA_WHY_MAX + 48)
static bool large_reads_state(struct blk_dev *bd, char *why, size_t len)
{
	unsigned int n = atomic_load(&bd->large_pools_scattered);

	if (!bd->large_reads_over || !n) {
		snprintf(why, len, "%s", bd->large_why);
		return bd->large_reads_over;
	}
	if (n >= bd->nr_queues) {
		snprintf(why, len, "pool-not-on-huge-pages");
		return false;
	}
	snprintf(why, len, "%s-but-%u-pools-not-on-huge-pages", bd->large_why,
		 n);
	return true;
}

/* Queues found their pools scattered after the connect line said how
 * large reads go: one line with what holds now. */
static void large_reads_log_change(struct blk_dev *bd)
{
	unsigned int n = atomic_load(&bd->large_pools_scattered);
	char why[LARGE_WHY_MAX];
	bool copy;

	if (!bd->connected || !bd->data_map || n == bd->large_pools_logged)
		return;
	bd->large_pools_logged = n;
	copy = large_reads_state(bd, why, sizeof(why));
	xb_dev_info(bd->dev, "large reads by %s (%s)",
		    copy ? "grant copy" : "grant map", why);
}

static int blk_connect(struct xb_device *dev)
{
	struct blk_dev *bd = dev->priv;
	char large[LARGE_WHY_MAX + 32], why[LARGE_WHY_MAX];
	unsigned int i;
	int rc;

	if (!bd)
		return -EINVAL;
	if (bd->connected)
		return 0;
	rc = open_backing(bd);
	if (rc < 0)
		return rc;
	rc = read_frontend(bd);
	if (rc < 0)
		return rc;
	/* Before the queues: they set up for one path or the other. */
	bd->data_map = blk_data_choose(bd, bd->data_why, sizeof(bd->data_why));
	bd->large_reads_over = 0;
	bd->large_why[0] = '\0';
	atomic_store(&bd->large_pools_scattered, 0);
	bd->large_pools_logged = 0;
	if (bd->data_map)
		bd->large_reads_over = blk_large_reads_choose(
			bd, bd->large_why, sizeof(bd->large_why));
	bd->poll_us = blk_poll_max_us();
	bd->queues = calloc(bd->nr_queues, sizeof(*bd->queues));
	if (!bd->queues)
		return -ENOMEM;
	for (i = 0; i < bd->nr_queues; i++) {
		bd->queues[i].index = i;
		rc = start_queue(bd, &bd->queues[i]);
		if (rc < 0) {
			bd->queues[i].bd = NULL;
			stop_queues(bd);
			return rc;
		}
	}
	rc = write_connect_nodes(bd);
	if (rc < 0) {
		stop_queues(bd);
		return rc;
	}
	bd->connected = true;
	large[0] = '\0';
	if (bd->data_map) {
		/* What the queues found so far; a later finding is logged
		 * when it comes (blk_kicked()). */
		bd->large_pools_logged =
			atomic_load(&bd->large_pools_scattered);
		snprintf(large, sizeof(large), ", large reads by %s (%s)",
			 large_reads_state(bd, why, sizeof(why)) ?
				 "grant copy" : "grant map",
			 why);
	}
	xb_dev_info(dev, "connected: %u queue(s), ring order %u, %s, %s (%s)%s%s",
		    bd->nr_queues, bd->ring_order,
		    ring_blkif_abi_name(bd->abi),
		    bd->data_map ? "grant map" : "grant copy", bd->data_why,
		    bd->persistent ? ", persistent grants" : "", large);
	return 0;
}

/* ------------------------------------------------------------------ */
/* disconnect, remove, changes, describe                               */
/* ------------------------------------------------------------------ */

/*
 * Every queue starts draining (requests in flight answered, writes and
 * flushes completed as asked, nothing new taken); 0 once none is left
 * running, else the requests still in flight (each queue's worker tells
 * the main thread when it ends).
 * The rings and the guest's pages stay mapped until blk_disconnect().
 */
static unsigned int blk_disconnect_begin(struct xb_device *dev)
{
	struct blk_dev *bd = dev->priv;
	uint64_t inflight;
	unsigned int i;
	bool ended = true;

	if (!bd || !bd->queues)
		return 0;
	bd->closing = true;
	for (i = 0; i < bd->nr_queues; i++)
		if (bd->queues[i].bd)
			blk_queue_stop_begin(&bd->queues[i]);
	for (i = 0; i < bd->nr_queues; i++)
		if (bd->queues[i].bd && !blk_queue_ended(&bd->queues[i]))
			ended = false;
	if (ended)
		return 0;
	inflight = atomic_load(&bd->ctr.inflight);
	return inflight ? (unsigned int)(inflight > UINT_MAX ? UINT_MAX : inflight) : 1;
}

static void blk_disconnect(struct xb_device *dev)
{
	struct blk_dev *bd = dev->priv;

	if (!bd)
		return;
	stop_queues(bd);
	bd->connected = false;
	bd->closing = false;
}

static void blk_remove(struct xb_device *dev)
{
	struct blk_dev *bd = dev->priv;

	if (!bd)
		return;
	blk_disconnect(dev);
	blk_backing_close(&bd->backing);
	free(bd);
	dev->priv = NULL;
}

/* "sectors" and then "state" again, in one transaction, while the device
 * directory exists (blkback's resize notification). */
struct resize_txn {
	const char *dir;
	uint64_t sectors;
	int state;
};

static int publish_size_txn(struct xbs *xs, xs_transaction_t t, void *arg)
{
	const struct resize_txn *r = arg;
	int rc;

	if (!xbs_exists(xs, t, r->dir, "state"))
		return -ENOENT;
	rc = xbs_printf(xs, t, r->dir, "sectors", "%" PRIu64, r->sectors);
	if (rc == 0)
		rc = xbs_printf(xs, t, r->dir, "state", "%d", r->state);
	return rc;
}

/*
 * Looks at the backing's size; when it grew or shrank, publishes
 * "sectors" and rewrites "state" (Connected), which is what makes blkfront
 * (watching our state) read the size again, as blkback does. Workers
 * refuse requests beyond the new end from their next pass on. Returns
 * 1 when the size changed, 0 when not, <0 when the size is unknown;
 * *old_out and *new_out (if not NULL) get the sectors before and after.
 */
int blk_resize_check(struct blk_dev *bd, uint64_t *old_out,
		     uint64_t *new_out)
{
	struct xb_device *dev = bd->dev;
	struct resize_txn r = { .dir = dev->backend_path };
	uint64_t bytes, old;
	int rc;

	if (bd->backing.fd < 0)
		return -EBADF;
	rc = blk_backing_size(&bd->backing, &bytes);
	if (rc < 0)
		return rc;
	old = atomic_load(&bd->sectors);
	r.sectors = bytes >> RING_BLKIF_SECTOR_SHIFT;
	if (old_out)
		*old_out = old;
	if (new_out)
		*new_out = r.sectors;
	if (r.sectors == old)
		return 0;
	atomic_store(&bd->sectors, r.sectors);
	bd->backing.bytes = bytes;
	xb_dev_notice(dev, "backing resized: %" PRIu64 " -> %" PRIu64
			   " sectors",
		      old, r.sectors);
	if (!bd->connected)
		return 1;
	r.state = (int)dev->state;
	rc = xbs_transaction(dev->xs, publish_size_txn, &r);
	if (rc < 0 && rc != -ENOENT)
		xb_dev_warn(dev, "cannot publish the new size: %s",
			    strerror(-rc));
	return 1;
}

/* A worker found the backing refusing flushes: blkback's
 * xen_blkbk_flush_diskcache(0) and xen_blkbk_barrier(0). */
static void publish_flush_refused(struct blk_dev *bd)
{
	struct xb_device *dev = bd->dev;

	if (!atomic_load(&bd->flush_refused) || bd->flush_published)
		return;
	bd->flush_published = true;
	if (xb_be_write(dev, "feature-flush-cache", "0") < 0 ||
	    xb_be_write(dev, "feature-barrier", "0") < 0)
		xb_dev_warn(dev, "cannot write feature-flush-cache 0");
}

static void blk_kicked(struct xb_device *dev)
{
	if (!dev->priv)
		return;
	publish_flush_refused(dev->priv);
	large_reads_log_change(dev->priv);
	blk_resize_check(dev->priv, NULL, NULL);
}

/* xenbackctl resize: the operator asks us to look at the size now. */
static int blk_resize(struct xb_device *dev, FILE *out)
{
	struct blk_dev *bd = dev->priv;
	uint64_t old = 0, now = 0;
	int rc;

	if (!bd || bd->backing.fd < 0) {
		fprintf(out, "error: %s: no backing open yet\n", dev->name);
		return -ENODEV;
	}
	rc = blk_resize_check(bd, &old, &now);
	if (rc < 0) {
		fprintf(out, "error: %s: cannot read the backing's size: %s\n",
			dev->name, strerror(-rc));
		return rc;
	}
	if (rc == 0)
		fprintf(out, "%s: %" PRIu64 " sectors, unchanged\n", dev->name,
			now);
	else
		fprintf(out, "%s: %" PRIu64 " -> %" PRIu64 " sectors%s\n",
			dev->name, old, now,
			bd->connected ? ", frontend notified" : "");
	return 0;
}

static void blk_backend_changed(struct xb_device *dev, const char *node)
{
	struct blk_dev *bd = dev->priv;
	char *v = NULL;

	if (!bd)
		return;
	/* Any backend change (an operator's too) looks at the size. */
	blk_resize_check(bd, NULL, NULL);
	if (strcmp(node, "mode"))
		return;
	/* The mode is fixed once the backing is open, as in blkback. */
	if (bd->backing.fd >= 0 && xb_be_read_str(dev, "mode", &v) == 0 &&
	    (v[0] == 'r') != bd->readonly && !bd->cdrom)
		xb_dev_warn(dev, "mode changed to '%.8s' while open: ignored",
			    v);
	free(v);
}

static void blk_describe(struct xb_device *dev, struct xb_desc *out)
{
	struct blk_dev *bd = dev->priv;
	struct blk_counters *c;

	if (!bd)
		return;
	c = &bd->ctr;
	if (bd->backing.fd >= 0)
		xb_desc_backing(out, "%s", bd->backing.path);
	xb_desc_info(out, "mode", "%s", bd->readonly ? "r" : "w");
	if (bd->cdrom)
		xb_desc_info(out, "type", "cdrom");
	xb_desc_info(out, "sectors", "%" PRIu64,
		     (uint64_t)atomic_load(&bd->sectors));
	/* Chosen at connect (the settings then in force); kept after a
	 * disconnect, for the operator. */
	if (bd->data_why[0]) {
		xb_desc_info(out, "data", "%s",
			     bd->data_map ? "grant-map" : "grant-copy");
		xb_desc_info(out, "data-why", "%s", bd->data_why);
		xb_desc_info(out, "poll-us", "%u", bd->poll_us);
	}
	if (bd->data_map && bd->large_why[0]) {
		char why[LARGE_WHY_MAX];
		bool copy = large_reads_state(bd, why, sizeof(why));

		xb_desc_info(out, "large-reads", "%s",
			     copy ? "grant-copy" : "grant-map");
		xb_desc_info(out, "large-reads-why", "%s", why);
	}
	if (bd->closing)
		xb_desc_info(out, "closing", "%" PRIu64 " requests in flight",
			     (uint64_t)atomic_load(&c->inflight));
	if (bd->connected) {
		xb_desc_info(out, "queues", "%u", bd->nr_queues);
		xb_desc_info(out, "ring-page-order", "%u", bd->ring_order);
		xb_desc_info(out, "protocol", "%s",
			     ring_blkif_abi_name(bd->abi));
		if (bd->persistent)
			xb_desc_feature(out, "persistent");
		xb_desc_feature(out, "indirect");
		if (!bd->readonly && !atomic_load(&bd->flush_refused)) {
			xb_desc_feature(out, "flush");
			xb_desc_feature(out, "barrier");
		}
		if (bd->backing.discard && !bd->readonly)
			xb_desc_feature(out, "discard");
		if (bd->backing.discard_secure && !bd->readonly)
			xb_desc_feature(out, "discard-secure");
	}
#define CTR(name) xb_desc_counter(out, #name, atomic_load(&c->name))
	CTR(rd_req);
	CTR(wr_req);
	CTR(flush_req);
	CTR(barrier_req);
	CTR(discard_req);
	CTR(indirect_req);
	CTR(rd_sect);
	CTR(wr_sect);
	CTR(discard_sect);
	CTR(err_req);
	CTR(unsupported);
	CTR(io_errors);
	CTR(inflight);
	if (bd->data_map) {
		CTR(map_segs);
		CTR(map_iovs);
		CTR(map_rev_segs);
		CTR(map_hits);
		CTR(map_misses);
		CTR(map_evictions);
		CTR(map_own);
		CTR(map_peak);
		CTR(map_twins);
		CTR(map_twin_segs);
		CTR(copy_reads);
	}
#undef CTR
}

/*
 * Start-up: the crash journals of devices that went while no daemon ran
 * (backend/journal.h) are removed; those of devices still there wait for
 * their adoption.
 */
static void blk_start(struct xbs *xs, const char *backend_dir)
{
	xb_journal_sweep(xs, "vbd", backend_dir);
}

/* xenbackd.conf's vbd-* keys (docs/blk.md); read at each connect. */
static const struct xb_setting blk_settings[] = {
	{ .name = "data", .def = "auto", .env = "XENBACKD_BLK_DATA",
	  .expect = "auto, copy or map", .valid = blk_data_valid },
	{ .name = "poll-us", .def = BLK_POLL_DEFAULT,
	  .env = "XENBACKD_BLK_POLL_US",
	  .expect = "a number of microseconds from 0 to 1000",
	  .valid = blk_poll_us_valid },
	{ .name = NULL },
};

const struct xb_kind blk_kind = {
	.type = "vbd",
	.settings = blk_settings,
	.probe = blk_probe,
	.hotplug_done = blk_hotplug_done,
	.connect = blk_connect,
	.disconnect = blk_disconnect,
	.disconnect_begin = blk_disconnect_begin,
	.remove = blk_remove,
	.backend_changed = blk_backend_changed,
	.describe = blk_describe,
	.kicked = blk_kicked,
	.resize = blk_resize,
	.start = blk_start,
};
