/*
 * device.h - the contract between the daemon core (backend/) and a device
 * kind (blk/, net/).
 *
 * A kind is a `struct xb_kind` of callbacks. blk/ provides
 * `const struct xb_kind blk_kind` (type "vbd") and net/ provides
 * `const struct xb_kind net_kind` (type "vif"); daemon.c serves every kind
 * that is linked in. backend/ discovers devices under
 * <own domain>/backend/<type>/<frontend-domid>/<devid> and drives the
 * xenbus state machine; a kind only answers the callbacks below, all of
 * them on the main thread, never two at a time:
 *
 *   probe            the backend directory is complete (its "state",
 *                    "frontend" and "frontend-id" nodes exist and are
 *                    valid). Read toolstack nodes, open the backing or
 *                    create the TAP, write feature nodes. 0: the core
 *                    switches to InitWait. -EAGAIN: wait for more backend
 *                    nodes (called again on the next change). Other <0:
 *                    the device fails (see xb_device_fail()).
 *   hotplug_done     (optional, default true) asked before connecting and
 *                    after every backend node change: has the hotplug
 *                    script done its part ("physical-device" for vbd,
 *                    "hotplug-status" = "connected" for vif)?
 *   connect          the frontend is Initialised or Connected, hotplug is
 *                    done: read and validate frontend nodes, map rings,
 *                    bind channels, start workers. 0: the core switches to
 *                    Connected. <0: the device fails. -EAGAIN: stay in
 *                    InitWait and try again on the next frontend change.
 *                    The kind unwinds what it made before returning <0.
 *                    When dev->resume is set, the core adopts a device
 *                    whose frontend kept using it while no daemon ran (a
 *                    crash, or a handover stop of the previous daemon):
 *                    the frontend's nodes are those it connected with and
 *                    its rings are in use; attach every ring where it
 *                    stopped (xb_ring_start_index(), backend/rings.h),
 *                    never at index 0. The backend state stays Connected
 *                    throughout; a failure closes the device as usual.
 *   disconnect       frontend Closing/Closed, hot-unplug, frontend domain
 *                    dead, daemon stopping, or after a failure: stop the
 *                    workers (in-flight I/O finished or failed first, see
 *                    backend/worker.h), unmap rings, unbind channels.
 *                    Idempotent: called also when not connected.
 *   disconnect_begin (optional) the same close without waiting: tell the
 *                    workers to stop (xb_worker_stop_begin(); every
 *                    request in flight is still answered) and return
 *                    0 if none is left running (disconnect() then waits
 *                    for nothing), else how many operations are still
 *                    in flight (at least 1 while a worker runs; logged
 *                    when a close takes long). Then the device stays
 *                    Closing, its rings and
 *                    the guest's pages mapped, step by step nothing else
 *                    happens to it, and each worker made with
 *                    xb_worker_notify_end() makes the core call
 *                    disconnect_begin() again when it ends; once it
 *                    answers 0 the core calls disconnect() and the
 *                    lifecycle carries on (Closed, InitWait ...). Idempotent.
 *                    A daemon stopping calls disconnect() alone, which
 *                    waits. Without it, disconnect() is the whole close.
 *   remove           the device is gone: release what probe made. When
 *                    dev->daemon_stopping is set, the daemon is stopping
 *                    and the directory stays for its successor, which
 *                    will probe the device again while the toolstack's
 *                    hotplug state (bridge membership, hotplug-status)
 *                    is kept: a kind may leave such host-side state in
 *                    place (e.g. a persistent TAP) for it to adopt.
 *   backend_changed  (optional) a node of the backend directory changed
 *                    (node is relative to it, e.g. "hotplug-status"),
 *                    including nodes the daemon wrote itself.
 *   describe         (optional) for xenbackctl: backing, negotiated
 *                    features, counters (read with atomics, workers run).
 *   kicked           (optional) a worker asked with xb_device_kick_async()
 *                    for main-thread work (e.g. the backing was resized:
 *                    write the new size); called once per burst of kicks.
 *   start            (optional) once, when the daemon starts serving the
 *                    kind, before it picks up the devices that exist:
 *                    release host-side state an earlier daemon left for
 *                    devices that are gone meanwhile (e.g. persistent
 *                    TAPs, see xb_run_dir()). backend_dir is
 *                    <own domain>/backend/<type>.
 *   resize           (optional) the operator asked (`xenbackctl resize`):
 *                    look at the backing's size now and tell the frontend
 *                    of a change; print one line of result to out. 0, or
 *                    <0 with a line "error: <why>".
 *
 * settings (optional) are the kind's keys of xenbackd.conf (struct
 * xb_setting below): the core parses, checks and reloads them, the kind
 * reads them with xb_setting_get().
 *
 * Errors are negative errno values throughout.
 */
