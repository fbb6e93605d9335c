/*
 * registry.c - which devices exist: discovery under backend/<type> by
 * mark-and-sweep, dispatch of xenstore watch events to devices, frontend
 * domains' death, and the daemon-wide operations of backend.h.
 */
#include <xenctrl.h> /* first: it defines what other Xen headers need */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend/internal.h"

#define RELEASE_TOKEN "r"

/* ---- the device table ------------------------------------------------ */

static unsigned int bucket_of(const char *type, unsigned int domid,
			      unsigned int devid)
{
	unsigned int h = 2166136261u;

	for (; *type; type++)
		h = (h ^ (unsigned char)*type) * 16777619u;
	h = (h ^ domid) * 16777619u;
	h = (h ^ devid) * 16777619u;
	return h % XB_DEV_BUCKETS;
}

struct xb_dev_impl *xb_dev_find(struct xb_backend *be, const char *type,
				unsigned int domid, unsigned int devid)
{
	struct xb_dev_impl *di;

	for (di = be->buckets[bucket_of(type, domid, devid)]; di;
	     di = di->hnext)
		if (di->d.domid == domid && di->d.devid == devid &&
		    !strcmp(di->d.kind->type, type))
			return di;
	return NULL;
}

void xb_dev_hash_add(struct xb_backend *be, struct xb_dev_impl *di)
{
	unsigned int b = bucket_of(di->d.kind->type, di->d.domid, di->d.devid);

	di->hnext = be->buckets[b];
	be->buckets[b] = di;
}

void xb_dev_hash_del(struct xb_backend *be, struct xb_dev_impl *di)
{
	struct xb_dev_impl **pp;
	unsigned int b = bucket_of(di->d.kind->type, di->d.domid, di->d.devid);

	for (pp = &be->buckets[b]; *pp; pp = &(*pp)->hnext) {
		if (*pp == di) {
			*pp = di->hnext;
			return;
		}
	}
}

/* ---- frontend domains --------------------------------------------------- */

/* True unless the hypervisor says the domain is gone or dying (true too
 * when it cannot be asked). */
static bool hv_domain_alive(xc_interface *xc, unsigned int domid)
{
	xc_domaininfo_t info;
	int n;

	if (!xc)
		return true;
	n = xc_domain_getinfolist(xc, domid, 1, &info);
	if (n < 0) {
		xb_debug("cannot get information on domain %u: %s", domid,
			 strerror(errno));
		return true;
	}
	if (n == 0 || info.domain != domid)
		return false;
	return !(info.flags & XEN_DOMINF_dying);
}

static bool domain_alive(struct xb_backend *be, unsigned int domid)
{
	return hv_domain_alive(be->xc, domid);
}

/* The backend whose kind's start() runs (xb_device_still_there()). */
static struct xb_backend *starting;

bool xb_device_still_there(struct xbs *xs, const char *backend_dir,
			   unsigned int domid, unsigned int devid)
{
	char be[XBS_PATH_MAX], dom[32];

	snprintf(be, sizeof(be), "%s/%u/%u", backend_dir, domid, devid);
	snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
	return xbs_exists(xs, XBT_NULL, be, "state") &&
	       xbs_exists(xs, XBT_NULL, dom, NULL) &&
	       hv_domain_alive(starting ? starting->xc : NULL, domid);
}

static void check_domains(struct xb_backend *be)
{
	struct xb_dev_impl *di, *next;
	unsigned int i;

	for (i = 0; i < XB_DEV_BUCKETS; i++) {
		for (di = be->buckets[i]; di; di = next) {
			next = di->hnext;
			if (!di->fe_dead && !domain_alive(be, di->d.domid))
				xb_dev_domain_dead(di);
		}
	}
}

/* ---- discovery ---------------------------------------------------------- */

static bool bad_dir_seen(struct xb_backend *be, const char *path)
{
	struct xb_bad_dir *b;

	for (b = be->bad_dirs; b; b = b->next) {
		if (!strcmp(b->path, path)) {
			b->gen = be->gen;
			return true;
		}
	}
	b = calloc(1, sizeof(*b));
	if (b) {
		snprintf(b->path, sizeof(b->path), "%s", path);
		b->gen = be->gen;
		b->next = be->bad_dirs;
		be->bad_dirs = b;
	}
	return false;
}

