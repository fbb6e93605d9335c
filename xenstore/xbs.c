/*
 * xbs.c - xenstore access: typed, validated reads; writes that never
 * resurrect a removed directory; transactions retried on EAGAIN; watches.
 */
#include "xenstore/xbs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/log.h"

/* ---- parsing -------------------------------------------------------- */

int xbs_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned int d;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		d = *s - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int xbs_parse_state(const char *s, enum xenbus_state *out)
{
	uint64_t v;
	int rc = xbs_parse_uint(s, XenbusStateReconfigured, &v);

	if (rc)
		return rc;
	*out = (enum xenbus_state)v;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int xbs_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t b[6];
	int hi, lo;

	/* By hand: sscanf("%2x") would take a sign, a space or "0x". */
	for (unsigned int i = 0; i < 6; i++, s += 3) {
		hi = hex_digit(s[0]);
		lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0 || s[2] != (i < 5 ? ':' : '\0'))
			return -EINVAL;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, b, sizeof(b));
	return 0;
}

/*
 * Hex digits up to `stop` (leading zeros allowed): *p moves to `stop` and
 * *out is the value, or max + 1 for any value above max, so that no
 * number of digits overflows (max is far below 2^60). -EINVAL if there is
 * no digit or a non-digit.
 */
static int take_hex(const char **p, char stop, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;

	if (*s == stop)
		return -EINVAL;
	for (; *s != stop; s++) {
		d = hex_digit(*s);
		if (d < 0)
			return -EINVAL;
		if (v <= max)
			v = v << 4 | (uint64_t)d;
	}
	*p = s;
	*out = v <= max ? v : max + 1;
	return 0;
}

int xbs_parse_major_minor(const char *s, unsigned int *major,
			  unsigned int *minor)
{
	uint64_t a, b;

	/* Malformed beats out of range: both numbers are read whole. */
	if (take_hex(&s, ':', 0xfff, &a))
		return -EINVAL;
	s++;
	if (take_hex(&s, '\0', 0xfffff, &b))
		return -EINVAL;
	if (a == 0 || a > 0xfff || b > 0xfffff)
		return -ERANGE;
	*major = (unsigned int)a;
	*minor = (unsigned int)b;
	return 0;
}

const char *xbs_state_name(int state)
{
	static const char *const names[] = {
		[XenbusStateUnknown] = "Unknown",
		[XenbusStateInitialising] = "Initialising",
		[XenbusStateInitWait] = "InitWait",
		[XenbusStateInitialised] = "Initialised",
		[XenbusStateConnected] = "Connected",
		[XenbusStateClosing] = "Closing",
		[XenbusStateClosed] = "Closed",
		[XenbusStateReconfiguring] = "Reconfiguring",
		[XenbusStateReconfigured] = "Reconfigured",
	};

	if (state < 0 || state > XenbusStateReconfigured)
		return "Unknown";
	return names[state];
}

int xbs_join(char *buf, size_t size, const char *dir, const char *node)
{
	int n;

	if (node && *node)
		n = snprintf(buf, size, "%s/%s", dir, node);
	else
		n = snprintf(buf, size, "%s", dir);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static bool is_path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '@';
}

bool xbs_valid_frontend_path(const char *path, unsigned int domid)
{
	char prefix[32];
	size_t plen;
	const char *p;

	if (strlen(path) > XBS_FRONTEND_PATH_MAX)
		return false;
	plen = snprintf(prefix, sizeof(prefix), "/local/domain/%u/", domid);
	if (strncmp(path, prefix, plen) != 0)
		return false;
	p = path + plen;
	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p == '/') {
			/* No empty component, no trailing slash. */
			if (p[-1] == '/' || p[1] == '\0')
				return false;
		} else if (!is_path_char(*p)) {
			return false;
		}
	}
	return true;
}