#ifndef XB_BACKEND_DEVICE_H
#define XB_BACKEND_DEVICE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <xen/io/xenbus.h>
#include <xengnttab.h>

#include "backend/log.h"
#include "xenstore/xbs.h"

struct xb_device;
struct xb_desc;

/*
 * A setting of a kind, in xenbackd.conf as "<type>-<name> = value" (e.g.
 * "vbd-data = copy"). Where its value comes from, the first that has one:
 * the command line (--set KEY=VALUE), the environment variable env (when
 * not NULL: what the unit's Environment= sets), the configuration file,
 * def. Every source is read again on SIGHUP. A value valid() refuses is
 * logged once, naming the key, the value and where it was given (file and
 * line, option or variable), and that source counts as unset: the daemon
 * carries on.
 */
struct xb_setting {
	const char *name;	/* "data": key "vbd-data"; NULL ends a list */
	const char *def;	/* the default, a value valid() accepts */
	const char *env;	/* an environment variable, or NULL */
	const char *expect;	/* for messages: "auto, copy or map" */
	bool (*valid)(const char *value);
};

struct xb_kind {
	const char *type; /* "vbd", "vif": the backend/<type> directory */
	int (*probe)(struct xb_device *dev);
	bool (*hotplug_done)(struct xb_device *dev);
	int (*connect)(struct xb_device *dev);
	void (*disconnect)(struct xb_device *dev);
	unsigned int (*disconnect_begin)(struct xb_device *dev);
	void (*remove)(struct xb_device *dev);
	void (*backend_changed)(struct xb_device *dev, const char *node);
	void (*describe)(struct xb_device *dev, struct xb_desc *out);
	void (*kicked)(struct xb_device *dev);
	void (*start)(struct xbs *xs, const char *backend_dir);
	int (*resize)(struct xb_device *dev, FILE *out);
	/* Keys of xenbackd.conf: NULL, or a table ended by name NULL. */
	const struct xb_setting *settings;
};

/*
 * The value of a kind's setting in the configuration now in force (the
 * last start or reload), always one valid() accepts, or def. *via, if not
 * NULL, is set to what gave it, for messages and xenbackctl: the key
 * ("vbd-data") for the command line, the file and the default, or the
 * environment variable's name. A change applies where the kind reads it
 * (blk: at each device's next connect). In a connect() adopting a device
 * (dev->resume) it answers what the device was connected with, kept by
 * the core across daemons (backend/kept.c). Main thread only.
 */
const char *xb_setting_get(const struct xb_kind *kind, const char *name,
			   const char **via);

/*
 * The daemon's runtime directory: the folder of its control socket
 * (/run/xenbackd by default, systemd's RuntimeDirectory, kept across
 * restarts). A kind keeps there, in a folder named after its type, what
 * must outlive one daemon process but not a reboot (records of the host
 * resources it left for its successor). Any thread.
 */
const char *xb_run_dir(void);
/*
 * Writes a record (a file of the runtime directory) whole: into
 * path + XB_RUN_TMP_SUFFIX, then renamed over path, so that a successor
 * after a crash finds the old record or the new one, never a part (at
 * worst a leftover path~ to remove). 0 or -errno.
 */
#define XB_RUN_TMP_SUFFIX "~"
int xb_run_write(const char *path, const char *text, size_t len);

/*
 * For start() only: whether the device <backend_dir>/<domid>/<devid> is
 * still there for this daemon to serve, judged as discovery judges it:
 * its backend state node exists, its frontend domain's directory exists,
 * and the hypervisor lists the domain, not dying (when the daemon can ask
 * it: without privcmd, xenstore alone). False means what a kind left for
 * the device may be released.
 */
bool xb_device_still_there(struct xbs *xs, const char *backend_dir,
			   unsigned int domid, unsigned int devid);

/* Provided by blk/ and net/; daemon.c serves those that are linked in. */
extern const struct xb_kind blk_kind;
extern const struct xb_kind net_kind;

/*
 * A device, as the core gives it to a kind. Every field but priv is set by
 * the core and read-only for the kind.
 */
struct xb_device {
	const struct xb_kind *kind;
	unsigned int domid;		/* frontend domain */
	unsigned int devid;
	char name[48];			/* "vbd/5/51712", for logs */
	char backend_path[XBS_PATH_MAX];
	/* Checked to lie under /local/domain/<domid>/ (guest-writable). */
	char frontend_path[XBS_PATH_MAX];
	enum xenbus_state state;	/* backend state as last written */
	enum xenbus_state frontend_state; /* as last read (guest-written) */
	/* One grant handle per device, open while the device exists. */
	xengnttab_handle *gnttab;
	struct xbs *xs;			/* main thread only */
	void *priv;			/* the kind's */
	/* Set while the daemon stops (SIGTERM): see remove() above. */
	bool daemon_stopping;
	/* Set during connect() when adopting a device in use: see connect()
	 * above and xb_ring_start_index(). */
	bool resume;
};