static void bad_dir(struct xb_backend *be, const char *dir, const char *name,
		    const char *what)
{
	char path[XBS_PATH_MAX];

	if (xbs_join(path, sizeof(path), dir, name))
		return;
	if (!bad_dir_seen(be, path))
		xb_warn("%s: '%.40s' is not a %s: ignored", path, name, what);
}

static void sweep_bad_dirs(struct xb_backend *be, const char *prefix)
{
	struct xb_bad_dir **pp = &be->bad_dirs, *b;
	size_t len = strlen(prefix);

	while ((b = *pp)) {
		if (b->gen != be->gen && !strncmp(b->path, prefix, len)) {
			*pp = b->next;
			free(b);
		} else {
			pp = &b->next;
		}
	}
}

static void scan_domain(struct xb_backend *be, struct xb_served *sv,
			unsigned int domid, const char *dir)
{
	unsigned int n = 0;
	char **devids;
	int err;

	devids = xbs_list(be->xs, dir, &n, &err);
	if (!devids)
		return; /* removed meanwhile: the sweep handles it */
	for (unsigned int i = 0; i < n; i++) {
		struct xb_dev_impl *di;
		uint64_t devid;

		if (xbs_parse_uint(devids[i], UINT32_MAX, &devid)) {
			bad_dir(be, dir, devids[i], "device id");
			continue;
		}
		di = xb_dev_find(be, sv->kind->type, domid, devid);
		/* The device of a directory that went is still closing: a
		 * new one waits for it (scanned again when it is freed). */
		if (di && di->free_owed)
			continue;
		if (di && di->fe_dead && be->xc && domain_alive(be, domid)) {
			/* The domain id is in use again: a new frontend. */
			if (!xb_dev_destroy(di, false))
				continue;
			di = NULL;
		}
		if (di) {
			di->gen = be->gen;
			continue;
		}
		if (!sv->enabled)
			continue;
		if (be->xc && !domain_alive(be, domid)) {
			if (!bad_dir_seen(be, dir))
				xb_info("%s: domain %u is not running: ignored",
					dir, domid);
			continue;
		}
		di = xb_dev_create(be, sv->kind, domid, devid);
		if (!di)
			continue;
		di->gen = be->gen;
		xb_dev_backend_changed(di, NULL);
	}
	free(devids);
}

static void rescan(struct xb_backend *be, struct xb_served *sv)
{
	struct xb_dev_impl *di, *next;
	unsigned int n = 0, i;
	char **domids;
	int err;

	if (be->stopping)
		return;
	be->gen++;
	domids = xbs_list(be->xs, sv->path, &n, &err);
	if (!domids && err != -ENOENT)
		xb_warn("cannot list %s: %s", sv->path, strerror(-err));
	for (i = 0; domids && i < n; i++) {
		char dir[XBS_PATH_MAX];
		uint64_t domid;

		if (xbs_parse_uint(domids[i], XBS_DOMID_MAX, &domid)) {
			bad_dir(be, sv->path, domids[i], "domain id");
			continue;
		}
		if (xbs_join(dir, sizeof(dir), sv->path, domids[i]))
			continue;
		scan_domain(be, sv, domid, dir);
	}
	free(domids);
	if (!domids && err != -ENOENT)
		return; /* do not sweep on a failed listing */
	/* Sweep: a device whose directory is gone. */
	for (i = 0; i < XB_DEV_BUCKETS; i++) {
		for (di = be->buckets[i]; di; di = next) {
			next = di->hnext;
			if (di->d.kind == sv->kind && di->gen != be->gen &&
			    !di->free_owed)
				xb_dev_destroy(di, false);
		}
	}
	sweep_bad_dirs(be, sv->path);
}

/* ---- watch events ----------------------------------------------------- */

