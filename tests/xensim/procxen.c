// SPDX-License-Identifier: MIT
/*
 * procxen.c: LD_PRELOAD shim for Debian's xenstored on a simulated host.
 *
 * xenstored learns dom0's xenstore event channel and ring page from two
 * fixed paths, /proc/xen/xsd_port and /proc/xen/xsd_kva (xenstored_posix.c).
 * This shim redirects exactly those two paths to files of the host folder
 * ($XENSIM_HOST/xsd_port, $XENSIM_HOST/xsd_kva) and nothing else. A shim
 * rather than a private mount namespace with a tmpfs over /proc/xen: it
 * needs no privilege (CI may run without CAP_SYS_ADMIN or user
 * namespaces), it cannot leak into other processes, and several hosts run
 * side by side without any mount bookkeeping to undo after a crash.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*open_fn)(const char *, int, ...);

static const char *redirect(const char *path, char *buf, size_t len)
{
	const char *host = getenv("XENSIM_HOST");

	if (!host || !path || strncmp(path, "/proc/xen/xsd_", 14))
		return path;
	if (strcmp(path + 14, "port") && strcmp(path + 14, "kva"))
		return path;
	snprintf(buf, len, "%s/%s", host, path + 10);
	return buf;
}

static int do_open(const char *sym, const char *path, int flags, va_list ap)
{
	static open_fn real_open, real_open64;
	open_fn *real = strcmp(sym, "open") ? &real_open64 : &real_open;
	char buf[512];
	mode_t mode = 0;

	if (!*real)
		*real = (open_fn)dlsym(RTLD_NEXT, sym);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	return (*real)(redirect(path, buf, sizeof(buf)), flags, mode);
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = do_open("open", path, flags, ap);
	va_end(ap);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = do_open("open64", path, flags, ap);
	va_end(ap);
	return fd;
}