/* ---- typed reads of the frontend's and the backend's nodes ----------- */

/*
 * node is relative to the frontend (xb_fe_*) or backend (xb_be_*)
 * directory and may have several components ("queue-0/ring-ref").
 * Numbers are canonical unsigned decimals, at most max. Results:
 * 0, -ENOENT (absent), -EINVAL (malformed), -ERANGE (above max), or an
 * xenstore error. xb_read_error() names the first three for messages:
 *   xb_device_fail(dev, rc, "frontend node ring-ref %s", xb_read_error(rc));
 * Main thread only.
 */
int xb_fe_read_str(struct xb_device *dev, const char *node, char **out);
int xb_fe_read_uint(struct xb_device *dev, const char *node,
		    unsigned int max, unsigned int *out);
int xb_fe_read_u64(struct xb_device *dev, const char *node, uint64_t max,
		   uint64_t *out);
/* Absent gives def (and 0); malformed or too large is still an error. */
int xb_fe_read_uint_def(struct xb_device *dev, const char *node,
			unsigned int max, unsigned int def, unsigned int *out);
/* A feature flag: absent is false, "0" false, another number true. */
int xb_fe_read_flag(struct xb_device *dev, const char *node, bool *out);

int xb_be_read_str(struct xb_device *dev, const char *node, char **out);
int xb_be_read_uint(struct xb_device *dev, const char *node,
		    unsigned int max, unsigned int *out);
int xb_be_read_u64(struct xb_device *dev, const char *node, uint64_t max,
		   uint64_t *out);
int xb_be_read_uint_def(struct xb_device *dev, const char *node,
			unsigned int max, unsigned int def, unsigned int *out);
int xb_be_read_flag(struct xb_device *dev, const char *node, bool *out);

/* "is missing", "is not a canonical number", "is out of range", or
 * strerror(). */
const char *xb_read_error(int err);

/* Writes a node of the backend directory (features, sizes, ...). */
int xb_be_write(struct xb_device *dev, const char *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int xb_be_rm(struct xb_device *dev, const char *node);

/* ---- failure --------------------------------------------------------- */

/*
 * The device cannot go on: logs one line naming it, writes
 * "<-err> <message>" to its backend "error" node, disconnects it and
 * switches it to Closed. Only the first failure is logged and written;
 * later calls until the device recovers are no-ops. Nothing else is
 * affected. The device is tried again when its frontend starts over
 * (Initialising) or the toolstack recreates it. Main thread only.
 */
void xb_device_fail(struct xb_device *dev, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The same from any thread (a worker finding a rogue frontend): the
 * message is kept and the main thread fails the device soon after. The
 * worker carries on until disconnect() stops it, so it should stop
 * taking requests from that ring itself.
 */
void xb_device_fail_async(struct xb_device *dev, int err, const char *fmt,
			  ...) __attribute__((format(printf, 3, 4)));
/*
 * From any thread: the main thread soon calls the kind's kicked() for this
 * device (unless it failed or is going). Kicks before that call coalesce.
 */
void xb_device_kick_async(struct xb_device *dev);

/* ---- logging ---------------------------------------------------------- */

/* A line naming the device (journal fields XENBACKD_DOMID/DEVICE). */
void xb_dev_log(const struct xb_device *dev, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * For anything a guest can trigger at will (bad requests, malformed
 * packets): rate-limited per device. Any thread.
 */
void xb_dev_log_ratelimited(struct xb_device *dev, int prio, const char *fmt,
			    ...) __attribute__((format(printf, 3, 4)));

#define xb_dev_err(dev, ...) xb_dev_log(dev, LOG_ERR, __VA_ARGS__)
#define xb_dev_warn(dev, ...) xb_dev_log(dev, LOG_WARNING, __VA_ARGS__)
#define xb_dev_notice(dev, ...) xb_dev_log(dev, LOG_NOTICE, __VA_ARGS__)
#define xb_dev_info(dev, ...) xb_dev_log(dev, LOG_INFO, __VA_ARGS__)
#define xb_dev_debug(dev, ...) xb_dev_log(dev, LOG_DEBUG, __VA_ARGS__)

/* ---- describe() output (xenbackctl) ---------------------------------- */

/* What backs the device: a path, a TAP name ... */
void xb_desc_backing(struct xb_desc *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A feature negotiated with the frontend, e.g. "persistent". */
void xb_desc_feature(struct xb_desc *d, const char *name);
/* Other facts as key and value, e.g. "queues" "2". */
void xb_desc_info(struct xb_desc *d, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A counter, e.g. "rd_req" 123 (name: letters, digits, '_', '.'). */
void xb_desc_counter(struct xb_desc *d, const char *name, uint64_t value);

#endif
