/*
 * journal.c - requests taken and not yet answered publicly, in a file that
 * outlives the daemon (see journal.h).
 *
 * The file: a header (geometry, req_cons) and 2 * nr_ents entries (at
 * most nr_ents requests are in flight, and as many answered but not yet
 * published). An entry is written whole before its state says so, and
 * req_cons moves only after the entry is taken, so a process killed at
 * any instruction leaves a journal its successor can read: a request
 * whose entry is not marked taken is still on the ring at req_cons.
 * Only the process dies, never the page cache, so stores need no flush;
 * release stores keep the compiler from reordering them.
 */
#include "backend/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xenstore/xbs.h"

#define JOURNAL_MAGIC 0x314a4258u /* "XBJ1" */

enum { ENT_FREE, ENT_TAKEN, ENT_ANSWERED };

struct jhdr {
	uint32_t magic;
	uint32_t nr_entries;
	uint32_t req_size;
	uint32_t req_cons; /* the next ring index to take */
};

struct jent {
	uint32_t state;
	uint32_t req_idx;
	uint32_t rsp_idx;
	uint32_t pad;
	unsigned char req[]; /* req_size bytes, rounded up to 8 */
};

struct xb_journal {
	struct jhdr *hdr;
	size_t map_bytes, ent_bytes;
	uint32_t nr_entries;
	size_t req_size;
	uint32_t *free;		/* stack of free entries */
	uint32_t nr_free;
	uint32_t *answered;	/* FIFO of answered entries, by rsp_idx */
	uint32_t ans_head, ans_count;
	char path[XBS_PATH_MAX + 64];
};

static char journal_dir[XBS_PATH_MAX] = "/run/xenbackd";

void xb_journal_set_dir(const char *dir)
{
	snprintf(journal_dir, sizeof(journal_dir), "%s", dir);
}

static struct jent *ent(struct xb_journal *j, uint32_t e)
{
	return (struct jent *)((char *)(j->hdr + 1) + (size_t)e * j->ent_bytes);
}

static void store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Signed distance: index a is before b on the ring. */
static bool before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static void journal_free(struct xb_journal *j)
{
	if (j->hdr)
		munmap(j->hdr, j->map_bytes);
	free(j->free);
	free(j->answered);
	free(j);
}

/* Bytes of an entry holding a request of req_size bytes. */
static size_t entry_bytes(size_t req_size)
{
	return sizeof(struct jent) + ((req_size + 7) & ~(size_t)7);
}

/* A journal found in the file: usable if its geometry is ours. */
static bool geometry_ok(struct xb_journal *j, const struct jhdr *h,
			off_t size)
{
	return h->magic == JOURNAL_MAGIC && h->nr_entries == j->nr_entries &&
	       h->req_size == j->req_size && (size_t)size == j->map_bytes;
}

/*
 * Reads what a dead predecessor left against the shared rsp_prod: frees
 * the entries whose answers were published, turns unpublished answers
 * back into taken requests, drops an entry taken past req_cons (the ring
 * still has it). 0, or -EPROTO when it contradicts the ring.
 */
static int recover(struct xb_journal *j, uint32_t rsp_prod, char *why,
		   size_t whylen)
{
	uint32_t cons = j->hdr->req_cons, live = 0;

	if (cons - rsp_prod > j->nr_entries / 2) {
		snprintf(why, whylen, "req_cons %u is %u ahead of rsp_prod %u",
			 cons, cons - rsp_prod, rsp_prod);
		return -EPROTO;
	}
	for (uint32_t e = 0; e < j->nr_entries; e++) {
		struct jent *x = ent(j, e);

		if (x->state == ENT_ANSWERED && before(x->rsp_idx, rsp_prod))
			x->state = ENT_FREE;
		else if (x->state != ENT_FREE && !before(x->req_idx, cons))
			x->state = ENT_FREE;
		else if (x->state == ENT_ANSWERED)
			x->state = ENT_TAKEN;
		if (x->state == ENT_TAKEN)
			live++;
		else
			x->state = ENT_FREE;
	}
	if (live != cons - rsp_prod) {
		snprintf(why, whylen,
			 "%u requests to serve again, but the ring has %u unanswered",
			 live, cons - rsp_prod);
		return -EPROTO;
	}
	return 0;
}

