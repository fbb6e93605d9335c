// SPDX-License-Identifier: MIT
/*
 * hv.c: attaching a process to its simulated host, the host lock, domain
 * lookup, reaping what dead processes held, domain memory and grant pins.
 */
#include "tests/xensim/hv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t host_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct xsim_host *the_host;
static unsigned int host_refs;

/* Process-local exclusion for the host lock: flock() is per open file,
 * so threads of one process would all "hold" it at once. */
static pthread_mutex_t lock_mutex = PTHREAD_MUTEX_INITIALIZER;

struct mem_cache {
	uint64_t generation;
	void *base;
	int fd;
};
static struct mem_cache mem_cache[XSIM_MAX_DOMS];
static pthread_mutex_t mem_mutex = PTHREAD_MUTEX_INITIALIZER;

static int map_hv(struct xsim_host *h, int create)
{
	char path[400];
	int fd;
	void *p;

	snprintf(path, sizeof(path), "%s/hv", h->shm);
	fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0),
		  0600);
	if (fd < 0)
		return -1;
	if (create && ftruncate(fd, sizeof(struct xsim_hv)) < 0)
		goto fail;
	p = mmap(NULL, sizeof(struct xsim_hv), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	close(fd);
	h->hv = p;
	if (!create && h->hv->magic != XSIM_MAGIC) {
		munmap(p, sizeof(struct xsim_hv));
		errno = EPROTO;
		return -1;
	}
	return 0;
fail:
	close(fd);
	return -1;
}

static int open_lock(struct xsim_host *h)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/lock", h->shm);
	h->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	return h->lock_fd < 0 ? -1 : 0;
}

