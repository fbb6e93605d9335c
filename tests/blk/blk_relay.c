/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_relay.c - the floor of a two-process block backend on this machine
 * (a measuring tool for bench/blk-floor.sh, not a test).
 *
 * The least any split-driver backend can do per I/O: a frontend process
 * puts a request in shared memory and, if the backend sleeps, wakes it
 * (an eventfd write: the cheapest notification Linux has); the backend
 * io_submit()s it (libaio, O_DIRECT, on the real file), waits for the
 * completion, puts the response in shared memory and, if the frontend
 * sleeps, wakes it. No grants, no xenstore, no validation, no journal: only
 * the two processes and their two wake-ups. The frontend always sleeps
 * when it has nothing to do, as Linux blkfront (interrupt-driven) does;
 * the backend may poll for up to -p microseconds before sleeping (requests
 * and libaio's completion ring, both in memory), as xenbackd does.
 *
 *   blk_relay -f FILE -m native|relay [-w read|write] [-b BYTES] [-Q DEPTH]
 *             [-t SECONDS] [-p POLL_US] [-F CPUS] [-B CPUS] [-S]
 *             [-L malloc|thp|4k] [-V]
 *
 * -S: sequential offsets (each I/O follows the previous one, wrapping at
 * the end of the file) instead of random ones. -L: how the I/O buffers
 * are laid out in memory: malloc (posix_memalign, the default), thp (a
 * 2 MiB-aligned region with MADV_HUGEPAGE: a buffer of up to 2 MiB is
 * physically contiguous) or 4k (MADV_NOHUGEPAGE, pages faulted in a
 * shuffled order: physically scattered 4 KiB pages, as a pool of single
 * pages gives). With -L, the mean number of physically contiguous runs
 * per buffer (what the block layer counts as segments, before its
 * max_segment_size limits) is printed as segs= (from /proc/self/pagemap,
 * root only; 0 when unreadable).
 *
 * -V: each I/O given as one 4 KiB iovec per page of its buffer, the
 * pages in descending order (what a backend mapping grants that come
 * back reversed must submit: docs/perf.md, "Reversed grants"), instead
 * of one iovec; the same pages, so the difference is the per-iovec cost.
 *
 * -F and -B pin the frontend and the backend (CPU lists as taskset's,
 * e.g. 0 or 0-1). native is fio's loop (io_submit, then io_getevents sleeping) in one
 * process. Prints "RELAY mode=M ios=N secs=S iops=I cpu_us=C" where C is
 * the CPU per I/O of the backend process (relay) or of the process (native).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libaio.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_QD 64
#define RING 128 /* power of two, > MAX_QD */

struct shared {
	/* requests: offsets, frontend -> backend */
	uint32_t req_prod, req_cons;
	uint64_t req[RING];
	/* responses: slot numbers, backend -> frontend */
	uint32_t rsp_prod, rsp_cons;
	uint32_t rsp[RING];
	uint32_t back_sleeping, front_sleeping;
	uint64_t back_cpu_us;
	uint32_t stop;
};

static const char *front_cpus, *back_cpus;


static struct {
	const char *file;
	bool relay, write;
	size_t bs;
	unsigned int qd;
	double secs;
	unsigned int poll_us;
	bool seq;
	const char *layout;
	bool reversed;
} o = { .bs = 4096, .qd = 1, .secs = 2 };

static uint64_t seq_off;
static uint8_t *buf_base;	/* slot i's buffer at buf_base + i * bs */
static double buf_segs;

static uint64_t blocks;
static uint64_t rng = 88172645463325252ull;

static uint64_t next_off(void)
{
	if (o.seq) {
		uint64_t off = seq_off;

		seq_off = (seq_off + 1) % blocks;
		return off * o.bs;
	}
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng % blocks) * o.bs;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t self_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
	       (uint64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* Physically contiguous runs in [b, b + len) (0: pagemap unreadable). */
static unsigned int phys_runs(const uint8_t *b, size_t len)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t prev = 0, e;
	unsigned int runs = 0;
	size_t i;

	if (fd < 0)
		return 0;
	for (i = 0; i < len; i += 4096) {
		off_t at = (off_t)((uintptr_t)(b + i) / 4096 * 8);

		if (pread(fd, &e, 8, at) != 8 || !(e & (1ull << 63)) ||
		    !(e & ((1ull << 55) - 1))) {
			runs = 0;
			break;
		}
		e &= (1ull << 55) - 1;
		if (!i || e != prev + 1)
			runs++;
		prev = e;
	}
	close(fd);
	return runs;
}

static void *buffers(void)
{
	size_t len = o.bs * MAX_QD, huge = 2u << 20, i, n = len / 4096;
	uint8_t *b;
	void *m;

	if (!o.layout || !strcmp(o.layout, "malloc")) {
		if (posix_memalign(&m, 4096, len))
			die("posix_memalign");
		b = m;
		memset(b, 0x5a, len);
	} else if (!strcmp(o.layout, "thp")) {
		m = mmap(NULL, len + huge, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			die("mmap");
		b = (uint8_t *)(((uintptr_t)m + huge - 1) & ~(uintptr_t)(huge - 1));
		if (madvise(b, len, MADV_HUGEPAGE) < 0)
			die("madvise");
		memset(b, 0x5a, len);
	} else {
		uint32_t *order = malloc(n * sizeof(*order));

		m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || !order)
			die("mmap");
		b = m;
		if (madvise(b, len, MADV_NOHUGEPAGE) < 0)
			die("madvise");
		for (i = 0; i < n; i++)
			order[i] = (uint32_t)i;
		for (i = n - 1; i > 0; i--) {
			size_t j;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			j = (size_t)(rng % (i + 1));
			uint32_t t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (i = 0; i < n; i++)
			b[(size_t)order[i] * 4096] = 0x5a;
		free(order);
	}
	if (o.layout) {
		unsigned int runs = 0;

		for (i = 0; i < o.qd; i++)
			runs += phys_runs(b + i * o.bs, o.bs);
		buf_segs = (double)runs / o.qd;
	}
	buf_base = b;
	return b;
}

#define VEC_MAX 256
static struct iovec vec[MAX_QD][VEC_MAX];

/* -V: the buffer's pages as iovecs, last page first. */
static void prep_reversed(struct iocb *cb, int fd, uint8_t *buf,
			  uint64_t off, unsigned int slot)
{
	unsigned int n = (unsigned int)(o.bs / 4096), i;

	for (i = 0; i < n; i++) {
		vec[slot][i].iov_base = buf + (size_t)(n - 1 - i) * 4096;
		vec[slot][i].iov_len = 4096;
	}
	if (o.write)
		io_prep_pwritev(cb, fd, vec[slot], (int)n, (long long)off);
	else
		io_prep_preadv(cb, fd, vec[slot], (int)n, (long long)off);
}

static void prep(struct iocb *cb, int fd, void *buf, uint64_t off)
{
	if (o.reversed) {
		prep_reversed(cb, fd, buf, off, (unsigned int)(((uint8_t *)buf -
						 buf_base) / o.bs));
		return;
	}
	if (o.write)
		io_prep_pwrite(cb, fd, buf, o.bs, (long long)off);
	else
		io_prep_pread(cb, fd, buf, o.bs, (long long)off);
}

/* fio's loop: keep qd in flight, sleep in io_getevents for one. */
static void run_native(int fd)
{
	uint8_t *buf = buffers();
	struct iocb cbs[MAX_QD], *p[MAX_QD];
	struct io_event ev[MAX_QD];
	io_context_t ctx = 0;
	uint64_t ios = 0, c0;
	double t0, el = 0;
	unsigned int i;
	int n;

	if (io_setup(MAX_QD, &ctx) < 0)
		die("io_setup");
	for (i = 0; i < o.qd; i++) {
		prep(&cbs[i], fd, buf + i * o.bs, next_off());
		cbs[i].data = (void *)(uintptr_t)i;
		p[i] = &cbs[i];
	}
	c0 = self_cpu_us();
	t0 = now();
	if (io_submit(ctx, o.qd, p) != (int)o.qd)
		die("io_submit");
	for (;;) {
		n = io_getevents(ctx, 1, MAX_QD, ev, NULL);
		if (n < 0)
			die("io_getevents");
		for (i = 0; i < (unsigned int)n; i++) {
			unsigned int k = (unsigned int)(uintptr_t)ev[i].data;

			if (ev[i].res != o.bs)
				die("short I/O");
			ios++;
			prep(&cbs[k], fd, buf + k * o.bs, next_off());
			cbs[k].data = (void *)(uintptr_t)k;
			p[i] = &cbs[k];
		}
		el = now() - t0;
		if (el >= o.secs)
			break;
		if (io_submit(ctx, n, p) != n)
			die("io_submit");
	}
	printf("RELAY mode=native ios=%" PRIu64 " secs=%.3f iops=%.0f cpu_us=%.2f",
	       ios, el, (double)ios / el,
	       (double)(self_cpu_us() - c0) / (double)ios);
	if (o.layout)
		printf(" segs=%.1f", buf_segs);
	printf("\n");
}

/* libaio's completion ring, mapped by io_setup (as blk/queue.c reads it). */
struct aio_ring {
	unsigned int id, nr, head, tail;
	unsigned int magic, compat_features, incompat_features;
	unsigned int header_length;
	struct io_event events[];
};

static bool aio_pending(io_context_t ctx)
{
	struct aio_ring *r = (struct aio_ring *)ctx;

	return __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) != r->head;
}

static int aio_reap(io_context_t ctx, struct io_event *ev)
{
	struct aio_ring *r = (struct aio_ring *)ctx;
	unsigned int head = r->head;
	unsigned int tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	int n = 0;

	while (head != tail) {
		ev[n++] = r->events[head];
		head = head + 1 < r->nr ? head + 1 : 0;
	}
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	return n;
}

static void kick(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
}

static void drain(int efd)
{
	uint64_t v;

	if (read(efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		die("eventfd read");
}

/*
 * The backend: take requests, submit them, answer completions; poll up to
 * poll_us when idle, then sleep on the request eventfd and libaio's.
 */
static void backend(struct shared *sh, int fd, int req_efd, int rsp_efd)
{
	uint8_t *buf = buffers();
	struct iocb cbs[MAX_QD], *p[MAX_QD];
	struct io_event ev[MAX_QD * 2];
	io_context_t ctx = 0;
	int aio_efd = eventfd(0, EFD_NONBLOCK);
	uint64_t c0 = self_cpu_us();
	unsigned int inflight = 0, free_slot[MAX_QD], nr_free = MAX_QD;

	if (aio_efd < 0 || io_setup(MAX_QD, &ctx) < 0)
		die("backend setup");
	for (unsigned int i = 0; i < MAX_QD; i++)
		free_slot[i] = i;
	for (;;) {
		uint32_t prod = __atomic_load_n(&sh->req_prod, __ATOMIC_ACQUIRE);
		int nsub = 0, n, i;
		bool did = false;

		while (sh->req_cons != prod && nr_free) {
			unsigned int k = free_slot[--nr_free];

			prep(&cbs[k], fd, buf + k * o.bs,
			     sh->req[sh->req_cons % RING]);
			io_set_eventfd(&cbs[k], aio_efd);
			cbs[k].data = (void *)(uintptr_t)k;
			p[nsub++] = &cbs[k];
			sh->req_cons++;
		}
		if (nsub) {
			if (io_submit(ctx, nsub, p) != nsub)
				die("backend io_submit");
			inflight += (unsigned int)nsub;
			did = true;
		}
		n = aio_reap(ctx, ev);
		for (i = 0; i < n; i++) {
			if (ev[i].res != o.bs)
				die("backend short I/O");
			free_slot[nr_free++] = (unsigned int)(uintptr_t)ev[i].data;
			sh->rsp[sh->rsp_prod % RING] =
				(uint32_t)(uintptr_t)ev[i].data;
			__atomic_store_n(&sh->rsp_prod, sh->rsp_prod + 1,
					 __ATOMIC_RELEASE);
		}
		if (n) {
			inflight -= (unsigned int)n;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (__atomic_load_n(&sh->front_sleeping,
					    __ATOMIC_ACQUIRE))
				kick(rsp_efd);
			did = true;
		}
		if (__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE) && !inflight)
			break;
		if (did)
			continue;
		/* Idle: poll, then sleep. */
		uint64_t t0 = now_ns();

		while (now_ns() - t0 < (uint64_t)o.poll_us * 1000 &&
		       __atomic_load_n(&sh->req_prod, __ATOMIC_ACQUIRE) ==
			       sh->req_cons &&
		       !aio_pending(ctx))
			__builtin_ia32_pause();
		if (__atomic_load_n(&sh->req_prod, __ATOMIC_ACQUIRE) !=
			    sh->req_cons ||
		    aio_pending(ctx))
			continue;
		__atomic_store_n(&sh->back_sleeping, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&sh->req_prod, __ATOMIC_SEQ_CST) ==
			    sh->req_cons &&
		    !aio_pending(ctx) &&
		    !__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
			struct pollfd pf[2] = { { req_efd, POLLIN, 0 },
						{ aio_efd, POLLIN, 0 } };

			if (poll(pf, 2, 1000) < 0 && errno != EINTR)
				die("backend poll");
			if (pf[0].revents)
				drain(req_efd);
			if (pf[1].revents)
				drain(aio_efd);
		}
		__atomic_store_n(&sh->back_sleeping, 0, __ATOMIC_SEQ_CST);
	}
	sh->back_cpu_us = self_cpu_us() - c0;
}

/* The frontend, as blkfront: push, notify if the backend sleeps, sleep
 * until a response. */
static void frontend(struct shared *sh, int req_efd, int rsp_efd)
{
	uint64_t ios = 0;
	double t0 = now(), el = 0;
	unsigned int i;

	for (i = 0; i < o.qd; i++)
		sh->req[sh->req_prod % RING + i] = next_off();
	__atomic_store_n(&sh->req_prod, sh->req_prod + o.qd, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sh->back_sleeping, __ATOMIC_SEQ_CST))
		kick(req_efd);
	for (;;) {
		uint32_t prod = __atomic_load_n(&sh->rsp_prod, __ATOMIC_ACQUIRE);
		unsigned int got = 0;

		while (sh->rsp_cons != prod) {
			sh->rsp_cons++;
			got++;
		}
		if (got) {
			ios += got;
			el = now() - t0;
			if (el >= o.secs)
				break;
			for (i = 0; i < got; i++)
				sh->req[(sh->req_prod + i) % RING] = next_off();
			__atomic_store_n(&sh->req_prod, sh->req_prod + got,
					 __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&sh->back_sleeping,
					    __ATOMIC_SEQ_CST))
				kick(req_efd);
			continue;
		}
		__atomic_store_n(&sh->front_sleeping, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&sh->rsp_prod, __ATOMIC_SEQ_CST) ==
		    sh->rsp_cons) {
			struct pollfd pf = { rsp_efd, POLLIN, 0 };

			if (poll(&pf, 1, 1000) < 0 && errno != EINTR)
				die("frontend poll");
			drain(rsp_efd);
		}
		__atomic_store_n(&sh->front_sleeping, 0, __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	kick(req_efd);
	printf("RELAY mode=relay ios=%" PRIu64 " secs=%.3f iops=%.0f",
	       ios, el, (double)ios / el);
}