/* One path component as a canonical number; *p moves past it and '/'. */
static int take_number(const char **p, uint64_t max, uint64_t *out)
{
	char num[16];
	size_t len = strcspn(*p, "/");

	if ((*p)[len] != '/' || len == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, *p, len);
	num[len] = '\0';
	if (xbs_parse_uint(num, max, out))
		return -EINVAL;
	*p += len + 1;
	return 0;
}

int xbs_split_device_path(const char *rel, unsigned int *domid,
			  unsigned int *devid, const char **node)
{
	uint64_t dom, dev;
	const char *p = rel;

	if (*p++ != '/')
		return -EINVAL;
	if (take_number(&p, XBS_DOMID_MAX, &dom) ||
	    take_number(&p, UINT32_MAX, &dev) || !*p)
		return -EINVAL;
	*domid = dom;
	*devid = dev;
	*node = p;
	return 0;
}

/* ---- connection ------------------------------------------------------- */

int xbs_open(struct xbs *xs)
{
	uint64_t domid;
	char *s;
	int rc;

	*xs = (struct xbs){ 0 };
	/*
	 * No XS_UNWATCH_FILTER: libxenstore 4.17 leaks the body of each
	 * event it filters. Events of a removed watch are harmless here:
	 * they are looked up by name and find nothing, or a device whose
	 * handlers are idempotent.
	 */
	xs->h = xs_open(0);
	if (!xs->h) {
		rc = -errno;
		xb_err("cannot connect to xenstore: %s", strerror(errno));
		return rc;
	}
	/* A relative path is resolved against our own domain's directory. */
	rc = xbs_read_str(xs, XBT_NULL, "domid", NULL, &s);
	if (rc) {
		xb_err("cannot read own domain id from xenstore node 'domid': %s",
		       strerror(-rc));
		goto fail;
	}
	rc = xbs_parse_uint(s, XBS_DOMID_MAX, &domid);
	if (rc) {
		xb_err("xenstore node 'domid' holds '%.32s', not a domain id",
		       s);
		free(s);
		goto fail;
	}
	free(s);
	xs->self_domid = domid;
	snprintf(xs->self_path, sizeof(xs->self_path), "/local/domain/%u",
		 xs->self_domid);
	return 0;
fail:
	xs_close(xs->h);
	xs->h = NULL;
	return rc;
}

void xbs_close(struct xbs *xs)
{
	if (xs->h)
		xs_close(xs->h);
	xs->h = NULL;
}

int xbs_fd(const struct xbs *xs)
{
	return xs_fileno(xs->h);
}

/* ---- reads and writes ------------------------------------------------ */

static int errno_or_eio(void)
{
	return errno ? -errno : -EIO;
}

