/*
 * internal.h - what the files of backend/ share and nothing else sees:
 * the private part of a device and the registry.
 */
#ifndef XB_BACKEND_INTERNAL_H
#define XB_BACKEND_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "backend/backend.h"
#include "backend/device.h"
#include "backend/log.h"
#include "backend/loop.h"

/* xenctrl.h must come before other Xen headers; only registry.c needs it. */
typedef struct xc_interface_core xc_interface;

#define XB_MAX_KINDS 8
#define XB_DEV_BUCKETS 64
#define XB_FAIL_MSG_MAX 200

struct xb_dev_impl {
	struct xb_device d;		/* what the kind sees */
	struct xb_backend *be;
	struct xb_dev_impl *hnext;	/* hash chain */
	unsigned int gen;		/* last scan that saw the directory */
	enum xenbus_state fe_prev;	/* frontend state before the last */

	bool paths_ok;		/* frontend path validated */
	bool fe_watched;
	bool probed;		/* probe() succeeded: remove() is owed */
	bool connected;		/* connect() succeeded */
	bool online;		/* backend "online" (absent: 1) */
	bool ts_closing;	/* the toolstack wrote backend state Closing */
	bool fe_dead;		/* the frontend domain is gone */
	bool failed;
	bool fail_handled;	/* disconnected and Closed after failing */
	bool gone;		/* being freed */
	bool error_written;	/* our "error" node exists */
	bool in_callback;	/* inside a kind callback */
	bool adopting;		/* found in use, not yet connected again */
	bool fe_pending;	/* frontend state to read after the events */

	/* Through backend/rings.h, for xenbackctl (atomics). */
	unsigned int ring_pages;
	unsigned int channels;

	char fe_token[XBS_PATH_MAX];
	/* "=value" (or "" if absent) when path validation failed. */
	char bad_fe_id[40];
	char bad_fe[XBS_PATH_MAX + 1];
	struct xb_ratelimit rl;

	/* Set by xb_device_fail_async() from a worker thread. */
	pthread_mutex_t async_lock;
	bool async_pending;
	int async_err;
	char async_msg[XB_FAIL_MSG_MAX];
	bool kick_pending;	/* xb_device_kick_async() */
	bool ended_pending;	/* a worker ended (xb_worker_notify_end) */

	/*
	 * A close waiting for I/O in flight (the kind's disconnect_begin()
	 * said not yet): step() does nothing until the last worker ends and
	 * the main thread finishes it (xb_dev_run_async_closed()).
	 */
	bool closing;
	bool free_owed;		/* gone while closing: freed once closed */
	bool closing_warned;	/* the close's "waiting" line logged */
	uint64_t closing_since_ms;
};

#define dev_impl(dev) ((struct xb_dev_impl *)(dev))

struct xb_served {
	const struct xb_kind *kind;
	bool enabled;
	char path[XBS_PATH_MAX];	/* <self>/backend/<type> */
	char token[32];
};

/* A directory under backend/<type> that does not name a device. */
struct xb_bad_dir {
	struct xb_bad_dir *next;
	unsigned int gen;
	char path[XBS_PATH_MAX];
};

struct xb_backend {
	struct xb_loop *loop;
	struct xbs *xs;
	xc_interface *xc;		/* NULL: domain death from xenstore only */
	struct xb_served served[XB_MAX_KINDS];
	unsigned int nr_served;
	struct xb_dev_impl *buckets[XB_DEV_BUCKETS];
	struct xb_bad_dir *bad_dirs;
	unsigned int gen;
	int async_fd;			/* eventfd: a worker failed a device */
	bool watching_release;
	bool fe_pending;		/* some device's fe_pending is set */
	bool stopping;
	bool fatal;			/* xenstore is gone */
	/* A device freed late (it went while closing): its kind's
	 * directory is scanned again, for one made meanwhile. */
	bool rescan_owed[XB_MAX_KINDS];
};

/* lifecycle.c */
struct xb_dev_impl *xb_dev_create(struct xb_backend *be,
				  const struct xb_kind *kind,
				  unsigned int domid, unsigned int devid);
void xb_dev_backend_changed(struct xb_dev_impl *di, const char *node);
void xb_dev_frontend_changed(struct xb_dev_impl *di);
void xb_dev_domain_dead(struct xb_dev_impl *di);
/* write_closed: the directory still exists (shutdown), not on removal. */
/*
 * True when freed; false when its close waits for I/O in flight: it is
 * then freed once that is done (xb_dev_run_async_closed()).
 */
bool xb_dev_destroy(struct xb_dev_impl *di, bool write_closed);
void xb_dev_run_async_failure(struct xb_dev_impl *di);
/* Forgets a failure a worker of the connection just stopped reported. */
void xb_dev_drop_async_failure(struct xb_dev_impl *di);
/* From a worker thread (worker.c): it drained and ends. */
void xb_device_worker_ended_async(struct xb_device *dev);
/*
 * Main thread: carries on a close that waited for a worker to end; true
 * when the device was freed meanwhile (it had gone).
 */
bool xb_dev_run_async_closed(struct xb_dev_impl *di);
/* Every few seconds: logs once a close that has been waiting long. */
void xb_dev_close_tick(struct xb_dev_impl *di);
/* Calls the kind's kicked() if a worker asked (lifecycle.c). */
void xb_dev_run_async_kick(struct xb_dev_impl *di);
/* After a failure: disconnect and switch to Closed. */
void xb_dev_finish_failure(struct xb_dev_impl *di);

/* registry.c */
struct xb_dev_impl *xb_dev_find(struct xb_backend *be, const char *type,
				unsigned int domid, unsigned int devid);
void xb_dev_hash_add(struct xb_backend *be, struct xb_dev_impl *di);
void xb_dev_hash_del(struct xb_backend *be, struct xb_dev_impl *di);
#define xb_for_each_dev(be, i, di)                                           \
	for (i = 0; i < XB_DEV_BUCKETS; i++)                                 \
		for (di = (be)->buckets[i]; di; di = di->hnext)

/* kept.c: the settings a connected device keeps across daemons */
struct xb_config;
/* After each connect: record the kind's settings xb_setting_get() gives. */
void xb_kept_save(struct xb_device *dev);
/* The device disconnected (or closed by a stop): no record is owed. */
void xb_kept_forget(struct xb_device *dev);
/*
 * Before adopting the device: its record, read into kept, is what
 * xb_setting_get() answers from first (true) until xb_config_keep(NULL);
 * false when there is none (one line, unless quiet). One line when what
 * it keeps differs from the settings in force (unless quiet).
 */
bool xb_kept_adopt(struct xb_device *dev, struct xb_config *kept, bool quiet);
/* At start (in start()'s window): the records of devices gone. */
void xb_kept_sweep(struct xbs *xs, const struct xb_kind *kind,
		   const char *backend_dir);

/* describe.c */
struct xb_desc *xb_desc_new(void);
void xb_desc_free(struct xb_desc *d);
void xb_desc_render(struct xb_dev_impl *di, struct xb_desc *d, FILE *out,
		    bool json, bool first);
void xb_desc_table_header(FILE *out);

#endif