/*
 * path lies under sv->path: "", "/<domid>", "/<domid>/<devid>" change the
 * set of devices (rescan); "/<domid>/<devid>/<node>" is a device's node.
 */
static void backend_event(struct xb_backend *be, struct xb_served *sv,
			  const char *path)
{
	unsigned int domid, devid;
	struct xb_dev_impl *di;
	const char *node;

	if (!xbs_split_device_path(path + strlen(sv->path), &domid, &devid,
				   &node)) {
		di = xb_dev_find(be, sv->kind->type, domid, devid);
		/* A dead frontend's device changes: its domain id may be
		 * in use again, which the rescan finds out. */
		if (di && !di->fe_dead) {
			xb_dev_backend_changed(di, node);
			return;
		}
	}
	rescan(be, sv);
}

static struct xb_dev_impl *find_by_name(struct xb_backend *be,
					const char *name)
{
	struct xb_dev_impl *di;
	unsigned int i;

	/* Tokens are "f:<type>/<domid>/<devid>", as the device's name. */
	for (i = 0; i < be->nr_served; i++) {
		const char *type = be->served[i].kind->type;
		size_t tl = strlen(type);
		unsigned int domid, devid;
		char tail;

		if (strncmp(name, type, tl) || name[tl] != '/')
			continue;
		if (sscanf(name + tl, "/%u/%u%c", &domid, &devid, &tail) != 2)
			return NULL;
		di = xb_dev_find(be, type, domid, devid);
		return di;
	}
	return NULL;
}

/*
 * The frontend's state changed: read once every queued event is taken.
 * The guest owns its state node and may write nodes below it, each an
 * event of our watch that libxenstore queues in this process until taken
 * (XSA-349): those are dropped at once, and a device's state is read
 * once however many events named it, so that taking events stays far
 * cheaper than a guest's writes making them.
 */
static void frontend_event(struct xb_backend *be, const char *path,
			   const char *name)
{
	struct xb_dev_impl *di = find_by_name(be, name);
	size_t len;

	if (!di || !di->paths_ok)
		return;
	len = strlen(di->d.frontend_path);
	if (!strncmp(path, di->d.frontend_path, len) &&
	    !strncmp(path + len, "/state/", 7))
		return;
	di->fe_pending = true;
	be->fe_pending = true;
}

static void run_frontend_events(struct xb_backend *be)
{
	struct xb_dev_impl *di;
	unsigned int i;

	if (!be->fe_pending)
		return;
	be->fe_pending = false;
	xb_for_each_dev(be, i, di)
	{
		if (!di->fe_pending)
			continue;
		di->fe_pending = false;
		xb_dev_frontend_changed(di);
	}
}

static void handle_event(struct xb_backend *be, const char *path,
			 const char *token)
{
	if (!strcmp(token, RELEASE_TOKEN)) {
		check_domains(be);
		return;
	}
	if (!strncmp(token, "f:", 2)) {
		frontend_event(be, path, token + 2);
		return;
	}
	for (unsigned int i = 0; i < be->nr_served; i++) {
		struct xb_served *sv = &be->served[i];

		if (strcmp(token, sv->token))
			continue;
		if (strncmp(path, sv->path, strlen(sv->path)))
			return;
		backend_event(be, sv, path);
		return;
	}
}

static void on_xenstore(void *arg, uint32_t events)
{
	struct xb_backend *be = arg;
	char **v;

	while ((v = xbs_next_event(be->xs))) {
		handle_event(be, v[XS_WATCH_PATH], v[XS_WATCH_TOKEN]);
		free(v);
	}
	run_frontend_events(be);
	if (events & (EPOLLHUP | EPOLLERR)) {
		/* No more events will come: let systemd restart us. */
		xb_err("lost the connection to xenstore");
		xb_loop_del(be->loop, xbs_fd(be->xs));
		be->fatal = true;
	}
}