static int resolve_shm(struct xsim_host *h, const char *dir)
{
	char link[300];

	if (strlen(dir) >= sizeof(h->dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(h->dir, dir);
	snprintf(link, sizeof(link), "%s/shm", dir);
	if (!realpath(link, h->shm))
		return -1;
	return 0;
}

int xsim_host_create(const char *dir, const char *shm_dir)
{
	struct xsim_host h = { .lock_fd = -1 };
	struct xsim_hv *hv;
	unsigned int i;

	(void)shm_dir;
	if (resolve_shm(&h, dir) < 0 || map_hv(&h, 1) < 0)
		return -1;
	hv = h.hv;
	atomic_store(&hv->next_generation, 1);
	atomic_store(&hv->next_handle_id, 1);
	for (i = 0; i < XSIM_MAX_MAPS; i++)
		hv->maps[i].next_free = i + 2 <= XSIM_MAX_MAPS ? i + 2 : 0;
	hv->map_free_head = 1;
	hv->maps_inited = 1;
	__atomic_store_n(&hv->magic, XSIM_MAGIC, __ATOMIC_RELEASE);
	munmap(hv, sizeof(*hv));
	return 0;
}

struct xsim_host *xsim_host_get(void)
{
	struct xsim_host *h;
	const char *dir, *dom;
	char *end;
	unsigned long v;

	pthread_mutex_lock(&host_mutex);
	if (the_host) {
		host_refs++;
		pthread_mutex_unlock(&host_mutex);
		return the_host;
	}
	dir = getenv("XENSIM_HOST");
	if (!dir || !*dir) {
		pthread_mutex_unlock(&host_mutex);
		errno = ENOENT;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		goto fail;
	h->lock_fd = -1;
	dom = getenv("XENSIM_DOMID");
	if (dom && *dom) {
		errno = 0;
		v = strtoul(dom, &end, 10);
		if (errno || *end || v >= XSIM_DOMID_SELF) {
			errno = EINVAL;
			goto fail;
		}
		h->domid = v;
	}
	if (resolve_shm(h, dir) < 0 || map_hv(h, 0) < 0 || open_lock(h) < 0)
		goto fail;
	the_host = h;
	host_refs = 1;
	pthread_mutex_unlock(&host_mutex);
	return h;
fail:
	if (h) {
		int err = errno;

		if (h->hv)
			munmap(h->hv, sizeof(*h->hv));
		if (h->lock_fd >= 0)
			close(h->lock_fd);
		free(h);
		errno = err;
	}
	pthread_mutex_unlock(&host_mutex);
	return NULL;
}

/* The host stays attached for the life of the process once opened: cached
 * memory mappings may still be in use by other threads. */
void xsim_host_put(struct xsim_host *h)
{
	pthread_mutex_lock(&host_mutex);
	if (h == the_host && host_refs)
		host_refs--;
	pthread_mutex_unlock(&host_mutex);
}

void xsim_lock(struct xsim_host *h)
{
	pthread_mutex_lock(&lock_mutex);
	while (flock(h->lock_fd, LOCK_EX) < 0 && errno == EINTR)
		;
}

void xsim_unlock(struct xsim_host *h)
{
	flock(h->lock_fd, LOCK_UN);
	pthread_mutex_unlock(&lock_mutex);
}

int xsim_dom_slot_any(struct xsim_hv *hv, uint32_t domid)
{
	int i;

	for (i = 0; i < XSIM_MAX_DOMS; i++) {
		uint32_t st = atomic_load_explicit(&hv->doms[i].state,
						   memory_order_acquire);

		if (st != XSIM_DOM_FREE && hv->doms[i].domid == domid)
			return i;
	}
	return -1;
}

int xsim_dom_slot(struct xsim_hv *hv, uint32_t domid)
{
	int i = xsim_dom_slot_any(hv, domid);

	if (i >= 0 && atomic_load(&hv->doms[i].state) != XSIM_DOM_ALIVE)
		return -1;
	return i;
}

uint64_t xsim_proc_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* Fields after the command: state is field 3, starttime field 22. */
	if (p[1] == ' ' && p[2] == 'Z')
		return 0; /* a zombie holds nothing any more */
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	return start ? start : 1;
}

/*
 * This process's pid, without a system call on every grant pin (glibc no
 * longer caches getpid()): forgotten in a child of fork(), which runs the
 * atfork handlers. The simulated hypervisor's lock and map records need
 * it on every grant copy; real Xen's hypercall pays nothing like it.
 */
static _Atomic pid_t self_pid;
static pthread_once_t self_pid_once = PTHREAD_ONCE_INIT;

static void forget_self_pid(void)
{
	atomic_store(&self_pid, 0);
}

static void register_forget(void)
{
	pthread_atfork(NULL, NULL, forget_self_pid);
}

pid_t xsim_self_pid(void)
{
	pid_t pid = atomic_load_explicit(&self_pid, memory_order_relaxed);

	if (!pid) {
		pthread_once(&self_pid_once, register_forget);
		pid = getpid();
		atomic_store(&self_pid, pid);
	}
	return pid;
}

/* This process's start time, read once per process (fork changes pid):
 * mapping a grant records it per page. */
uint64_t xsim_self_start(void)
{
	static _Atomic pid_t cached_pid;
	static _Atomic uint64_t cached_start;
	pid_t pid = xsim_self_pid();

	if (atomic_load(&cached_pid) != pid) {
		atomic_store(&cached_start, xsim_proc_start(pid));
		atomic_store(&cached_pid, pid);
	}
	return atomic_load(&cached_start);
}

bool xsim_proc_alive(pid_t pid, uint64_t start)
{
	return xsim_proc_start(pid) == start;
}

void xsim_mem_path(struct xsim_host *h, uint32_t domid, uint64_t gen,
		   char *buf, size_t len)
{
	snprintf(buf, len, "%s/mem.%u.%llu", h->shm, domid,
		 (unsigned long long)gen);
}

void *xsim_dom_mem(struct xsim_host *h, int slot, int *fdp)
{
	struct xsim_dom *d = xsim_dom(h, slot);
	struct mem_cache *c = &mem_cache[slot];
	char path[400];
	void *base;
	int fd;

	pthread_mutex_lock(&mem_mutex);
	if (c->base && c->generation == d->generation) {
		base = c->base;
		if (fdp)
			*fdp = c->fd;
		pthread_mutex_unlock(&mem_mutex);
		return base;
	}
	xsim_mem_path(h, d->domid, d->generation, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		pthread_mutex_unlock(&mem_mutex);
		return NULL;
	}
	base = mmap(NULL, (size_t)d->nr_pages * XSIM_PAGE_SIZE,
		    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		close(fd);
		pthread_mutex_unlock(&mem_mutex);
		return NULL;
	}
	/* A stale entry (the slot was reused) stays mapped on purpose:
	 * another thread may still be copying through it. Its fd goes:
	 * a daemon outlives many domains. */
	if (c->base)
		close(c->fd);
	c->base = base;
	c->fd = fd;
	c->generation = d->generation;
	if (fdp)
		*fdp = fd;
	pthread_mutex_unlock(&mem_mutex);
	return base;
}

/* ---- grant pins (Xen's active grant entries) ---- */

/*
 * The lock word holds its owner's pid. In Xen this lock lives in the
 * hypervisor, where no caller can die holding it; here a process killed
 * inside the section (a backend under SIGKILL) would leave it held, so a
 * waiter that finds the owner gone takes it over.
 */
static void gt_lock(struct xsim_dom *d)
{
	uint32_t self = (uint32_t)xsim_self_pid(), owner = 0;
	unsigned int spins = 0;

	while (!atomic_compare_exchange_weak_explicit(
		&d->gt_lock, &owner, self, memory_order_acquire,
		memory_order_relaxed)) {
		if (owner && ++spins > 64) {
			spins = 0;
			if (kill((pid_t)owner, 0) < 0 && errno == ESRCH &&
			    atomic_compare_exchange_strong(&d->gt_lock, &owner,
							   self))
				return;
			sched_yield();
		}
		owner = 0;
	}
}

static void gt_unlock(struct xsim_dom *d)
{
	atomic_store_explicit(&d->gt_lock, 0, memory_order_release);
}

/* The first 32 bits of a v1 entry are flags (low half) and domid (high
 * half); Xen updates them together with one cmpxchg, as does the guest. */
static _Atomic uint32_t *entry_header(struct xsim_dom *d, uint32_t gref)
{
	return (_Atomic uint32_t *)&d->gnttab[gref];
}

static bool pin_would_overflow(uint32_t pin)
{
	uint32_t writes = pin >> 16, reads = (pin & 0xffff) - writes;

	return reads >= XSIM_PIN_MAX || writes >= XSIM_PIN_MAX;
}

int xsim_grant_pin(struct xsim_host *h, int slot, uint32_t gref,
		   uint32_t mapper, bool write, bool map, uint32_t *frame)
{
	struct xsim_dom *d = xsim_dom(h, slot);
	_Atomic uint32_t *hdr;
	uint32_t old, new, flags, mask = GTF_type_mask;
	uint32_t f;
	int retries;

	if (gref >= XSIM_NR_GRANTS)
		return GNTST_bad_gntref;
	if (atomic_load(&d->state) != XSIM_DOM_ALIVE)
		return GNTST_bad_domain;
	if (map)
		mask |= GTF_sub_page;
	hdr = entry_header(d, gref);
	gt_lock(d);
	/* As Xen, refuse rather than let a pin count overflow: its 8-bit
	 * read and write pin counters (act->pin) refuse a new pin once one
	 * of them reached 128 (the 0x80808080 check of map_grant_ref and
	 * acquire_grant_for_copy). Here the low half counts every pin, the
	 * high half the write ones. */
	if (pin_would_overflow(atomic_load(&d->pin[gref]))) {
		gt_unlock(d);
		return GNTST_general_error;
	}
	old = atomic_load(hdr);
	for (retries = 0;; retries++) {
		flags = old & 0xffff;
		if ((flags & mask) != GTF_permit_access ||
		    (old >> 16) != mapper ||
		    (write && (flags & GTF_readonly)) || retries > 4) {
			gt_unlock(d);
			return GNTST_general_error;
		}
		new = old | GTF_reading | (write ? GTF_writing : 0);
		if (atomic_compare_exchange_strong(hdr, &old, new))
			break;
	}
	f = __atomic_load_n(&d->gnttab[gref].frame, __ATOMIC_ACQUIRE);
	if (f >= d->nr_pages) {
		uint32_t pin = atomic_load(&d->pin[gref]);
		uint32_t clear = 0;

		if (!(pin >> 16))
			clear |= GTF_writing;
		if (!pin)
			clear |= GTF_reading;
		atomic_fetch_and(hdr, ~clear);
		gt_unlock(d);
		return GNTST_general_error;
	}
	atomic_fetch_add(&d->pin[gref], XSIM_PIN_R | (write ? XSIM_PIN_W : 0));
	gt_unlock(d);
	*frame = f;
	return GNTST_okay;
}

void xsim_grant_unpin(struct xsim_host *h, int slot, uint32_t gref,
		      bool write)
{
	struct xsim_dom *d = xsim_dom(h, slot);
	uint32_t pin, clear = 0;

	gt_lock(d);
	pin = atomic_fetch_sub(&d->pin[gref],
			       XSIM_PIN_R | (write ? XSIM_PIN_W : 0));
	pin -= XSIM_PIN_R | (write ? XSIM_PIN_W : 0);
	if (!(pin >> 16))
		clear |= GTF_writing;
	if (!pin)
		clear |= GTF_reading;
	if (clear)
		atomic_fetch_and(entry_header(d, gref), ~clear);
	gt_unlock(d);
}

/* ---- reaping ---- */

void xsim_dom_maybe_free_locked(struct xsim_host *h, int slot)
{
	struct xsim_dom *d = xsim_dom(h, slot);
	char path[400];
	uint32_t p;

	if (atomic_load(&d->state) != XSIM_DOM_DYING || d->nr_maps)
		return;
	for (p = 1; p < XSIM_NR_PORTS; p++)
		if (atomic_load(&d->ports[p].state) != XSIM_PORT_FREE)
			xsim_port_close_locked(h, slot, p);
	xsim_mem_path(h, d->domid, d->generation, path, sizeof(path));
	unlink(path);
	atomic_store(&d->state, XSIM_DOM_FREE);
}

static void reap_handle(struct xsim_host *h, struct xsim_handle_rec *r)
{
	char path[400];
	uint32_t p;
	int s;

	for (s = 0; s < XSIM_MAX_DOMS; s++) {
		struct xsim_dom *d = xsim_dom(h, s);

		if (atomic_load(&d->state) == XSIM_DOM_FREE)
			continue;
		for (p = 1; p < XSIM_NR_PORTS; p++)
			if (atomic_load(&d->ports[p].handle) == r->id &&
			    atomic_load(&d->ports[p].state) != XSIM_PORT_FREE)
				xsim_port_close_locked(h, s, p);
	}
	snprintf(path, sizeof(path), "%s/ev/%u", h->dir, r->id);
	unlink(path);
	r->id = 0;
}

/* One reap checks the same few processes many times: remember the last. */
struct alive_memo {
	pid_t pid;
	uint64_t start;
	bool alive;
};

static bool memo_alive(struct alive_memo *m, pid_t pid, uint64_t start)
{
	if (m->pid != pid || m->start != start) {
		m->pid = pid;
		m->start = start;
		m->alive = xsim_proc_alive(pid, start);
	}
	return m->alive;
}

void xsim_reap_locked(struct xsim_host *h)
{
	struct xsim_hv *hv = h->hv;
	struct alive_memo memo = { 0 };
	unsigned int i;

	for (i = 0; i < XSIM_MAX_HANDLES; i++) {
		struct xsim_handle_rec *r = &hv->handles[i];

		if (r->id && !memo_alive(&memo, r->pid, r->start))
			reap_handle(h, r);
	}
	for (i = 0; i < XSIM_MAX_MAPS; i++) {
		struct xsim_map_rec *m = &hv->maps[i];

		if (!m->used || memo_alive(&memo, m->pid, m->start))
			continue;
		xsim_grant_unpin(h, m->slot, m->gref, m->pin & XSIM_PIN_W);
		m->used = 0;
		m->next_free = hv->map_free_head;
		hv->map_free_head = i + 1;
		hv->doms[m->slot].nr_maps--;
		xsim_dom_maybe_free_locked(h, m->slot);
	}
}
