/*
 * lifecycle.c - one device's xenbus state machine.
 *
 * The backend state (B) follows the frontend's (F) and the toolstack's
 * "online" node; every event (a backend node, the frontend's state, the
 * frontend domain dying) re-runs step(), which moves by the shortest path
 * and is idempotent, so skipped or repeated states do no harm:
 *
 *   (directory complete)            probe()
 *   Initialising ------------------------------------------> InitWait
 *   InitWait    --F Initialised/Connected, hotplug done,
 *                 connect()------------------------------> Connected
 *   any         --F Closing----------- disconnect() ------> Closing
 *   any         --F Closed------------ disconnect() ------> Closed
 *   Closed/Closing --F Initialising/InitWait (restart) ----> InitWait
 *   Connected   --F Initialising/InitWait (kexec)
 *                 disconnect() ----------------------------> InitWait
 *   online=0 (hot-unplug): F connected: Closing, wait for F to close;
 *                 otherwise disconnect(), remove() -------> Closed
 *   frontend domain dead: disconnect(), remove() ---------> Closed
 *   failure: error node, disconnect() --------------------> Closed,
 *                 again from F Initialising
 *   directory removed: disconnect(), remove(), freed (no more writes)
 *
 * disconnect() above is the kind's disconnect_begin() when it has one: a
 * close whose I/O is still in flight leaves the device "closing" (Closing
 * written, step() does nothing for it) until the last worker ends; the
 * main thread then finishes it and carries on from where things are then
 * (close_done()). A directory removed meanwhile frees the device then.
 *
 * A frontend that is already Closed when the backend reaches InitWait is
 * idle, not closing (it went Closed when an earlier daemon stopped):
 * Linux frontends reconnect from Closed when they see InitWait, so the
 * backend waits there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/config.h"
#include "backend/internal.h"

/* ---- calling the kind -------------------------------------------------- */

static void after_callback(struct xb_dev_impl *di)
{
	di->in_callback = false;
	if (di->failed && !di->fail_handled)
		xb_dev_finish_failure(di);
}

static int call_probe(struct xb_dev_impl *di)
{
	int rc;

	di->in_callback = true;
	rc = di->d.kind->probe(&di->d);
	di->in_callback = false;
	return rc;
}

static bool call_hotplug_done(struct xb_dev_impl *di)
{
	bool done;

	if (!di->d.kind->hotplug_done)
		return true;
	di->in_callback = true;
	done = di->d.kind->hotplug_done(&di->d);
	after_callback(di);
	return done && !di->failed;
}