static void on_async_failure(void *arg, uint32_t events)
{
	struct xb_backend *be = arg;
	struct xb_dev_impl *di, *next;
	unsigned int i;
	uint64_t v;

	(void)events;
	if (read(be->async_fd, &v, sizeof(v)) < 0)
		return;
	for (i = 0; i < XB_DEV_BUCKETS; i++) {
		for (di = be->buckets[i]; di; di = next) {
			next = di->hnext;
			/* First: a failure a draining worker reported belongs
			 * to the connection that is closing (dropped). */
			if (xb_dev_run_async_closed(di))
				continue; /* freed */
			if (!di->closing)
				xb_dev_run_async_failure(di);
			xb_dev_run_async_kick(di);
		}
	}
	for (i = 0; i < be->nr_served; i++) {
		if (!be->rescan_owed[i])
			continue;
		be->rescan_owed[i] = false;
		rescan(be, &be->served[i]);
	}
}

/* ---- backend.h ---------------------------------------------------------- */

struct xb_backend *xb_backend_new(struct xb_loop *loop, struct xbs *xs)
{
	struct xb_backend *be = calloc(1, sizeof(*be));
	int rc;

	if (!be)
		return NULL;
	be->loop = loop;
	be->xs = xs;
	be->async_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (be->async_fd < 0)
		goto fail;
	rc = xb_loop_add(loop, be->async_fd, EPOLLIN, on_async_failure, be);
	if (!rc)
		rc = xb_loop_add(loop, xbs_fd(xs), EPOLLIN, on_xenstore, be);
	if (rc) {
		errno = -rc;
		goto fail;
	}
	/* Without privcmd (e.g. a restricted driver domain) domain death is
	 * still seen through the frontend's directory going away. */
	be->xc = xc_interface_open(NULL, NULL, 0);
	if (!be->xc)
		xb_warn("cannot open the hypervisor interface (%s): frontend domains' death seen through xenstore only",
			strerror(errno));
	return be;
fail:
	xb_err("cannot set up the device registry: %s", strerror(errno));
	if (be->async_fd >= 0) {
		xb_loop_del(loop, be->async_fd);
		close(be->async_fd);
	}
	free(be);
	return NULL;
}

int xb_backend_serve(struct xb_backend *be, const struct xb_kind *kind)
{
	struct xb_served *sv;
	int rc;

	for (unsigned int i = 0; i < be->nr_served; i++) {
		if (be->served[i].kind == kind) {
			be->served[i].enabled = true;
			return 0;
		}
	}
	if (be->nr_served == XB_MAX_KINDS)
		return -ENOSPC;
	sv = &be->served[be->nr_served];
	*sv = (struct xb_served){ .kind = kind, .enabled = true };
	snprintf(sv->path, sizeof(sv->path), "%s/backend/%s",
		 be->xs->self_path, kind->type);
	snprintf(sv->token, sizeof(sv->token), "b:%s", kind->type);
	if (!be->watching_release) {
		rc = xbs_watch(be->xs, "@releaseDomain", RELEASE_TOKEN);
		if (rc) {
			xb_err("cannot watch @releaseDomain: %s", strerror(-rc));
			return rc;
		}
		be->watching_release = true;
	}
	rc = xbs_watch(be->xs, sv->path, sv->token);
	if (rc) {
		xb_err("cannot watch %s: %s", sv->path, strerror(-rc));
		return rc;
	}
	be->nr_served++;
	xb_info("serving %s devices under %s", kind->type, sv->path);
	starting = be;
	xb_kept_sweep(be->xs, kind, sv->path);
	if (kind->start)
		kind->start(be->xs, sv->path);
	starting = NULL;
	rescan(be, sv);
	return 0;
}

void xb_backend_set_enabled(struct xb_backend *be, const struct xb_kind *kind,
			    bool enabled)
{
	for (unsigned int i = 0; i < be->nr_served; i++)
		if (be->served[i].kind == kind)
			be->served[i].enabled = enabled;
}

bool xb_backend_serves(struct xb_backend *be, const char *type)
{
	for (unsigned int i = 0; i < be->nr_served; i++)
		if (!strcmp(be->served[i].kind->type, type))
			return be->served[i].enabled;
	return false;
}

