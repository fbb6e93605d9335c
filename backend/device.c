/*
 * device.c - the services backend/ gives a kind about one device: typed
 * node reads and writes, failure, logging (see device.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/internal.h"

/* ---- typed reads --------------------------------------------------------- */

static int read_str(struct xb_device *dev, const char *dir, const char *node,
		    char **out)
{
	return xbs_read_str(dev->xs, XBT_NULL, dir, node, out);
}

static int read_u64(struct xb_device *dev, const char *dir, const char *node,
		    uint64_t max, uint64_t *out)
{
	return xbs_read_uint(dev->xs, XBT_NULL, dir, node, max, out);
}

static int read_uint(struct xb_device *dev, const char *dir, const char *node,
		     unsigned int max, unsigned int *out)
{
	uint64_t v;
	int rc = read_u64(dev, dir, node, max, &v);

	if (!rc)
		*out = v;
	return rc;
}

static int read_uint_def(struct xb_device *dev, const char *dir,
			 const char *node, unsigned int max, unsigned int def,
			 unsigned int *out)
{
	int rc = read_uint(dev, dir, node, max, out);

	if (rc == -ENOENT) {
		*out = def;
		return 0;
	}
	return rc;
}

static int read_flag(struct xb_device *dev, const char *dir, const char *node,
		     bool *out)
{
	uint64_t v;
	int rc = read_u64(dev, dir, node, UINT64_MAX, &v);

	if (rc == -ENOENT) {
		*out = false;
		return 0;
	}
	if (!rc)
		*out = v != 0;
	return rc;
}

int xb_fe_read_str(struct xb_device *dev, const char *node, char **out)
{
	return read_str(dev, dev->frontend_path, node, out);
}

int xb_fe_read_uint(struct xb_device *dev, const char *node,
		    unsigned int max, unsigned int *out)
{
	return read_uint(dev, dev->frontend_path, node, max, out);
}

int xb_fe_read_u64(struct xb_device *dev, const char *node, uint64_t max,
		   uint64_t *out)
{
	return read_u64(dev, dev->frontend_path, node, max, out);
}

int xb_fe_read_uint_def(struct xb_device *dev, const char *node,
			unsigned int max, unsigned int def, unsigned int *out)
{
	return read_uint_def(dev, dev->frontend_path, node, max, def, out);
}

int xb_fe_read_flag(struct xb_device *dev, const char *node, bool *out)
{
	return read_flag(dev, dev->frontend_path, node, out);
}

int xb_be_read_str(struct xb_device *dev, const char *node, char **out)
{
	return read_str(dev, dev->backend_path, node, out);
}

int xb_be_read_uint(struct xb_device *dev, const char *node,
		    unsigned int max, unsigned int *out)
{
	return read_uint(dev, dev->backend_path, node, max, out);
}

int xb_be_read_u64(struct xb_device *dev, const char *node, uint64_t max,
		   uint64_t *out)
{
	return read_u64(dev, dev->backend_path, node, max, out);
}

int xb_be_read_uint_def(struct xb_device *dev, const char *node,
			unsigned int max, unsigned int def, unsigned int *out)
{
	return read_uint_def(dev, dev->backend_path, node, max, def, out);
}

int xb_be_read_flag(struct xb_device *dev, const char *node, bool *out)
{
	return read_flag(dev, dev->backend_path, node, out);
}

const char *xb_read_error(int err)
{
	switch (err) {
	case -ENOENT:
		return "is missing";
	case -EINVAL:
		return "is not a canonical number";
	case -ERANGE:
		return "is out of range";
	default:
		return strerror(-err);
	}
}

int xb_be_write(struct xb_device *dev, const char *node, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = xbs_vprintf(dev->xs, XBT_NULL, dev->backend_path, node, fmt, ap);
	va_end(ap);
	return rc;
}

int xb_be_rm(struct xb_device *dev, const char *node)
{
	return xbs_rm(dev->xs, XBT_NULL, dev->backend_path, node);
}

/* ---- logging ---------------------------------------------------------- */

void xb_dev_log(const struct xb_device *dev, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xb_logv_ctx(prio, dev->domid, dev->name, fmt, ap);
	va_end(ap);
}