/* How many requests the kind's close still waits for (0: done). */
static unsigned int call_disconnect_begin(struct xb_dev_impl *di)
{
	unsigned int left;

	di->in_callback = true;
	left = di->d.kind->disconnect_begin(&di->d);
	di->in_callback = false;
	return left;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A close that waited this long says so once it is done. */
#define CLOSE_SLOW_MS 1000
/* A close waiting this long says so at once (xb_dev_close_tick()). */
#define CLOSE_WARN_MS 5000

/* The kind's disconnect(): its workers have ended, or it waits for them. */
static void finish_disconnect(struct xb_dev_impl *di)
{
	uint64_t waited = di->closing ? mono_ms() - di->closing_since_ms : 0;

	di->in_callback = true;
	if (di->d.kind->disconnect)
		di->d.kind->disconnect(&di->d);
	if (di->closing && waited >= CLOSE_SLOW_MS)
		xb_dev_info(&di->d, "closed after %.1f s: waited for the I/O in flight",
			    (double)waited / 1000);
	di->closing = false;
	/*
	 * Its workers are stopped: a failure one of them reported and the
	 * main thread has not carried out yet belongs to the connection just
	 * gone, and must not fail the next one (a frontend restarting while
	 * its old ring is being given up).
	 */
	xb_dev_drop_async_failure(di);
	di->connected = false;
	/* A handover leaves it for the successor; xb_dev_destroy() decides. */
	if (!di->d.daemon_stopping)
		xb_kept_forget(&di->d);
	after_callback(di);
}

/*
 * True once the device is disconnected; false while its close waits for
 * the I/O in flight (di->closing: Closing in xenstore, nothing else
 * happens to the device until xb_dev_run_async_closed() carries on). A
 * daemon stopping waits here instead, bounded by the I/O in flight.
 */
static bool do_disconnect(struct xb_dev_impl *di)
{
	if (!di->probed)
		return true;
	if (di->closing && !di->be->stopping)
		return false;
	if (!di->closing && di->d.kind->disconnect_begin && !di->be->stopping) {
		if (call_disconnect_begin(di)) {
			di->closing = true;
			di->closing_warned = false;
			di->closing_since_ms = mono_ms();
			return false;
		}
	}
	if (di->closing)
		xb_dev_info(&di->d, "daemon stopping: waiting for the I/O in flight of its close");
	finish_disconnect(di);
	return true;
}

/* True once remove() ran; false while the close waits (do_disconnect()). */
static bool do_remove(struct xb_dev_impl *di)
{
	if (!di->probed)
		return true;
	if (!do_disconnect(di))
		return false;
	di->probed = false;
	di->in_callback = true;
	if (di->d.kind->remove)
		di->d.kind->remove(&di->d);
	di->in_callback = false;
	return true;
}

/* ---- state ------------------------------------------------------------ */

static void switch_state(struct xb_dev_impl *di, enum xenbus_state s)
{
	struct xb_device *dev = &di->d;
	int rc;

	if (dev->state == s)
		return;
	di->adopting = false;
	rc = xbs_switch_state(dev->xs, dev->backend_path, s);
	if (rc == -ENOENT)
		return; /* the directory is going; the rescan will tell */
	if (rc) {
		xb_dev_err(dev, "cannot switch to %s: %s", xbs_state_name(s),
			   strerror(-rc));
		return;
	}
	xb_dev_debug(dev, "%s -> %s (frontend %s)",
		     xbs_state_name(dev->state), xbs_state_name(s),
		     xbs_state_name(dev->frontend_state));
	if (s == XenbusStateInitWait || s == XenbusStateConnected ||
	    s == XenbusStateClosed)
		xb_dev_info(dev, "%s", xbs_state_name(s));
	dev->state = s;
}

/* Closing while a close waits for its I/O in flight, Closed once done. */
static void switch_closed_when_done(struct xb_dev_impl *di, bool done)
{
	if (done)
		switch_state(di, XenbusStateClosed);
	else if (di->d.state != XenbusStateClosed)
		switch_state(di, XenbusStateClosing);
}

void xb_dev_finish_failure(struct xb_dev_impl *di)
{
	di->fail_handled = true;
	switch_closed_when_done(di, do_disconnect(di));
}

static void clear_failure(struct xb_dev_impl *di)
{
	di->failed = false;
	di->fail_handled = false;
	if (di->error_written &&
	    !xbs_write_if_present(di->d.xs, di->d.backend_path, "error", NULL))
		di->error_written = false;
}

/* adopt: the device is Connected and stays so (adopt_connect()). */
static bool do_probe(struct xb_dev_impl *di, bool adopt)
{
	struct xb_device *dev = &di->d;
	int rc;

	if (!dev->gnttab) {
		dev->gnttab = xengnttab_open(NULL, 0);
		if (!dev->gnttab) {
			xb_device_fail(dev, -errno,
				       "cannot open the grant table device: %s",
				       strerror(errno));
			return false;
		}
	}
	rc = call_probe(di);
	if (rc == -EAGAIN)
		return false;
	if (rc) {
		/* The kind normally said why; this is the fallback line. */
		xb_device_fail(dev, rc, "probe failed: %s", strerror(-rc));
		if (!di->fail_handled)
			xb_dev_finish_failure(di);
		return false;
	}
	di->probed = true;
	if (di->failed) { /* failed inside probe() yet returned 0 */
		xb_dev_finish_failure(di);
		return false;
	}
	if (!adopt)
		switch_state(di, XenbusStateInitWait);
	return true;
}

static void try_connect(struct xb_dev_impl *di)
{
	struct xb_device *dev = &di->d;
	int rc;

	if (!call_hotplug_done(di))
		return;
	di->in_callback = true;
	rc = dev->kind->connect(dev);
	di->in_callback = false;
	if (rc == -EAGAIN && !di->failed)
		return;
	if (rc || di->failed) {
		xb_device_fail(dev, rc ? rc : -EIO, "connect failed: %s",
			       strerror(rc ? -rc : EIO));
		if (!di->fail_handled)
			xb_dev_finish_failure(di);
		return;
	}
	di->connected = true;
	xb_kept_save(dev);
	switch_state(di, XenbusStateConnected);
}

/*
 * A device found Connected with its frontend Initialised or Connected:
 * an earlier daemon served it and stopped without closing it (it was
 * killed, or handed over, see xb_backend_handover()), and the frontend
 * kept its rings. The frontend state is read here at once (its watch
 * fires later) so that the device is never switched away from Connected
 * under a frontend in use.
 */
static bool frontend_in_use(struct xb_dev_impl *di)
{
	struct xb_device *dev = &di->d;
	enum xenbus_state f;

	if (dev->state != XenbusStateConnected)
		return false;
	if (xbs_read_state(dev->xs, XBT_NULL, dev->frontend_path, &f))
		return false;
	if (f != dev->frontend_state) {
		di->fe_prev = dev->frontend_state;
		dev->frontend_state = f;
	}
	return f == XenbusStateInitialised || f == XenbusStateConnected;
}

/* connect() with dev->resume: the rings carry on where they stopped. */
static void adopt_connect(struct xb_dev_impl *di)
{
	struct xb_device *dev = &di->d;
	struct xb_config kept;
	bool quiet = di->adopting, keep;

	if (!di->adopting)
		xb_dev_info(dev, "adopting the device in use (frontend %s)",
			    xbs_state_name(dev->frontend_state));
	di->adopting = true;
	dev->resume = true;
	/* It has not connected again: it keeps the settings it had. */
	keep = xb_kept_adopt(dev, &kept, quiet);
	try_connect(di);
	if (keep)
		xb_config_keep(NULL);
	dev->resume = false;
	if (di->connected || di->failed)
		di->adopting = false;
	if (di->connected)
		xb_dev_info(dev, "Connected (resumed)");
	/* Else: hotplug not done yet, tried again on the next change. */
}

/* Hot-unplug: the toolstack wrote online = 0 (and state Closing). */
static void unplug(struct xb_dev_impl *di)
{
	struct xb_device *dev = &di->d;
	enum xenbus_state f = dev->frontend_state;

	if (di->connected &&
	    (f == XenbusStateInitialised || f == XenbusStateConnected)) {
		/* Let the frontend finish its I/O and close first. */
		switch_state(di, XenbusStateClosing);
		return;
	}
	switch_closed_when_done(di, do_remove(di));
}

static bool frontend_idle(enum xenbus_state prev)
{
	return prev == XenbusStateClosed || prev == XenbusStateUnknown;
}

/*
 * A failed device is disconnected and Closed, but the toolstack detaching
 * it (online=0) writes Closing over that and waits for Closed (libxl: 10 s,
 * then the detach fails): answer with Closed again.
 */
static void failed_detach(struct xb_dev_impl *di)
{
	if (di->failed && di->fail_handled && !di->online && !di->gone &&
	    !di->fe_dead && !di->closing)
		switch_state(di, XenbusStateClosed);
}

static void step(struct xb_dev_impl *di)
{
	struct xb_device *dev = &di->d;
	enum xenbus_state f = dev->frontend_state;

	/* A close in progress: carried on when its I/O is done. */
	if (di->closing)
		return;
	failed_detach(di);
	if (di->failed || di->fe_dead || di->gone || di->be->stopping ||
	    !di->paths_ok)
		return;
	if (!di->online) {
		unplug(di);
		return;
	}
	if (!di->probed) {
		bool adopt = frontend_in_use(di);

		if (!do_probe(di, adopt))
			return;
		if (adopt) {
			adopt_connect(di);
			return;
		}
	}
	switch (f) {
	case XenbusStateUnknown:
		/* No frontend state node: not there yet, or removed. */
		if (dev->state == XenbusStateConnected)
			switch_closed_when_done(di, do_disconnect(di));
		break;
	case XenbusStateInitialising:
	case XenbusStateInitWait:
		/* InitWait only once the old connection is gone. */
		if (dev->state == XenbusStateConnected && !do_disconnect(di))
			break;
		switch_state(di, XenbusStateInitWait);
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (di->adopting && dev->state == XenbusStateConnected)
			adopt_connect(di);
		else if (dev->state == XenbusStateInitWait ||
			 dev->state == XenbusStateInitialising)
			try_connect(di);
		break;
	case XenbusStateClosing:
		do_disconnect(di);
		if (dev->state != XenbusStateClosed)
			switch_state(di, XenbusStateClosing);
		break;
	case XenbusStateClosed:
		if (dev->state == XenbusStateInitWait &&
		    frontend_idle(di->fe_prev))
			break;
		/* The frontend waits for Closed: not before its pages are
		 * out of I/O. */
		switch_closed_when_done(di, do_disconnect(di));
		break;
	default: /* Reconfiguring, Reconfigured: nothing to do */
		break;
	}
}

/* ---- reading the backend directory ---------------------------------- */

/*
 * What "frontend-id" and "frontend" held when validation failed: the
 * device is tried again only once the toolstack changes one of them.
 */
static void remember_bad_paths(struct xb_dev_impl *di)
{
	struct xb_device *dev = &di->d;
	char *v;

	if (xbs_read_str(dev->xs, XBT_NULL, dev->backend_path, "frontend-id",
			 &v) == 0) {
		snprintf(di->bad_fe_id, sizeof(di->bad_fe_id), "=%s", v);
		free(v);
	} else {
		di->bad_fe_id[0] = '\0';
	}
	if (xbs_read_str(dev->xs, XBT_NULL, dev->backend_path, "frontend",
			 &v) == 0) {
		snprintf(di->bad_fe, sizeof(di->bad_fe), "=%s", v);
		free(v);
	} else {
		di->bad_fe[0] = '\0';
	}
}

static bool bad_paths_changed(struct xb_dev_impl *di)
{
	char old_id[sizeof(di->bad_fe_id)], old_fe[sizeof(di->bad_fe)];

	memcpy(old_id, di->bad_fe_id, sizeof(old_id));
	memcpy(old_fe, di->bad_fe, sizeof(old_fe));
	remember_bad_paths(di);
	return strcmp(old_id, di->bad_fe_id) || strcmp(old_fe, di->bad_fe);
}

static void validate_paths(struct xb_dev_impl *di)
{
	struct xb_device *dev = &di->d;
	uint64_t fe_id;
	char *fe;
	int rc;

	rc = xbs_read_uint(dev->xs, XBT_NULL, dev->backend_path,
			   "frontend-id", XBS_DOMID_MAX, &fe_id);
	if (rc) {
		xb_device_fail(dev, rc, "backend node frontend-id %s",
			       xb_read_error(rc));
		return;
	}
	if (fe_id != dev->domid) {
		xb_device_fail(dev, -EINVAL,
			       "frontend-id %llu does not match the directory's domain %u",
			       (unsigned long long)fe_id, dev->domid);
		return;
	}
	rc = xbs_read_str(dev->xs, XBT_NULL, dev->backend_path, "frontend",
			  &fe);
	if (rc) {
		xb_device_fail(dev, rc, "backend node frontend %s",
			       rc == -EINVAL ? "is not a string"
					     : xb_read_error(rc));
		return;
	}
	if (!xbs_valid_frontend_path(fe, dev->domid)) {
		xb_device_fail(dev, -EINVAL,
			       "frontend path '%.80s' is not a directory under /local/domain/%u/",
			       fe, dev->domid);
		free(fe);
		return;
	}
	snprintf(dev->frontend_path, sizeof(dev->frontend_path), "%s", fe);
	free(fe);
	snprintf(di->fe_token, sizeof(di->fe_token), "f:%s", dev->name);
	di->paths_ok = true;
}

static void watch_frontend(struct xb_dev_impl *di)
{
	char path[XBS_PATH_MAX];
	int rc;

	if (di->fe_watched || !di->paths_ok)
		return;
	xbs_join(path, sizeof(path), di->d.frontend_path, "state");
	/* Fires once at once, which reads the frontend's current state. */
	rc = xbs_watch(di->d.xs, path, di->fe_token);
	if (rc) {
		xb_device_fail(&di->d, rc, "cannot watch %s: %s", path,
			       strerror(-rc));
		return;
	}
	di->fe_watched = true;
}

static void unwatch_frontend(struct xb_dev_impl *di)
{
	char path[XBS_PATH_MAX];

	if (!di->fe_watched)
		return;
	xbs_join(path, sizeof(path), di->d.frontend_path, "state");
	xbs_unwatch(di->d.xs, path, di->fe_token);
	di->fe_watched = false;
}

/* False while the directory is incomplete (no "state" node yet). */
static bool read_backend(struct xb_dev_impl *di, const char *node)
{
	struct xb_device *dev = &di->d;
	enum xenbus_state s;
	uint64_t online;
	int rc;

	rc = xbs_read_state(dev->xs, XBT_NULL, dev->backend_path, &s);
	if (rc == -ENOENT)
		return false;
	if (rc) {
		xb_device_fail(dev, rc, "backend node state %s",
			       xb_read_error(rc));
		return false;
	}
	/* A value we did not write: the toolstack's (or a stale one). */
	dev->state = s;

	rc = xbs_read_uint(dev->xs, XBT_NULL, dev->backend_path, "online", 1,
			   &online);
	if (rc == -ENOENT) {
		online = 1;
	} else if (rc) {
		xb_device_fail(dev, rc, "backend node online %s",
			       xb_read_error(rc));
		return false;
	}
	di->online = online;

	if (!di->paths_ok) {
		/* A failed device is retried when the toolstack fixes it. */
		if (di->failed && node &&
		    (!strcmp(node, "frontend") ||
		     !strcmp(node, "frontend-id")) &&
		    bad_paths_changed(di))
			clear_failure(di);
		if (di->failed)
			return false;
		validate_paths(di);
		if (!di->paths_ok) {
			remember_bad_paths(di);
			return false;
		}
		xb_dev_debug(dev, "frontend %s", dev->frontend_path);
	}
	watch_frontend(di);
	return true;
}

/* ---- events ------------------------------------------------------------ */

void xb_dev_backend_changed(struct xb_dev_impl *di, const char *node)
{
	struct xb_device *dev = &di->d;

	if (di->gone || di->fe_dead)
		return;
	if (!read_backend(di, node)) {
		failed_detach(di); /* a device failed for its paths, too */
		return;
	}
	if (node && di->probed && dev->kind->backend_changed) {
		di->in_callback = true;
		dev->kind->backend_changed(dev, node);
		after_callback(di);
	}
	step(di);
}

void xb_dev_run_async_kick(struct xb_dev_impl *di)
{
	struct xb_device *dev = &di->d;
	bool pending;

	pthread_mutex_lock(&di->async_lock);
	pending = di->kick_pending;
	di->kick_pending = false;
	pthread_mutex_unlock(&di->async_lock);
	if (!pending || di->gone || di->fe_dead || di->failed ||
	    !di->probed || !dev->kind->kicked)
		return;
	di->in_callback = true;
	dev->kind->kicked(dev);
	after_callback(di);
}

void xb_dev_frontend_changed(struct xb_dev_impl *di)
{
	struct xb_device *dev = &di->d;
	enum xenbus_state f;
	int rc;

	if (di->gone || di->fe_dead || !di->paths_ok)
		return;
	rc = xbs_read_state(dev->xs, XBT_NULL, dev->frontend_path, &f);
	if (rc == -EINVAL || rc == -ERANGE)
		xb_dev_log_ratelimited(dev, LOG_WARNING,
				       "frontend state is not a xenbus state");
	if (rc)
		f = XenbusStateUnknown;
	if (f == dev->frontend_state)
		return;
	di->fe_prev = dev->frontend_state;
	dev->frontend_state = f;
	xb_dev_debug(dev, "frontend %s -> %s", xbs_state_name(di->fe_prev),
		     xbs_state_name(f));
	/* Starting over, not just the first state we read. */
	if (di->failed && f == XenbusStateInitialising &&
	    di->fe_prev != XenbusStateUnknown) {
		xb_dev_info(dev, "frontend starts over: trying again");
		clear_failure(di);
	}
	step(di);
}

void xb_dev_domain_dead(struct xb_dev_impl *di)
{
	if (di->fe_dead || di->gone)
		return;
	xb_dev_info(&di->d, "frontend domain %u is gone", di->d.domid);
	di->fe_dead = true;
	unwatch_frontend(di);
	switch_closed_when_done(di, do_remove(di));
}

/* ---- creation and destruction ------------------------------------------- */

struct xb_dev_impl *xb_dev_create(struct xb_backend *be,
				  const struct xb_kind *kind,
				  unsigned int domid, unsigned int devid)
{
	struct xb_dev_impl *di = calloc(1, sizeof(*di));
	struct xb_device *dev;

	if (!di) {
		xb_err("out of memory for device %s/%u/%u", kind->type, domid,
		       devid);
		return NULL;
	}
	dev = &di->d;
	dev->kind = kind;
	dev->domid = domid;
	dev->devid = devid;
	dev->xs = be->xs;
	dev->state = XenbusStateUnknown;
	dev->frontend_state = XenbusStateUnknown;
	snprintf(dev->name, sizeof(dev->name), "%s/%u/%u", kind->type, domid,
		 devid);
	snprintf(dev->backend_path, sizeof(dev->backend_path),
		 "%s/backend/%s/%u/%u", be->xs->self_path, kind->type, domid,
		 devid);
	di->be = be;
	di->online = true;
	di->fe_prev = XenbusStateUnknown;
	xb_ratelimit_init(&di->rl);
	pthread_mutex_init(&di->async_lock, NULL);
	xb_dev_hash_add(be, di);
	xb_dev_debug(dev, "found");
	return di;
}

/* The end of xb_dev_destroy(), once remove() ran. */
static void free_device(struct xb_dev_impl *di)
{
	struct xb_device *dev = &di->d;

	if (dev->gnttab)
		xengnttab_close(dev->gnttab);
	dev->gnttab = NULL;
	xb_dev_hash_del(di->be, di);
	xb_dev_debug(dev, "removed");
	pthread_mutex_destroy(&di->async_lock);
	xb_ratelimit_destroy(&di->rl);
	free(di);
}

/*
 * A handover stop finished a close that was waiting for its I/O: the
 * state that close would have ended in, as the daemon that did not stop
 * would have written it (the successor finds the device as before).
 */
static void settle_stopped_close(struct xb_dev_impl *di)
{
	enum xenbus_state f = di->d.frontend_state;

	if (di->fe_dead || di->failed || !di->online ||
	    f == XenbusStateClosed || f == XenbusStateUnknown)
		switch_state(di, XenbusStateClosed);
	else if (f == XenbusStateInitialising || f == XenbusStateInitWait)
		switch_state(di, XenbusStateInitWait);
}

/* A rescan of the device's kind, owed once it is freed. */
static void owe_rescan(struct xb_dev_impl *di)
{
	struct xb_backend *be = di->be;

	for (unsigned int i = 0; i < be->nr_served; i++)
		if (be->served[i].kind == di->d.kind)
			be->rescan_owed[i] = true;
}

bool xb_dev_destroy(struct xb_dev_impl *di, bool write_closed)
{
	struct xb_device *dev = &di->d;
	bool was_closing = di->closing;

	if (di->free_owed) {
		if (!di->be->stopping)
			return false; /* going once its close is done */
		write_closed = false; /* its directory went */
	}
	unwatch_frontend(di);
	di->gone = true;
	if (!do_remove(di)) {
		/*
		 * Requests in flight still use the guest's pages and the
		 * rings: the device stays (in the table, so that a directory
		 * made again meanwhile waits for it) until its workers end.
		 */
		di->free_owed = true;
		return false;
	}
	if (write_closed) {
		switch_state(di, XenbusStateClosed);
		xb_kept_forget(dev);
	} else if (was_closing && !di->free_owed) {
		settle_stopped_close(di);
	}
	free_device(di);
	return true;
}

/* Once a close that waited is done: what the device was waiting for. */
static void close_done(struct xb_dev_impl *di)
{
	if (di->free_owed) {
		do_remove(di);
		free_device(di);
		return;
	}
	if (di->fe_dead) {
		switch_closed_when_done(di, do_remove(di));
		return;
	}
	if (di->failed) {
		if (di->fail_handled)
			switch_state(di, XenbusStateClosed);
		return;
	}
	step(di);
}

bool xb_dev_run_async_closed(struct xb_dev_impl *di)
{
	bool pending, freed;

	pthread_mutex_lock(&di->async_lock);
	pending = di->ended_pending;
	di->ended_pending = false;
	pthread_mutex_unlock(&di->async_lock);
	if (!pending || !di->closing)
		return false;
	if (call_disconnect_begin(di))
		return false; /* another worker still drains */
	finish_disconnect(di);
	freed = di->free_owed;
	if (freed)
		owe_rescan(di);
	close_done(di);
	return freed;
}

void xb_dev_close_tick(struct xb_dev_impl *di)
{
	uint64_t waited;
	unsigned int left;

	if (!di->closing || di->closing_warned)
		return;
	waited = mono_ms() - di->closing_since_ms;
	if (waited < CLOSE_WARN_MS)
		return;
	left = call_disconnect_begin(di);
	di->closing_warned = true;
	xb_dev_warn(&di->d, "closing for %llu s: waiting for %u request(s) in flight before it is Closed",
		    (unsigned long long)waited / 1000, left);
}
