/*
 * logrecord.h - one log message as a record of the journal's native
 * protocol (systemd.journal-fields(7), "Native Journal Protocol"): the
 * fields of one datagram to /run/systemd/journal/socket.
 *
 * A field is "NAME=value\n", or, when the value holds a newline (or any
 * byte at all: the form is binary-safe), "NAME\n", the value's length as
 * a 64-bit little-endian number, the value and "\n". A record is built in
 * a fixed buffer, never allocated: a field that does not fit is cut (the
 * record stays well-formed and `cut` says so), a field after it is left
 * out. XB_LOG_RECORD_MAX is far below the smallest datagram a unix socket
 * takes (its send buffer), so a record always goes in one datagram and
 * the protocol's memfd form for large messages is never needed.
 */
#ifndef XB_BACKEND_LOGRECORD_H
#define XB_BACKEND_LOGRECORD_H

#include <stdbool.h>
#include <stddef.h>

#define XB_LOG_RECORD_MAX 4096

struct xb_log_record {
	size_t len;
	bool cut; /* a field was cut or left out */
	char buf[XB_LOG_RECORD_MAX];
};

void xb_log_record_reset(struct xb_log_record *r);
/*
 * Appends field NAME (A-Z, 0-9, '_', not starting with '_' or a digit, at
 * most 64 characters) with the len bytes of value. 0, -EINVAL for a bad
 * name (nothing added), -ENOSPC if the value was cut or the field left out.
 */
int xb_log_record_add(struct xb_log_record *r, const char *name,
		      const void *value, size_t len);
int xb_log_record_add_str(struct xb_log_record *r, const char *name,
			  const char *value);
int xb_log_record_addf(struct xb_log_record *r, const char *name,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