/* Pins the calling process to a CPU list ("0", "1", "0-1", "0,1"). */
static void pin(const char *cpus)
{
	cpu_set_t set;
	const char *c = cpus;

	if (!cpus)
		return;
	CPU_ZERO(&set);
	while (*c) {
		char *end;
		unsigned long a = strtoul(c, &end, 10), b = a;

		if (*end == '-')
			b = strtoul(end + 1, &end, 10);
		for (; a <= b && a < CPU_SETSIZE; a++)
			CPU_SET(a, &set);
		c = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			break;
	}
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

static void run_relay(int fd)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int req_efd = eventfd(0, EFD_NONBLOCK);
	int rsp_efd = eventfd(0, EFD_NONBLOCK);
	uint64_t ios;
	pid_t pid;
	int st;

	if (sh == MAP_FAILED || req_efd < 0 || rsp_efd < 0)
		die("relay setup");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		pin(back_cpus);
		backend(sh, fd, req_efd, rsp_efd);
		_exit(0);
	}
	pin(front_cpus);
	frontend(sh, req_efd, rsp_efd);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		die("backend failed");
	ios = sh->rsp_cons;
	printf(" cpu_us=%.2f\n", (double)sh->back_cpu_us / (double)ios);
}

int main(int argc, char **argv)
{
	struct stat st;
	int c, fd;

	while ((c = getopt(argc, argv, "f:m:w:b:Q:t:p:F:B:SL:V")) != -1) {
		switch (c) {
		case 'f': o.file = optarg; break;
		case 'm': o.relay = !strcmp(optarg, "relay"); break;
		case 'w': o.write = !strcmp(optarg, "write"); break;
		case 'b': o.bs = strtoul(optarg, NULL, 0); break;
		case 'Q': o.qd = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 't': o.secs = strtod(optarg, NULL); break;
		case 'p': o.poll_us = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'F': front_cpus = optarg; break;
		case 'B': back_cpus = optarg; break;
		case 'S': o.seq = true; break;
		case 'L': o.layout = optarg; break;
		case 'V': o.reversed = true; break;
		default:
			fprintf(stderr, "usage: see the header of blk_relay.c\n");
			return 2;
		}
	}
	if (!o.file || !o.qd || o.qd > MAX_QD || o.bs < 512 || o.bs % 512 ||
	    (o.reversed && (o.bs % 4096 || o.bs / 4096 > VEC_MAX)))
		return fprintf(stderr, "blk_relay: bad arguments\n"), 2;
	fd = open(o.file, (o.write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0 || fstat(fd, &st) < 0)
		die(o.file);
	blocks = (uint64_t)st.st_size / o.bs;
	if (!blocks)
		return fprintf(stderr, "blk_relay: file too small\n"), 2;
	rng ^= (uint64_t)getpid() * 2654435761u;
	if (o.relay)
		run_relay(fd);
	else
		run_native(fd);
	return 0;
}
