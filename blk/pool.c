/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk/pool.c - a queue's data pages (copy mode's buffers), handed out in
 * physically contiguous runs where it can.
 *
 * Why runs: the block layer counts a request's segments by physical
 * contiguity, and a virtio disk takes at most max_segments of them (254
 * here), so 1 MiB on 256 scattered 4 KiB pages is split in two device
 * requests and each one costs the host more than one run does (native
 * reads of 1 MiB: ~3.1 GB/s on one contiguous buffer, ~1 GB/s on 256
 * scattered pages, docs/perf.md "Session 5"). The pool is one region,
 * 2 MiB aligned, with MADV_HUGEPAGE: where transparent huge pages are
 * enabled (or madvise'd, the usual default) it is backed by huge pages,
 * and a run of pages inside one of them is one physical segment. Without
 * huge pages the runs are still correct, merely scattered as before.
 *
 * The free pages are a bitmap; a request takes all its pages at once. A
 * run of n pages is placed at a multiple of n rounded up to a power of
 * two (at most 256 pages, 1 MiB), so that a run never straddles a huge
 * page boundary and small runs do not break up large aligned ones:
 * runs of up to 64 pages (one bitmap word) are sought from the bottom,
 * larger ones from the top. When no run is free the pages are taken one
 * by one (a request needs pages, not contiguity), so the pool's bound
 * and the queue's rule "take a request only when the largest one fits"
 * are unchanged. No allocation after blk_pool_init(); a take or a put is
 * a few bitmap words. A queue that uses its pool has it populated by its
 * worker before serving (blk_pool_populate()): faulting 4 MiB in, maybe
 * compacting memory for huge pages, is no work for the main thread,
 * which serves every device and the control socket.
 */
#include "blk/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define POOL_HUGE (2u << 20)
#define POOL_MAX_ALIGN 256u

int blk_pool_init(struct blk_pool *p, unsigned int nr_pages)
{
	size_t len = (size_t)nr_pages * RING_BLKIF_PAGE_SIZE;
	unsigned int i;
	uintptr_t a;

	memset(p, 0, sizeof(*p));
	if (!nr_pages || nr_pages % 64 || nr_pages > BLK_POOL_MAX_PAGES)
		return -EINVAL;
	/* Reserved address space only: untouched pages cost nothing. */
	p->map_len = len + POOL_HUGE;
	p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		return -ENOMEM;
	}
	a = ((uintptr_t)p->map + POOL_HUGE - 1) & ~(uintptr_t)(POOL_HUGE - 1);
	p->base = (uint8_t *)a;
	/* A kernel without THP refuses: the pool works, just scattered. */
	p->huge = madvise(p->base, len, MADV_HUGEPAGE) == 0;
	p->nr_pages = nr_pages;
	p->nr_free = nr_pages;
	for (i = 0; i < nr_pages / 64; i++)
		p->free[i] = ~0ull;
	return 0;
}

/*
 * Every page faulted in, writable, before the queue serves a request:
 * the hot path then never waits for the kernel to find memory (or to
 * compact it into a huge page, with THP defrag "madvise"), and a host
 * short of memory is an error here rather than an OOM kill or a stall
 * in the middle of a request. MADV_POPULATE_WRITE (Linux 5.14) answers
 * ENOMEM where a fault would not; an older kernel (EINVAL) gets the
 * pages touched one by one, as their first use would have.
 */