unsigned int xb_backend_count(struct xb_backend *be, unsigned int *connected)
{
	struct xb_dev_impl *di;
	unsigned int i, n = 0, c = 0;

	xb_for_each_dev(be, i, di)
	{
		n++;
		if (di->d.state == XenbusStateConnected)
			c++;
	}
	if (connected)
		*connected = c;
	return n;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct xb_device *x = *(struct xb_device *const *)a;
	const struct xb_device *y = *(struct xb_device *const *)b;
	int c = strcmp(x->kind->type, y->kind->type);

	if (x->domid != y->domid)
		return x->domid < y->domid ? -1 : 1;
	if (c)
		return c;
	return x->devid < y->devid ? -1 : x->devid > y->devid;
}

void xb_backend_report(struct xb_backend *be, FILE *out, bool json)
{
	unsigned int n = xb_backend_count(be, NULL), i, k = 0;
	struct xb_dev_impl *di, **all;

	all = calloc(n ? n : 1, sizeof(*all));
	if (!all) {
		fprintf(out, json ? "[]\n" : "out of memory\n");
		return;
	}
	xb_for_each_dev(be, i, di)
	{
		all[k++] = di;
	}
	qsort(all, n, sizeof(*all), cmp_dev);
	if (json)
		fputs("[", out);
	else
		xb_desc_table_header(out);
	for (i = 0; i < n; i++) {
		struct xb_desc *d = xb_desc_new();

		if (!d)
			break;
		di = all[i];
		if (di->probed && di->d.kind->describe)
			di->d.kind->describe(&di->d, d);
		xb_desc_render(di, d, out, json, i == 0);
		xb_desc_free(d);
	}
	if (json)
		fputs("]\n", out);
	free(all);
}

int xb_backend_resize(struct xb_backend *be, unsigned int domid,
		      unsigned int devid, FILE *out)
{
	struct xb_dev_impl *di;
	unsigned int i;

	for (i = 0; i < be->nr_served; i++) {
		const struct xb_kind *k = be->served[i].kind;

		if (!k->resize)
			continue;
		di = xb_dev_find(be, k->type, domid, devid);
		if (di && di->probed)
			return k->resize(&di->d, out);
	}
	fprintf(out, "error: no resizable device %u/%u\n", domid, devid);
	return -ENOENT;
}

void xb_backend_tick(struct xb_backend *be)
{
	struct xb_dev_impl *di;
	unsigned int i;

	xb_for_each_dev(be, i, di)
	{
		xb_dev_close_tick(di);
	}
}

bool xb_backend_fatal(struct xb_backend *be)
{
	return be->fatal;
}

static void stop_all(struct xb_backend *be, bool write_closed)
{
	struct xb_dev_impl *di, *next;
	unsigned int i;

	if (be->stopping)
		return;
	be->stopping = true;
	for (i = 0; i < be->nr_served; i++)
		xbs_unwatch(be->xs, be->served[i].path, be->served[i].token);
	if (be->watching_release)
		xbs_unwatch(be->xs, "@releaseDomain", RELEASE_TOKEN);
	be->watching_release = false;
	for (i = 0; i < XB_DEV_BUCKETS; i++) {
		for (di = be->buckets[i]; di; di = next) {
			next = di->hnext;
			di->d.daemon_stopping = true;
			xb_dev_destroy(di, write_closed);
		}
	}
}

void xb_backend_shutdown(struct xb_backend *be)
{
	stop_all(be, true);
}

void xb_backend_handover(struct xb_backend *be)
{
	stop_all(be, false);
}

void xb_backend_free(struct xb_backend *be)
{
	struct xb_bad_dir *b, *next;

	if (!be)
		return;
	xb_backend_shutdown(be);
	for (b = be->bad_dirs; b; b = next) {
		next = b->next;
		free(b);
	}
	if (!be->fatal)
		xb_loop_del(be->loop, xbs_fd(be->xs));
	xb_loop_del(be->loop, be->async_fd);
	close(be->async_fd);
	if (be->xc)
		xc_interface_close(be->xc);
	free(be);
}
