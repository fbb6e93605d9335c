/*
 * logrecord.c - log messages as records of the journal's native protocol
 * (see logrecord.h).
 */
#include "backend/logrecord.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FIELD_NAME_MAX 64

void xb_log_record_reset(struct xb_log_record *r)
{
	r->len = 0;
	r->cut = false;
}

/* What journald accepts from a client: no '_' first (its own fields). */
static bool valid_field_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > FIELD_NAME_MAX || name[0] == '_' ||
	    (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '_')
			return false;
	}
	return true;
}

/* The plain form ends a value at its first newline: keep it for text. */
static bool needs_length_form(const unsigned char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x20 && v[i] != '\t')
			return true;
	return false;
}

static void put(struct xb_log_record *r, const void *p, size_t n)
{
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

static void put_le64(struct xb_log_record *r, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = v >> (8 * i);
	put(r, b, sizeof(b));
}

int xb_log_record_add(struct xb_log_record *r, const char *name,
		      const void *value, size_t len)
{
	size_t room = sizeof(r->buf) - r->len, nlen = strlen(name);
	bool length_form = needs_length_form(value, len);
	/* name, '=' or '\n' + 8 bytes of length, the value, '\n' */
	size_t overhead = nlen + (length_form ? 1 + 8 : 1) + 1;
	int rc = 0;

	if (!valid_field_name(name))
		return -EINVAL;
	if (room <= overhead) {
		r->cut = true;
		return -ENOSPC;
	}
	if (len > room - overhead) {
		len = room - overhead;
		r->cut = true;
		rc = -ENOSPC;
	}
	put(r, name, nlen);
	if (length_form) {
		put(r, "\n", 1);
		put_le64(r, len);
	} else {
		put(r, "=", 1);
	}
	put(r, value, len);
	put(r, "\n", 1);
	return rc;
}

int xb_log_record_add_str(struct xb_log_record *r, const char *name,
			  const char *value)
{
	return xb_log_record_add(r, name, value, strlen(value));
}

int xb_log_record_addf(struct xb_log_record *r, const char *name,
		       const char *fmt, ...)
{
	char v[XB_LOG_RECORD_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(v))
		n = sizeof(v) - 1;
	return xb_log_record_add(r, name, v, n);
}
