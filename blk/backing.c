/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk/backing.c - the file or block device behind a vbd.
 *
 * Opened O_DIRECT (the page cache of dom0 stays out of the guest's data
 * path, and a write completes only once it reached the device or the
 * file's backing store); read-only when the toolstack's mode says so.
 */
#include "blk/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

static int read_sysfs_u64(unsigned int maj, unsigned int min,
			  const char *attr, uint64_t *out)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", maj, min,
		 attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*out = strtoull(buf, NULL, 10);
	return 0;
}

/*
 * Whether the running kernel's BLKSECDISCARD checks that the device can
 * erase securely before it checks the range (release "M.m..."): Linux
 * 5.19 and later do (blk_ioctl_secure_erase()). Before, BLKSECDISCARD went
 * through the plain discard ioctl, which checks only plain discard support
 * and then the range: a misaligned range is EINVAL whether or not the
 * device can erase securely, and the answer is known only by erasing.
 */
bool blk_secdiscard_checks_support_first(const char *release)
{
	unsigned int major, minor;

	if (sscanf(release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 5 || (major == 5 && minor >= 19);
}

/*
 * Whether the device does secure erase (BLKSECDISCARD), asked without
 * erasing anything: a range starting mid-sector is refused with EINVAL by
 * a device that can, EOPNOTSUPP by one that cannot, on a kernel that
 * checks support first (Debian 12's 6.1 dom0 does). On an older one we
 * cannot tell, and discard-secure is not offered (a secure discard
 * promised and then refused would fail the guest's request).
 */
static bool probe_secure_discard(int fd)
{
	uint64_t range[2] = { 1, 512 };
	struct utsname u;

	if (uname(&u) < 0 || !blk_secdiscard_checks_support_first(u.release))
		return false;
	return ioctl(fd, BLKSECDISCARD, range) < 0 && errno == EINVAL;
}

static int probe_bdev(struct blk_backing *b, const struct stat *st)
{
	unsigned int maj = major(st->st_rdev), min = minor(st->st_rdev);
	uint64_t v;
	int ssz = 0;
	unsigned int pbsz = 0;

	if (ioctl(b->fd, BLKGETSIZE64, &b->bytes) < 0)
		return -errno;
	if (ioctl(b->fd, BLKSSZGET, &ssz) < 0)
		return -errno;
	b->sector_size = (uint32_t)ssz;
	if (ioctl(b->fd, BLKPBSZGET, &pbsz) < 0 || !pbsz)
		pbsz = b->sector_size;
	b->physical_sector_size = pbsz;
	if (!b->readonly &&
	    read_sysfs_u64(maj, min, "queue/discard_max_bytes", &v) == 0 &&
	    v > 0) {
		b->discard = true;
		if (read_sysfs_u64(maj, min, "queue/discard_granularity",
				   &v) == 0 &&
		    v > 0 && v <= UINT32_MAX)
			b->discard_granularity = (uint32_t)v;
		if (read_sysfs_u64(maj, min, "discard_alignment", &v) == 0 &&
		    v <= UINT32_MAX)
			b->discard_alignment = (uint32_t)v;
		b->discard_secure = probe_secure_discard(b->fd);
	}
	return 0;
}

/*
 * The smallest O_DIRECT unit the file's filesystem takes: try a read of
 * 512 bytes, then of 4096, into an aligned buffer.
 */
static uint32_t probe_direct_unit(int fd)
{
	static const uint32_t units[] = { 512, 4096 };
	void *buf;
	unsigned int i;

	if (posix_memalign(&buf, 4096, 4096))
		return 4096;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (pread(fd, buf, units[i], 0) >= 0)
			break;
		if (errno != EINVAL)
			break;
	}
	free(buf);
	return i < 2 ? units[i] : 4096;
}

static int probe_file(struct blk_backing *b, const struct stat *st)
{
	b->bytes = (uint64_t)st->st_size;
	b->sector_size = probe_direct_unit(b->fd);
	b->physical_sector_size =
		st->st_blksize > (blksize_t)b->sector_size &&
				st->st_blksize <= 65536 ?
			(uint32_t)st->st_blksize :
			b->sector_size;
	/*
	 * Punching a hole beyond the end changes nothing but tells whether
	 * the filesystem can punch at all.
	 */
	if (!b->readonly &&
	    fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(b->bytes + 4096) & ~(off_t)4095, 4096) == 0) {
		b->discard = true;
		b->discard_granularity = b->physical_sector_size;
	}
	return 0;
}