void xb_dev_log_ratelimited(struct xb_device *dev, int prio, const char *fmt,
			    ...)
{
	struct xb_dev_impl *di = dev_impl(dev);
	unsigned int suppressed;
	va_list ap;

	if (!xb_log_enabled(prio) || !xb_ratelimit_allow(&di->rl, &suppressed))
		return;
	if (suppressed)
		xb_dev_log(dev, prio, "%u similar messages suppressed",
			   suppressed);
	va_start(ap, fmt);
	xb_logv_ctx(prio, dev->domid, dev->name, fmt, ap);
	va_end(ap);
}

/* ---- failure ----------------------------------------------------------- */

void xb_device_fail(struct xb_device *dev, int err, const char *fmt, ...)
{
	struct xb_dev_impl *di = dev_impl(dev);
	char msg[XB_FAIL_MSG_MAX], value[XB_FAIL_MSG_MAX + 16];
	va_list ap;
	int rc;

	if (di->failed)
		return;
	di->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xb_dev_err(dev, "%s", msg);
	if (err > 0)
		err = -err;
	snprintf(value, sizeof(value), "%d %s", -err, msg);
	rc = xbs_write_if_present(dev->xs, dev->backend_path, "error", value);
	if (!rc)
		di->error_written = true;
	else if (rc != -ENOENT)
		xb_dev_warn(dev, "cannot write error node: %s", strerror(-rc));
	/* Inside a kind callback the core finishes when it returns. */
	if (!di->in_callback)
		xb_dev_finish_failure(di);
}

void xb_device_fail_async(struct xb_device *dev, int err, const char *fmt,
			  ...)
{
	struct xb_dev_impl *di = dev_impl(dev);
	uint64_t one = 1;
	va_list ap;

	pthread_mutex_lock(&di->async_lock);
	if (!di->async_pending) {
		di->async_pending = true;
		di->async_err = err;
		va_start(ap, fmt);
		vsnprintf(di->async_msg, sizeof(di->async_msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&di->async_lock);
	if (write(di->be->async_fd, &one, sizeof(one)) < 0)
		xb_dev_err(dev, "cannot wake the main thread: %s",
			   strerror(errno));
}

/*
 * A worker's news for the main thread: flag set under the lock, and the
 * main thread woken once, not again while the flag is still unread.
 */
static void raise_async(struct xb_dev_impl *di, bool *flag)
{
	uint64_t one = 1;
	bool was;

	pthread_mutex_lock(&di->async_lock);
	was = *flag;
	*flag = true;
	pthread_mutex_unlock(&di->async_lock);
	if (!was && write(di->be->async_fd, &one, sizeof(one)) < 0)
		xb_dev_err(&di->d, "cannot wake the main thread: %s",
			   strerror(errno));
}

void xb_device_kick_async(struct xb_device *dev)
{
	raise_async(dev_impl(dev), &dev_impl(dev)->kick_pending);
}

void xb_device_worker_ended_async(struct xb_device *dev)
{
	raise_async(dev_impl(dev), &dev_impl(dev)->ended_pending);
}

void xb_dev_drop_async_failure(struct xb_dev_impl *di)
{
	pthread_mutex_lock(&di->async_lock);
	di->async_pending = false;
	pthread_mutex_unlock(&di->async_lock);
}

void xb_dev_run_async_failure(struct xb_dev_impl *di)
{
	char msg[XB_FAIL_MSG_MAX];
	bool pending;
	int err;

	pthread_mutex_lock(&di->async_lock);
	pending = di->async_pending;
	di->async_pending = false;
	err = di->async_err;
	memcpy(msg, di->async_msg, sizeof(msg));
	pthread_mutex_unlock(&di->async_lock);
	if (pending)
		xb_device_fail(&di->d, err, "%s", msg);
}

/* ---- the runtime directory -------------------------------------------- */

static char run_dir[XBS_PATH_MAX] = "/run/xenbackd";

void xb_set_run_dir(const char *dir)
{
	snprintf(run_dir, sizeof(run_dir), "%s", dir);
}

const char *xb_run_dir(void)
{
	return run_dir;
}

int xb_run_write(const char *path, const char *text, size_t len)
{
	char tmp[XBS_PATH_MAX + 64];
	int fd, n, rc = 0;

	n = snprintf(tmp, sizeof(tmp), "%s" XB_RUN_TMP_SUFFIX, path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		rc = errno ? -errno : -EIO;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}