int blk_pool_populate(struct blk_pool *p)
{
	size_t len = (size_t)p->nr_pages * RING_BLKIF_PAGE_SIZE, off;

	if (!p->base)
		return -EINVAL;
	if (madvise(p->base, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	for (off = 0; off < len; off += RING_BLKIF_PAGE_SIZE)
		((volatile uint8_t *)p->base)[off] = 0;
	return 0;
}

/* /proc/self/pagemap: one 64-bit entry per page (Documentation/admin-guide/
 * mm/pagemap.rst): bit 63 present, bits 0-54 the frame number. */
#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_PFN ((1ull << 55) - 1)
#define POOL_HUGE_PAGES (POOL_HUGE / RING_BLKIF_PAGE_SIZE)

bool blk_pool_contiguous(struct blk_pool *p)
{
	uint64_t e[BLK_POOL_MAX_PAGES];
	size_t len = (size_t)p->nr_pages * sizeof(e[0]);
	unsigned int i;
	ssize_t n;
	int fd;

	if (!p->huge || !p->nr_pages)
		return false;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, e, len,
		  (off_t)((uintptr_t)p->base / RING_BLKIF_PAGE_SIZE *
			  sizeof(e[0])));
	close(fd);
	if (n != (ssize_t)len)
		return false;
	for (i = 0; i < p->nr_pages; i++) {
		uint64_t pfn = e[i] & PAGEMAP_PFN;

		if (!(e[i] & PAGEMAP_PRESENT) || !pfn)
			return false;
		if (i % POOL_HUGE_PAGES &&
		    pfn != (e[i - 1] & PAGEMAP_PFN) + 1)
			return false;
	}
	return true;
}

void blk_pool_destroy(struct blk_pool *p)
{
	if (p->map)
		munmap(p->map, p->map_len);
	memset(p, 0, sizeof(*p));
}

static unsigned int run_align(unsigned int n)
{
	unsigned int a = 1;

	while (a < n && a < POOL_MAX_ALIGN)
		a <<= 1;
	return a;
}

static uint64_t low_bits(unsigned int n)
{
	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/* n <= 64 pages inside one word, from the bottom; -1 when none is free. */
static int find_small(const struct blk_pool *p, unsigned int n)
{
	unsigned int a = run_align(n), w, b;
	uint64_t m = low_bits(n);

	for (w = 0; w < p->nr_pages / 64; w++) {
		uint64_t f = p->free[w];

		if (!f)
			continue;
		if (n == 1)
			return (int)(w * 64 + (unsigned int)__builtin_ctzll(f));
		for (b = 0; b + n <= 64; b += a)
			if (((f >> b) & m) == m)
				return (int)(w * 64 + b);
	}
	return -1;
}

/* n > 64 pages: whole words then a part, aligned, from the top. */
static int find_large(const struct blk_pool *p, unsigned int n)
{
	unsigned int a = run_align(n), words = n / 64, w, i;
	uint64_t tail = low_bits(n % 64);
	int start;

	for (start = (int)((p->nr_pages - n) / a * a); start >= 0;
	     start -= (int)a) {
		w = (unsigned int)start / 64;
		for (i = 0; i < words && p->free[w + i] == ~0ull; i++)
			;
		if (i < words)
			continue;
		if (tail && (p->free[w + words] & tail) != tail)
			continue;
		return start;
	}
	return -1;
}

static void take_page(struct blk_pool *p, unsigned int pg)
{
	p->free[pg / 64] &= ~(1ull << (pg % 64));
}

bool blk_pool_take(struct blk_pool *p, unsigned int n, uint32_t *page)
{
	unsigned int i, w;
	int start;

	if (!n || n > p->nr_free)
		return false;
	start = n <= 64 ? find_small(p, n) : find_large(p, n);
	if (start >= 0) {
		for (i = 0; i < n; i++) {
			page[i] = (uint32_t)start + i;
			take_page(p, page[i]);
		}
		p->nr_free -= n;
		p->nr_runs++;
		return true;
	}
	/* Fragmented: any free pages, lowest first. */
	for (i = 0, w = 0; i < n; w++) {
		while (p->free[w] && i < n) {
			unsigned int pg = w * 64 +
					  (unsigned int)__builtin_ctzll(p->free[w]);

			take_page(p, pg);
			page[i++] = pg;
		}
	}
	p->nr_free -= n;
	p->nr_scattered++;
	return true;
}

void blk_pool_put(struct blk_pool *p, const uint32_t *page, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p->free[page[i] / 64] |= 1ull << (page[i] % 64);
	p->nr_free += n;
}