int xbs_read_str(struct xbs *xs, xs_transaction_t t, const char *dir,
		 const char *node, char **out)
{
	char path[XBS_PATH_MAX];
	unsigned int len;
	char *v;
	int rc;

	rc = xbs_join(path, sizeof(path), dir, node);
	if (rc)
		return rc;
	errno = 0;
	v = xs_read(xs->h, t, path, &len);
	if (!v)
		return errno_or_eio();
	/* libxenstore NUL-terminates; a value with an inner NUL is bogus. */
	if (strlen(v) != len) {
		free(v);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int xbs_read_uint(struct xbs *xs, xs_transaction_t t, const char *dir,
		  const char *node, uint64_t max, uint64_t *out)
{
	char *s;
	int rc = xbs_read_str(xs, t, dir, node, &s);

	if (rc)
		return rc;
	rc = xbs_parse_uint(s, max, out);
	free(s);
	return rc;
}

int xbs_read_state(struct xbs *xs, xs_transaction_t t, const char *dir,
		   enum xenbus_state *out)
{
	char *s;
	int rc = xbs_read_str(xs, t, dir, "state", &s);

	if (rc)
		return rc;
	rc = xbs_parse_state(s, out);
	free(s);
	return rc;
}

bool xbs_exists(struct xbs *xs, xs_transaction_t t, const char *dir,
		const char *node)
{
	char *s;

	if (xbs_read_str(xs, t, dir, node, &s) == -ENOENT)
		return false;
	free(s);
	return true;
}

int xbs_write_str(struct xbs *xs, xs_transaction_t t, const char *dir,
		  const char *node, const char *value)
{
	char path[XBS_PATH_MAX];
	int rc = xbs_join(path, sizeof(path), dir, node);

	if (rc)
		return rc;
	errno = 0;
	if (!xs_write(xs->h, t, path, value, strlen(value)))
		return errno_or_eio();
	return 0;
}

int xbs_vprintf(struct xbs *xs, xs_transaction_t t, const char *dir,
		const char *node, const char *fmt, va_list ap)
{
	char *value;
	int rc;

	if (vasprintf(&value, fmt, ap) < 0)
		return -ENOMEM;
	rc = xbs_write_str(xs, t, dir, node, value);
	free(value);
	return rc;
}

int xbs_printf(struct xbs *xs, xs_transaction_t t, const char *dir,
	       const char *node, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = xbs_vprintf(xs, t, dir, node, fmt, ap);
	va_end(ap);
	return rc;
}

int xbs_rm(struct xbs *xs, xs_transaction_t t, const char *dir,
	   const char *node)
{
	char path[XBS_PATH_MAX];
	int rc = xbs_join(path, sizeof(path), dir, node);

	if (rc)
		return rc;
	errno = 0;
	if (!xs_rm(xs->h, t, path) && errno != ENOENT)
		return errno_or_eio();
	return 0;
}

char **xbs_list(struct xbs *xs, const char *path, unsigned int *n, int *err)
{
	char **v;

	errno = 0;
	v = xs_directory(xs->h, XBT_NULL, path, n);
	if (!v)
		*err = errno_or_eio();
	return v;
}

/* ---- transactions ---------------------------------------------------- */

int xbs_transaction(struct xbs *xs, xbs_txn_fn *fn, void *arg)
{
	for (int attempt = 0; attempt < XBS_TXN_RETRIES; attempt++) {
		xs_transaction_t t = xs_transaction_start(xs->h);
		int rc;

		if (t == XBT_NULL)
			return errno_or_eio();
		rc = fn(xs, t, arg);
		if (rc) {
			xs_transaction_end(xs->h, t, true);
			return rc;
		}
		errno = 0;
		if (xs_transaction_end(xs->h, t, false))
			return 0;
		if (errno != EAGAIN)
			return errno_or_eio();
	}
	return -EAGAIN;
}

struct guarded_write {
	const char *dir;
	const char *node;
	const char *value;	/* NULL: remove */
};

static int write_if_present_txn(struct xbs *xs, xs_transaction_t t,
				void *arg)
{
	const struct guarded_write *w = arg;

	if (!xbs_exists(xs, t, w->dir, "state"))
		return -ENOENT;
	if (!w->value)
		return xbs_rm(xs, t, w->dir, w->node);
	return xbs_write_str(xs, t, w->dir, w->node, w->value);
}

int xbs_write_if_present(struct xbs *xs, const char *dir, const char *node,
			 const char *value)
{
	struct guarded_write w = { dir, node, value };

	return xbs_transaction(xs, write_if_present_txn, &w);
}

int xbs_switch_state(struct xbs *xs, const char *dir, enum xenbus_state state)
{
	char v[4];

	snprintf(v, sizeof(v), "%d", (int)state);
	return xbs_write_if_present(xs, dir, "state", v);
}

/* ---- watches --------------------------------------------------------- */

int xbs_watch(struct xbs *xs, const char *path, const char *token)
{
	errno = 0;
	if (!xs_watch(xs->h, path, token))
		return errno_or_eio();
	return 0;
}

int xbs_unwatch(struct xbs *xs, const char *path, const char *token)
{
	errno = 0;
	if (!xs_unwatch(xs->h, path, token))
		return errno_or_eio();
	return 0;
}

char **xbs_next_event(struct xbs *xs)
{
	return xs_check_watch(xs->h);
}