int blk_backing_open(struct xb_device *dev, struct blk_backing *b,
		     const char *path, bool readonly)
{
	struct stat st;
	int rc;

	blk_backing_close(b);
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->domid = dev->domid;
	b->readonly = readonly;
	if (strlen(path) >= sizeof(b->path)) {
		xb_dev_err(dev, "backing path too long: %.64s...", path);
		return -ENAMETOOLONG;
	}
	strcpy(b->path, path);
	b->fd = xb_res_open(dev->domid, path,
			    (readonly ? O_RDONLY : O_RDWR) | O_DIRECT |
				    O_CLOEXEC);
	if (b->fd < 0) {
		rc = -errno;
		xb_dev_err(dev, "cannot open backing %s: %s", path,
			   strerror(-rc));
		return rc;
	}
	if (fstat(b->fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		b->is_bdev = true;
		rc = probe_bdev(b, &st);
	} else if (S_ISREG(st.st_mode)) {
		rc = probe_file(b, &st);
	} else {
		xb_dev_err(dev, "backing %s is neither a file nor a block device",
			   path);
		rc = -EINVAL;
		goto out;
	}
	if (rc < 0)
		goto fail;
	if (b->sector_size < 512 || b->sector_size > 4096 ||
	    (b->sector_size & (b->sector_size - 1))) {
		xb_dev_err(dev, "backing %s: unsupported block size %u", path,
			   b->sector_size);
		rc = -EINVAL;
		goto out;
	}
	if (!b->discard_granularity)
		b->discard_granularity = b->sector_size;
	return 0;
fail:
	xb_dev_err(dev, "backing %s: %s", path, strerror(-rc));
out:
	blk_backing_close(b);
	return rc;
}

void blk_backing_close(struct blk_backing *b)
{
	xb_res_close(b->domid, &b->fd);
}

int blk_backing_size(const struct blk_backing *b, uint64_t *bytes)
{
	struct stat st;

	if (b->is_bdev)
		return ioctl(b->fd, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
	if (fstat(b->fd, &st) < 0)
		return -errno;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

/*
 * As blkback: a secure discard where the device offers it, else a plain
 * one (blkif.h: the flag is a request the backend may not honour unless it
 * advertised discard-secure). -EOPNOTSUPP when the backing cannot.
 */
int blk_backing_discard(const struct blk_backing *b, uint64_t off,
			uint64_t len, bool secure)
{
	uint64_t range[2] = { off, len };

	if (!len)
		return 0;
	if (!b->is_bdev)
		return fallocate(b->fd,
				 FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 (off_t)off, (off_t)len) < 0 ?
			       -errno :
			       0;
	if (secure && b->discard_secure)
		return ioctl(b->fd, BLKSECDISCARD, range) < 0 ? -errno : 0;
	return ioctl(b->fd, BLKDISCARD, range) < 0 ? -errno : 0;
}

/* ---- discards in chunks (blk.h) ------------------------------------------ */

uint64_t blk_discard_chunk_end(const struct blk_backing *b, uint64_t chunk,
			       uint64_t off, uint64_t end)
{
	uint64_t gran = b->discard_granularity ? b->discard_granularity : 1;
	uint64_t step = chunk > 2 * gran ? chunk : 2 * gran;
	uint64_t e;

	if (end - off <= step)
		return end;
	/* Back to a granule boundary: at most gran, so still past off. */
	e = off + step;
	e -= (e % gran + gran - b->discard_alignment % gran) % gran;
	return e;
}

uint64_t blk_discard_pace(uint64_t chunk, uint64_t bytes, uint64_t ns)
{
	if (ns > BLK_DISCARD_CALL_NS) {
		/* In proportion: one slow call is enough to adapt. */
		chunk = chunk * BLK_DISCARD_CALL_NS / ns; /* 2^30 * 2^27 */
		return chunk > BLK_DISCARD_CHUNK_MIN ? chunk :
						       BLK_DISCARD_CHUNK_MIN;
	}
	/* Grow on a quick whole chunk only (a small tail says nothing). */
	if (ns < BLK_DISCARD_CALL_NS / 4 && bytes >= chunk / 2 &&
	    chunk < BLK_DISCARD_CHUNK_MAX)
		return chunk * 2 < BLK_DISCARD_CHUNK_MAX ? chunk * 2 :
							   BLK_DISCARD_CHUNK_MAX;
	return chunk;
}
