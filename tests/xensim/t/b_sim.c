// SPDX-License-Identifier: MIT
/*
 * b_sim.c: what the simulated hypervisor costs, against what the same work
 * costs natively, in the same run (`make bench`, bench/xensim.sh). Tells
 * the backends' benchmarks how much of their overhead is the simulation.
 *
 *   grant copy   4 KiB segments from a guest's grants, batches of 32,
 *                vs memcpy of the same bytes
 *   grant map    map+unmap of 32 granted pages, vs mmap+munmap of 32 pages
 *                of a shared file
 *   evtchn       notification round trip between two processes, vs a
 *                byte's round trip over two pipes
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "tests/xensim/t/tcommon.h"

#define PAGE 4096
#define BATCH 32

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *what, double sim, double native,
		   const char *unit, bool higher_better)
{
	printf("bench xensim %s: sim %.2f %s, native %.2f %s, ratio %.2f%s\n",
	       what, sim, unit, native, unit, sim / native,
	       higher_better ? "" : " (cost, lower is better)");
}

static void bench_copy(struct guest *gu, xengnttab_handle *gt, double secs)
{
	static uint8_t dst[BATCH][PAGE], src[BATCH][PAGE];
	xengnttab_grant_copy_segment_t segs[BATCH];
	long frame = guest_call(gu, G_ALLOC, BATCH, 0, 0, 0);
	double t0, t, sim, native;
	long n = 0;
	int i;

	memset(segs, 0, sizeof(segs));
	for (i = 0; i < BATCH; i++) {
		segs[i].flags = GNTCOPY_source_gref;
		segs[i].source.foreign.ref =
			guest_call(gu, G_GRANT, 0, frame + i, 1, 0);
		segs[i].source.foreign.domid = gu->domid;
		segs[i].dest.virt = dst[i];
		segs[i].len = PAGE;
	}
	t0 = now();
	do {
		xengnttab_grant_copy(gt, BATCH, segs);
		n++;
	} while ((t = now() - t0) < secs);
	sim = n * BATCH * PAGE / t / 1e9;
	n = 0;
	t0 = now();
	do {
		for (i = 0; i < BATCH; i++)
			memcpy(dst[i], src[i], PAGE);
		n++;
	} while ((t = now() - t0) < secs);
	native = n * BATCH * PAGE / t / 1e9;
	report("grant copy 4KiB x32", sim, native, "GB/s", true);
}

static void bench_map(struct guest *gu, xengnttab_handle *gt, double secs)
{
	long frame = guest_call(gu, G_ALLOC, BATCH, 0, 0, 0);
	uint32_t refs[BATCH];
	double t0, t, sim, native;
	char path[] = "/dev/shm/xb-xensim-bench.XXXXXX";
	long n = 0;
	int i, fd;

	for (i = 0; i < BATCH; i++)
		refs[i] = guest_call(gu, G_GRANT, 0, frame + i, 0, 0);
	t0 = now();
	do {
		void *p = xengnttab_map_domain_grant_refs(
			gt, BATCH, gu->domid, refs, PROT_READ | PROT_WRITE);

		if (!p)
			return;
		xengnttab_unmap(gt, p, BATCH);
		n++;
	} while ((t = now() - t0) < secs);
	sim = t / n / BATCH * 1e6;
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, BATCH * PAGE) < 0)
		return;
	unlink(path);
	n = 0;
	t0 = now();
	do {
		void *p = mmap(NULL, BATCH * PAGE, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);

		munmap(p, BATCH * PAGE);
		n++;
	} while ((t = now() - t0) < secs);
	close(fd);
	native = t / n / BATCH * 1e6;
	report("grant map+unmap per page", sim, native, "us", false);
}

static void bench_evtchn(struct guest *gu, xenevtchn_handle *x, double secs)
{
	long gport = guest_call(gu, G_UNBOUND, 0, 0, 0, 0);
	int port = xenevtchn_bind_interdomain(x, gu->domid, gport);
	struct pollfd pfd = { .fd = xenevtchn_fd(x), .events = POLLIN };
	int rounds = secs > 0.5 ? 20000 : 2000, i, a[2], b[2];
	double t0, sim, native;
	long ret;
	char c = 0;
	pid_t pid;

	if (port < 0)
		return;
	if (poll(&pfd, 1, 1000) > 0) /* the bind's own event */
		xenevtchn_unmask(x, xenevtchn_pending(x));
	if (write(gu->to, &(long[5]){ G_PINGPONG, gport, rounds, 0, 0 },
		  5 * sizeof(long)) < 0)
		return;
	t0 = now();
	for (i = 0; i < rounds; i++) {
		xenevtchn_notify(x, port);
		if (poll(&pfd, 1, 5000) <= 0)
			break;
		xenevtchn_unmask(x, xenevtchn_pending(x));
	}
	sim = (now() - t0) / rounds * 1e6;
	if (read(gu->from, &ret, sizeof(ret)) != sizeof(ret) || ret)
		return;
	if (pipe(a) < 0 || pipe(b) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(a[1]);
		close(b[0]);
		while (read(a[0], &c, 1) == 1 && write(b[1], &c, 1) == 1)
			;
		_exit(0);
	}
	t0 = now();
	for (i = 0; i < rounds; i++)
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			break;
	native = (now() - t0) / rounds * 1e6;
	close(a[1]);
	waitpid(pid, NULL, 0);
	report("evtchn round trip", sim, native, "us", false);
}

int main(int argc, char **argv)
{
	double secs = argc > 2 ? atof(argv[2]) : 1.0;
	struct guest gu;
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *x = xenevtchn_open(NULL, 0);

	if (!gt || !x || guest_start(&gu, argc > 1 ? atoi(argv[1]) : 5) < 0) {
		fprintf(stderr, "b_sim: set-up failed: %s\n", strerror(errno));
		return 1;
	}
	bench_copy(&gu, gt, secs);
	bench_map(&gu, gt, secs);
	bench_evtchn(&gu, x, secs);
	guest_stop(&gu);
	return 0;
}