static int map_file(struct xb_journal *j, struct xb_device *dev, bool resume,
		    bool *found)
{
	struct stat st;
	int fd, rc = 0;

	*found = false;
	fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (resume && st.st_size >= (off_t)sizeof(struct jhdr)) {
		struct jhdr h;

		if (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		    geometry_ok(j, &h, st.st_size))
			*found = true;
		else
			xb_dev_warn(dev, "journal %s does not fit this ring: ignored",
				    j->path);
	}
	if (!*found && (ftruncate(fd, 0) < 0 ||
			ftruncate(fd, (off_t)j->map_bytes) < 0)) {
		rc = -errno;
		goto out;
	}
	j->hdr = mmap(NULL, j->map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	if (j->hdr == MAP_FAILED) {
		j->hdr = NULL;
		rc = -errno;
	}
out:
	close(fd);
	return rc;
}

struct xb_journal *xb_journal_open(struct xb_device *dev, const char *queue,
				   unsigned int nr_ents, size_t req_size,
				   uint32_t rsp_prod, uint32_t *req_cons,
				   bool *found)
{
	struct xb_journal *j = calloc(1, sizeof(*j));
	char why[160];
	int rc;

	if (!j) {
		xb_device_fail(dev, -ENOMEM, "no memory for a journal");
		return NULL;
	}
	j->nr_entries = 2 * nr_ents;
	j->req_size = req_size;
	j->ent_bytes = entry_bytes(req_size);
	j->map_bytes = sizeof(struct jhdr) + j->nr_entries * j->ent_bytes;
	j->free = calloc(j->nr_entries, sizeof(*j->free));
	j->answered = calloc(j->nr_entries, sizeof(*j->answered));
	if (!j->free || !j->answered) {
		journal_free(j);
		xb_device_fail(dev, -ENOMEM, "no memory for a journal");
		return NULL;
	}
	if (snprintf(j->path, sizeof(j->path), "%s/%s-%u-%u-%.15s.journal",
		     journal_dir, dev->kind->type, dev->domid, dev->devid,
		     queue) >= (int)sizeof(j->path)) {
		journal_free(j);
		xb_device_fail(dev, -ENAMETOOLONG, "journal path too long");
		return NULL;
	}
	rc = map_file(j, dev, dev->resume, found);
	if (rc) {
		xb_device_fail(dev, rc, "journal %s: %s", j->path,
			       strerror(-rc));
		journal_free(j);
		return NULL;
	}
	if (*found) {
		rc = recover(j, rsp_prod, why, sizeof(why));
		if (rc) {
			xb_device_fail(dev, rc, "journal %s: %s", j->path,
				       why);
			unlink(j->path);
			journal_free(j);
			return NULL;
		}
		*req_cons = j->hdr->req_cons;
	} else {
		/* New ring, or a handover: nothing in flight. */
		memset(j->hdr, 0, j->map_bytes);
		j->hdr->nr_entries = j->nr_entries;
		j->hdr->req_size = (uint32_t)req_size;
		j->hdr->req_cons = *req_cons = rsp_prod;
		store(&j->hdr->magic, JOURNAL_MAGIC);
	}
	for (uint32_t e = j->nr_entries; e-- > 0;)
		if (ent(j, e)->state == ENT_FREE)
			j->free[j->nr_free++] = e;
	return j;
}

unsigned int xb_journal_replay(struct xb_journal *j, uint32_t *out)
{
	unsigned int n = 0;

	for (uint32_t e = 0; e < j->nr_entries; e++)
		if (ent(j, e)->state == ENT_TAKEN)
			out[n++] = e;
	/* Oldest request first (a few at most: insertion sort). */
	for (unsigned int i = 1; i < n; i++) {
		uint32_t x = out[i];
		unsigned int k = i;

		while (k > 0 &&
		       before(ent(j, x)->req_idx, ent(j, out[k - 1])->req_idx)) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = x;
	}
	return n;
}

const void *xb_journal_req(struct xb_journal *j, uint32_t entry)
{
	return ent(j, entry)->req;
}

uint32_t xb_journal_take(struct xb_journal *j, uint32_t req_idx,
			 const void *req)
{
	/* Never empty: the ring bounds what is in flight (see the top). */
	uint32_t e = j->free[--j->nr_free];
	struct jent *x = ent(j, e);

	memcpy(x->req, req, j->req_size);
	x->req_idx = req_idx;
	store(&x->state, ENT_TAKEN);
	store(&j->hdr->req_cons, req_idx + 1);
	return e;
}

void xb_journal_answered(struct xb_journal *j, uint32_t entry,
			 uint32_t rsp_idx)
{
	struct jent *x = ent(j, entry);

	x->rsp_idx = rsp_idx;
	store(&x->state, ENT_ANSWERED);
	j->answered[(j->ans_head + j->ans_count++) % j->nr_entries] = entry;
}

void xb_journal_published(struct xb_journal *j, uint32_t rsp_prod)
{
	while (j->ans_count) {
		uint32_t e = j->answered[j->ans_head];
		struct jent *x = ent(j, e);

		if (!before(x->rsp_idx, rsp_prod))
			break;
		store(&x->state, ENT_FREE);
		j->free[j->nr_free++] = e;
		j->ans_head = (j->ans_head + 1) % j->nr_entries;
		j->ans_count--;
	}
}

void xb_journal_close(struct xb_journal *j)
{
	if (!j)
		return;
	unlink(j->path);
	journal_free(j);
}

/* ---- start-up sweep --------------------------------------------------- */

/*
 * "<type>-<domid>-<devid>-<queue>.journal", exactly as xb_journal_open()
 * names it (canonical numbers, a queue name of letters and digits).
 */
static bool journal_name(const char *name, const char *type,
			 unsigned int *domid, unsigned int *devid)
{
	size_t tlen = strlen(type), len = strlen(name);
	char queue[16], canon[NAME_MAX + 1];
	int n = 0;

	if (strncmp(name, type, tlen) || name[tlen] != '-' || len > NAME_MAX)
		return false;
	if (sscanf(name + tlen, "-%u-%u-%15[a-z0-9].journal%n", domid, devid,
		   queue, &n) != 3 ||
	    (size_t)n != len - tlen)
		return false;
	snprintf(canon, sizeof(canon), "%s-%u-%u-%s.journal", type, *domid,
		 *devid, queue);
	return !strcmp(canon, name);
}

/* A regular file of ours whose header and size are a journal's. */
static bool journal_file(int dfd, const char *name)
{
	struct stat st;
	struct jhdr h;
	bool ok = false;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() &&
	    pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    h.magic == JOURNAL_MAGIC && h.nr_entries &&
	    h.nr_entries <= 65536 && h.req_size && h.req_size <= 65536 &&
	    (size_t)st.st_size ==
		    sizeof(h) + h.nr_entries * entry_bytes(h.req_size))
		ok = true;
	close(fd);
	return ok;
}

void xb_journal_sweep(struct xbs *xs, const char *type,
		      const char *backend_dir)
{
	unsigned int domid, devid;
	struct dirent *e;
	DIR *d = opendir(journal_dir);

	if (!d) {
		if (errno != ENOENT)
			xb_warn("cannot read %s: %s", journal_dir,
				strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		if (!journal_name(e->d_name, type, &domid, &devid) ||
		    !journal_file(dirfd(d), e->d_name) ||
		    xb_device_still_there(xs, backend_dir, domid, devid))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0)
			xb_warn("journal %s/%s of a device gone: cannot remove "
				"it: %s",
				journal_dir, e->d_name, strerror(errno));
		else
			xb_info("journal %s/%s removed: its device %s/%u/%u "
				"went while no daemon ran",
				journal_dir, e->d_name, type, domid, devid);
	}
	closedir(d);
}
