// SPDX-License-Identifier: GPL-2.0-only
/*
 * net/tap_owner.c - persistent vif TAPs and their records (tap_owner.h).
 */
#include "net/tap_owner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/device.h"
#include "backend/log.h"
#include "net/tap.h"

#define REC_MAX 512
/* XB_RUN_TMP_SUFFIX is not a character of an interface name: never a
 * record's own name. */
/* What net_tap_open_queue() makes: a TAP of ours has at least these. */
#define OUR_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE)

struct tap_record {
	unsigned int ifindex;
	char netns[48];		/* "<st_dev>:<st_ino>" of our netns */
	char backend[XBS_PATH_MAX];
};

/* ---- paths ---------------------------------------------------------- */

static int record_dir(char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/vif", xb_run_dir());

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int record_path(char *buf, size_t len, const char *ifname,
		       const char *suffix)
{
	char dir[XBS_PATH_MAX];
	int n, rc = record_dir(dir, sizeof(dir));

	if (rc)
		return rc;
	n = snprintf(buf, len, "%s/%s%s", dir, ifname, suffix);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The run directory and its vif/ folder; the first may be systemd's. */
static int make_record_dir(void)
{
	char dir[XBS_PATH_MAX];
	int rc = record_dir(dir, sizeof(dir));

	if (rc)
		return rc;
	if (mkdir(xb_run_dir(), 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Our network namespace, as the kernel names it. */
static int netns_id(char *buf, size_t len)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	snprintf(buf, len, "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	return 0;
}

/* ---- records -------------------------------------------------------- */

static int record_parse(char *text, struct tap_record *r)
{
	bool have_index = false, have_ns = false, have_be = false;
	char *line, *save = NULL;

	memset(r, 0, sizeof(*r));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		uint64_t v;

		if (!eq)
			return -EINVAL;
		*eq++ = '\0';
		if (!strcmp(line, "ifindex")) {
			if (xbs_parse_uint(eq, UINT32_MAX, &v) || v == 0)
				return -EINVAL;
			r->ifindex = (unsigned int)v;
			have_index = true;
		} else if (!strcmp(line, "netns") &&
			   strlen(eq) < sizeof(r->netns)) {
			strcpy(r->netns, eq);
			have_ns = true;
		} else if (!strcmp(line, "backend") &&
			   strlen(eq) < sizeof(r->backend)) {
			strcpy(r->backend, eq);
			have_be = true;
		} else {
			return -EINVAL;
		}
	}
	return have_index && have_ns && have_be ? 0 : -EINVAL;
}

static int record_load(const char *ifname, struct tap_record *r)
{
	char path[XBS_PATH_MAX + IFNAMSIZ + 8], text[REC_MAX];
	ssize_t n;
	int fd, rc;

	rc = record_path(path, sizeof(path), ifname, "");
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	text[n] = '\0';
	return record_parse(text, r);
}

/* Written whole under a temporary name, then renamed over. */
static int record_save(const char *ifname, const struct tap_record *r)
{
	char path[XBS_PATH_MAX + IFNAMSIZ + 8];
	char text[REC_MAX];
	int n, rc;

	rc = make_record_dir();
	if (!rc)
		rc = record_path(path, sizeof(path), ifname, "");
	if (rc)
		return rc;
	n = snprintf(text, sizeof(text), "ifindex=%u\nnetns=%s\nbackend=%s\n",
		     r->ifindex, r->netns, r->backend);
	return xb_run_write(path, text, (size_t)n);
}

static void record_drop(const char *ifname)
{
	char path[XBS_PATH_MAX + IFNAMSIZ + 8];

	if (!record_path(path, sizeof(path), ifname, "") && unlink(path) < 0 &&
	    errno != ENOENT)
		xb_warn("cannot remove the record %s: %s", path,
			strerror(errno));
}

/*
 * The record's netdev, if it still is the one the record was made for:
 * same namespace, same interface index.
 */
static bool record_matches_netdev(const char *ifname,
				  const struct tap_record *r)
{
	char ns[sizeof(r->netns)];

	return !netns_id(ns, sizeof(ns)) && !strcmp(ns, r->netns) &&
	       net_tap_ifindex(ifname) == r->ifindex;
}

/* ---- the netdev ----------------------------------------------------- */

/*
 * Attaches a queue to a TAP that a record proves ours and checks it is
 * the persistent multi-queue TAP we make: the fd, or -errno.
 */
static int attach_ours(const char *ifname)
{
	unsigned int flags;
	int fd, rc;

	fd = net_tap_open_queue(ifname, false);
	if (fd < 0)
		return fd;
	rc = net_tap_get_flags(fd, &flags);
	if (!rc && ((flags & OUR_FLAGS) != OUR_FLAGS || !(flags & IFF_PERSIST)))
		rc = -ENOTUNIQ; /* not what we made: leave it */
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Clears persistence through fd and closes it: the netdev goes. */
static void destroy_through(int fd)
{
	net_tap_set_persist(fd, false);
	close(fd);
}

/* Removes the TAP of a record proven ours (see record_matches_netdev). */
static int destroy_ours(const char *ifname)
{
	int fd = attach_ours(ifname);

	if (fd < 0)
		return fd;
	destroy_through(fd);
	return 0;
}

/* ---- tap_owner.h ---------------------------------------------------- */

static int adopt(struct xb_device *dev, const char *ifname, bool *adopted)
{
	const char *backend = dev->backend_path;
	struct tap_record r;
	int fd, rc;

	*adopted = false;
	rc = record_load(ifname, &r);
	if (rc == -ENOENT)
		return rc;
	if (rc || !record_matches_netdev(ifname, &r)) {
		/* Its netdev is gone (or the record unreadable): stale. */
		record_drop(ifname);
		return -ENOENT;
	}
	if (strcmp(r.backend, backend))
		return -ENOENT; /* another device's TAP: creating it fails */
	fd = attach_ours(ifname);
	if (fd < 0) {
		xb_dev_warn(dev, "cannot take over its persistent TAP %s: %s",
			    ifname, strerror(-fd));
		return fd;
	}
	*adopted = true;
	return fd;
}

static int create(struct xb_device *dev, const char *ifname)
{
	const char *backend = dev->backend_path;
	struct tap_record r;
	int fd, rc;

	fd = net_tap_open_queue(ifname, true);
	if (fd < 0)
		return fd;
	memset(&r, 0, sizeof(r));
	r.ifindex = net_tap_ifindex(ifname);
	snprintf(r.backend, sizeof(r.backend), "%s", backend);
	rc = r.ifindex ? netns_id(r.netns, sizeof(r.netns)) : -ENODEV;
	if (!rc)
		rc = record_save(ifname, &r);
	if (!rc) {
		rc = net_tap_set_persist(fd, true);
		if (rc)
			record_drop(ifname);
	}
	if (rc)
		xb_dev_warn(dev,
			    "TAP %s will not outlive this daemon: cannot "
			    "record it in %s/vif: %s",
			    ifname, xb_run_dir(), strerror(-rc));
	return fd;
}

int net_tap_acquire(struct xb_device *dev, const char *ifname,
		    bool *adopted)
{
	int fd = adopt(dev, ifname, adopted);

	return fd >= 0 ? fd : create(dev, ifname);
}

void net_tap_release(const char *ifname, int fd0, bool keep)
{
	unsigned int flags = 0;

	if (fd0 < 0)
		return;
	if (keep && !net_tap_get_flags(fd0, &flags) && (flags & IFF_PERSIST)) {
		close(fd0);
		return;
	}
	destroy_through(fd0);
	record_drop(ifname);
}

/* Is the device of a record still there for us to serve? */
static bool device_exists(struct xbs *xs, const char *backend_dir,
			  const char *backend)
{
	size_t len = strlen(backend_dir);
	unsigned int domid, devid;
	char canon[XBS_PATH_MAX];

	/* Exactly <backend_dir>/<domid>/<devid>, as we recorded it. */
	if (strncmp(backend, backend_dir, len) ||
	    sscanf(backend + len, "/%u/%u", &domid, &devid) != 2)
		return false;
	snprintf(canon, sizeof(canon), "%s/%u/%u", backend_dir, domid, devid);
	if (strcmp(canon, backend))
		return false;
	return xb_device_still_there(xs, backend_dir, domid, devid);
}

/*
 * The netdev of a record made in this namespace is not here (any more, or
 * not with its index): deleted, or moved to another namespace (`ip link
 * set ... netns`), where no daemon can prove it ours and it lives on until
 * that namespace goes (docs/net.md). Said, because in the second case a
 * persistent TAP is left behind, and if its device is still there the
 * device gets a new TAP that its hotplug script never configured.
 */
static void netdev_gone(struct xbs *xs, const char *backend_dir,
			const char *ifname, const struct tap_record *r)
{
	if (device_exists(xs, backend_dir, r->backend))
		xb_warn("TAP %s of %s, left by an earlier daemon, is not in "
			"this network namespace (deleted, or moved to "
			"another): the device gets a new one, which its "
			"hotplug script has not configured (no bridge port, "
			"address or MTU)",
			ifname, r->backend);
	else
		xb_info("TAP %s of %s, gone with its device, is not in this "
			"network namespace (deleted, or moved to another, "
			"where it is left): record dropped",
			ifname, r->backend);
}

static void sweep_one(struct xbs *xs, const char *backend_dir,
		      const char *ifname)
{
	struct tap_record r;
	int rc;

	rc = record_load(ifname, &r);
	if (rc) {
		xb_warn("%s/vif/%s: unreadable record (%s): dropped",
			xb_run_dir(), ifname, strerror(-rc));
		record_drop(ifname);
		return;
	}
	if (!record_matches_netdev(ifname, &r)) {
		char ns[sizeof(r.netns)];

		/* Another namespace's record is not ours to judge. */
		if (!netns_id(ns, sizeof(ns)) && strcmp(ns, r.netns))
			return;
		record_drop(ifname);
		netdev_gone(xs, backend_dir, ifname, &r);
		return;
	}
	if (device_exists(xs, backend_dir, r.backend))
		return; /* its device's probe adopts it */
	rc = destroy_ours(ifname);
	if (rc) {
		xb_warn("TAP %s left for %s, now gone: cannot remove it: %s",
			ifname, r.backend, strerror(-rc));
		return;
	}
	record_drop(ifname);
	xb_info("TAP %s removed: its device %s went while no daemon ran",
		ifname, r.backend);
}

void net_tap_sweep(struct xbs *xs, const char *backend_dir)
{
	char dir[XBS_PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (record_dir(dir, sizeof(dir)))
		return;
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			xb_warn("cannot read %s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		if (len > 1 && e->d_name[len - 1] == XB_RUN_TMP_SUFFIX[0]) {
			/* A record a crash left half-written. */
			unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (net_tap_name_is_valid(e->d_name))
			sweep_one(xs, backend_dir, e->d_name);
	}
	closedir(d);
}
