/*
 * xbs.h - the daemon's xenstore access (prefix xbs_, since xs_ is
 * libxenstore's own).
 *
 * Only the main thread uses xenstore; workers never do.
 *
 * Every value read from xenstore may come from a hostile or confused
 * writer (a frontend writes its own directory; the toolstack or an
 * operator writes the backend's): typed reads accept exactly the canonical
 * form of a value and report what was wrong, never a silently clamped or
 * truncated number.
 *
 * Errors are negative errno values: -ENOENT (node absent), -EINVAL
 * (malformed value), -ERANGE (number above its bound), -EACCES, -EIO ...
 */
#ifndef XB_XENSTORE_XBS_H
#define XB_XENSTORE_XBS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

/* Longest path the daemon builds; xenstore's own limit is 3072. */
#define XBS_PATH_MAX 256
/* Domain ids a frontend can have (below DOMID_FIRST_RESERVED). */
#define XBS_DOMID_MAX 0x7fefU

/* ---- parsing of values (pure functions, fuzzed) ---------------------- */

/* Canonical unsigned decimal: digits only, no sign, space or suffix. */
int xbs_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* A xenbus state number, 0 (Unknown) .. 8 (Reconfigured). */
int xbs_parse_state(const char *s, enum xenbus_state *out);
/*
 * A MAC address as the toolstack writes a vif's `mac` node: six groups of
 * exactly two hex digits (either case) separated by ':', nothing else
 * (no sign, space, "0x" or other separator). 0 or -EINVAL.
 */
int xbs_parse_mac(const char *s, uint8_t mac[6]);
/*
 * A block device number as the block hotplug script writes
 * `physical-device`: "<major>:<minor>" in hex digits (either case, no
 * sign, space or "0x"), major 1..0xfff and minor 0..0xfffff (Linux's
 * 12 and 20 bits; major 0 names no block device). 0, -EINVAL (not that
 * form) or -ERANGE (a number out of those bounds).
 */
int xbs_parse_major_minor(const char *s, unsigned int *major,
			  unsigned int *minor);
/* "InitWait" etc.; "Unknown" for out-of-range values. */
const char *xbs_state_name(int state);
/* dir + "/" + node into buf: 0, or -ENAMETOOLONG. node may be NULL. */
int xbs_join(char *buf, size_t size, const char *dir, const char *node);

/*
 * A frontend directory named by a backend's "frontend" node must be
 * /local/domain/<domid>/<rest>: exactly that domain's tree (canonical
 * domid), <rest> non-empty, only xenstore's path characters
 * [A-Za-z0-9_@-] and single '/' separators, and short enough to append
 * node names (at most XBS_FRONTEND_PATH_MAX bytes).
 */
#define XBS_FRONTEND_PATH_MAX (XBS_PATH_MAX - 64)
bool xbs_valid_frontend_path(const char *path, unsigned int domid);

/*
 * A watch event path relative to backend/<type>: "/<domid>/<devid>/<node>"
 * gives 0 and the three parts (node points into rel and may contain
 * '/'); anything else (shorter, or not canonical numbers) gives -EINVAL.
 */
int xbs_split_device_path(const char *rel, unsigned int *domid,
			  unsigned int *devid, const char **node);

/* ---- connection ------------------------------------------------------ */

struct xbs {
	struct xs_handle *h;
	unsigned int self_domid;	/* from the relative node "domid" */
	char self_path[32];		/* "/local/domain/<self_domid>" */
};

/*
 * Connects (xs_open, so $XENSTORED_PATH and $XENSTORED_RUNDIR apply) and
 * learns the daemon's own domain id from the relative node "domid", which
 * the toolstack writes for every domain. A driver domain is thus served
 * exactly like dom0.
 */
int xbs_open(struct xbs *xs);
void xbs_close(struct xbs *xs);
/* Readable when watch events are pending. */
int xbs_fd(const struct xbs *xs);

/* ---- reads and writes (t is XBT_NULL outside a transaction) --------- */

/* *out is malloc'ed and NUL-terminated; embedded NULs give -EINVAL. */
int xbs_read_str(struct xbs *xs, xs_transaction_t t, const char *dir,
		 const char *node, char **out);
int xbs_read_uint(struct xbs *xs, xs_transaction_t t, const char *dir,
		  const char *node, uint64_t max, uint64_t *out);
/* dir's "state" node; an absent node gives -ENOENT. */
int xbs_read_state(struct xbs *xs, xs_transaction_t t, const char *dir,
		   enum xenbus_state *out);
bool xbs_exists(struct xbs *xs, xs_transaction_t t, const char *dir,
		const char *node);
int xbs_write_str(struct xbs *xs, xs_transaction_t t, const char *dir,
		  const char *node, const char *value);
int xbs_printf(struct xbs *xs, xs_transaction_t t, const char *dir,
	       const char *node, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* xbs_printf() for callers with their own variable arguments. */
int xbs_vprintf(struct xbs *xs, xs_transaction_t t, const char *dir,
		const char *node, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
/* Removing an absent node is not an error. */
int xbs_rm(struct xbs *xs, xs_transaction_t t, const char *dir,
	   const char *node);
/* Children of path (free() the array), or NULL with *err set. */
char **xbs_list(struct xbs *xs, const char *path, unsigned int *n, int *err);

/* ---- transactions ---------------------------------------------------- */

/*
 * Runs fn in a transaction, again from the start while the commit fails
 * with EAGAIN (a conflicting writer), at most XBS_TXN_RETRIES times. fn
 * returning non-zero aborts the transaction and that value is returned.
 */
#define XBS_TXN_RETRIES 32
typedef int xbs_txn_fn(struct xbs *xs, xs_transaction_t t, void *arg);
int xbs_transaction(struct xbs *xs, xbs_txn_fn *fn, void *arg);

/*
 * Writes dir/state, but only while dir/state exists: a device directory
 * that the toolstack removed is never brought back by a late write.
 * Returns -ENOENT in that case.
 */
int xbs_switch_state(struct xbs *xs, const char *dir, enum xenbus_state state);

/*
 * Writes dir/node = value only while dir/state exists (same reason). With
 * value NULL, removes dir/node.
 */
int xbs_write_if_present(struct xbs *xs, const char *dir, const char *node,
			 const char *value);

/* ---- watches ------------------------------------------------------- */

int xbs_watch(struct xbs *xs, const char *path, const char *token);
int xbs_unwatch(struct xbs *xs, const char *path, const char *token);
/*
 * The next pending watch event, or NULL when there is none: the vector's
 * [XS_WATCH_PATH] and [XS_WATCH_TOKEN] are the path and token; free() it.
 */
char **xbs_next_event(struct xbs *xs);

#endif
