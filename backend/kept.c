/*
 * kept.c - the settings a connected device keeps across daemons.
 *
 * A kind reads its settings (xenbackd.conf's <type>-<name> keys) when it
 * connects a device, and a device keeps them while it stays connected: a
 * reload applies at its next connect. A device adopted by a successor
 * (xenbackctl restart, or a restart after a crash) has not connected
 * again either, so it keeps them too, whatever the successor's
 * configuration says: an upgrade changes no running disk's data path
 * behind the operator's back, and what `xenbackctl` showed stays true.
 *
 * So at each connect the core writes the kind's settings in force to
 * <xb_run_dir()>/<type>-<domid>-<devid>.settings; an adoption answers
 * xb_setting_get() from that record while the kind connects, then writes
 * it again. The record goes when the device disconnects while the daemon
 * runs on, or is closed by a stop; a handover (or a crash) leaves it for
 * the successor. Records of devices that went while no daemon ran are
 * removed when their kind starts being served.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/config.h"
#include "backend/internal.h"

#define KEPT_RECORD_MAX 4096

static bool has_settings(const struct xb_device *dev)
{
	return dev->kind->settings && dev->kind->settings[0].name;
}

static int record_path(const struct xb_device *dev, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s-%u-%u.settings", xb_run_dir(),
			 dev->kind->type, dev->domid, dev->devid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void xb_kept_save(struct xb_device *dev)
{
	char path[XBS_PATH_MAX], text[KEPT_RECORD_MAX];
	int len, rc;

	if (!has_settings(dev))
		return;
	rc = record_path(dev, path, sizeof(path));
	len = rc ? rc : xb_config_record(dev->kind, text, sizeof(text));
	rc = len < 0 ? len : xb_run_write(path, text, (size_t)len);
	if (rc)
		xb_dev_warn(dev,
			    "cannot record its settings in %s: %s (a successor "
			    "adopting it would use its own)",
			    xb_run_dir(), strerror(-rc));
}

void xb_kept_forget(struct xb_device *dev)
{
	char path[XBS_PATH_MAX];

	if (!has_settings(dev) || record_path(dev, path, sizeof(path)))
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		xb_dev_warn(dev, "cannot remove %s: %s", path,
			    strerror(errno));
}

/* The record's text, NUL-terminated, or -errno (-ENOENT: none). */
static int load_record(const struct xb_device *dev, char *text, size_t len)
{
	char path[XBS_PATH_MAX];
	ssize_t n;
	int fd, rc;

	rc = record_path(dev, path, sizeof(path));
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, text, len);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	if ((size_t)n == len)
		return -EFBIG;
	text[n] = '\0';
	return 0;
}

/*
 * One line naming what the device keeps that differs from the settings
 * now in force (called before kept is in use): the operator changed them
 * and sees that this device will take them only when it reconnects.
 */
static void log_differences(struct xb_device *dev,
			    const struct xb_config *kept)
{
	char line[512];
	size_t n = 0;

	for (unsigned int i = 0; i < kept->nr_values; i++) {
		const struct xb_config_value *v = &kept->values[i];
		const char *now = xb_setting_get(dev->kind, v->setting->name,
						 NULL);
		int w;

		if (!strcmp(now, v->value))
			continue;
		w = snprintf(line + n, sizeof(line) - n,
			     "%s%s-%s = %s (%s; now %s)", n ? ", " : "",
			     dev->kind->type, v->setting->name, v->value,
			     v->origin, now);
		if (w < 0 || (size_t)w >= sizeof(line) - n)
			break;
		n += (size_t)w;
	}
	if (n)
		xb_dev_info(dev,
			    "keeps the settings it was connected with until "
			    "it reconnects: %s",
			    line);
}

bool xb_kept_adopt(struct xb_device *dev, struct xb_config *kept, bool quiet)
{
	char text[KEPT_RECORD_MAX];
	int rc;

	if (!has_settings(dev))
		return false;
	rc = load_record(dev, text, sizeof(text));
	if (rc == 0)
		rc = xb_config_read_record(kept, dev->kind, text);
	if (rc <= 0) {
		if (!quiet)
			xb_dev_info(dev,
				    "no record of the settings it was "
				    "connected with (%s): it takes those in "
				    "force",
				    rc ? strerror(-rc) : "none readable");
		return false;
	}
	if (!quiet)
		log_differences(dev, kept);
	xb_config_keep(kept);
	return true;
}

/* "<type>-<domid>-<devid>.settings", exactly as record_path() names it. */
static bool record_name(const char *name, const char *type,
			unsigned int *domid, unsigned int *devid)
{
	size_t tlen = strlen(type);
	char canon[XBS_PATH_MAX];
	int n = 0;

	if (strncmp(name, type, tlen) || name[tlen] != '-')
		return false;
	if (sscanf(name + tlen, "-%u-%u.settings%n", domid, devid, &n) != 2 ||
	    (size_t)n != strlen(name + tlen))
		return false;
	snprintf(canon, sizeof(canon), "%s-%u-%u.settings", type, *domid,
		 *devid);
	return !strcmp(canon, name);
}

/* "<type>-....settings~": a record a crash left half-written. */
static bool half_written(const char *name, const char *type)
{
	static const char tail[] = ".settings" XB_RUN_TMP_SUFFIX;
	size_t tlen = strlen(type), len = strlen(name);

	return !strncmp(name, type, tlen) && name[tlen] == '-' &&
	       len > sizeof(tail) && !strcmp(name + len - strlen(tail), tail);
}

void xb_kept_sweep(struct xbs *xs, const struct xb_kind *kind,
		   const char *backend_dir)
{
	unsigned int domid, devid;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (!kind->settings || !kind->settings[0].name)
		return;
	d = opendir(xb_run_dir());
	if (!d)
		return; /* none yet: nothing was kept */
	while ((e = readdir(d))) {
		if (half_written(e->d_name, kind->type)) {
			unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (!record_name(e->d_name, kind->type, &domid, &devid) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) ||
		    xb_device_still_there(xs, backend_dir, domid, devid))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0)
			xb_warn("%s/%s of a device gone: cannot remove it: %s",
				xb_run_dir(), e->d_name, strerror(errno));
	}
	closedir(d);
}
