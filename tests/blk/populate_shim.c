/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * populate_shim.so - preloaded (LD_PRELOAD) into xenbackd by
 * sim-blk-pool.sh: each madvise(MADV_POPULATE_WRITE), a queue's pool
 * being faulted in, is appended to the file $XB_POPULATE_LOG as
 * "<thread id> <process id> <bytes>" (which thread did it, and how
 * much), and with XB_POPULATE_FAIL=1 answered ENOMEM, as on a host that
 * has no memory to give; with XB_POPULATE_WAIT=FILE it first waits (30 s
 * at most) until FILE exists, as a populate held up by compaction would
 * (the test sees what goes on meanwhile). With XB_HUGEPAGE_REFUSE=1
 * madvise(MADV_HUGEPAGE)
 * is answered EINVAL, as by a kernel without transparent huge pages.
 * Every other call goes to the C library's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void record(size_t len)
{
	const char *path = getenv("XB_POPULATE_LOG");
	char line[96];
	int fd, n;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%d %d %zu\n", gettid(), getpid(),
		     len);
	if (write(fd, line, (size_t)n) < 0)
		perror(path);
	close(fd);
}

int madvise(void *addr, size_t len, int advice)
{
	static int (*real)(void *, size_t, int);
	const char *fail;

	if (!real)
		real = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT,
							    "madvise");
	if (advice == MADV_POPULATE_WRITE) {
		const char *hold = getenv("XB_POPULATE_WAIT");

		record(len);
		for (int i = 0; hold && access(hold, F_OK) && i < 3000; i++)
			usleep(10000);
		fail = getenv("XB_POPULATE_FAIL");
		if (fail && !strcmp(fail, "1")) {
			errno = ENOMEM;
			return -1;
		}
	}
	fail = getenv("XB_HUGEPAGE_REFUSE");
	if (advice == MADV_HUGEPAGE && fail && !strcmp(fail, "1")) {
		errno = EINVAL;
		return -1;
	}
	return real(addr, len, advice);
}
