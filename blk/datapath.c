/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk/datapath.c - how a vbd's data moves: the guest's pages mapped and
 * put under O_DIRECT themselves ("map", zero-copy, as Linux blkback), or
 * grant-copied into the queue's own buffers ("copy", as QEMU).
 *
 * Map mode is faster for large I/O, but blkif.h's `direct-io-safe` warns
 * that some storage (network filesystems and network block devices, whose
 * kernel may still hold a page for a retransmission after the O_DIRECT
 * request completed) can touch a page after we answered and unmapped it:
 * a guest page then. So, unless the operator says otherwise
 * (XENBACKD_BLK_DATA=copy|map), a device is mapped only when that is
 * known to be safe:
 *
 *   the toolstack's direct-io-safe   1: map; 0: copy; not 0/1: copy, logged
 *   otherwise the backing            map if known local, else copy
 *
 * "Known local" is positive identification, never a guess:
 *   a regular file      on ext2/3/4, xfs, btrfs, f2fs, tmpfs or ramfs
 *                       (statfs), and the block devices under it, if it
 *                       has any, local too (st_dev; btrfs: its devices
 *                       in sysfs)
 *   a loop device       whose backing file (or device) is local: what
 *                       xl's block hotplug script makes of a file
 *   a disk              on a PCI bus (SATA, SAS, NVMe, virtio, USB),
 *                       not an iSCSI session, from its sysfs path; an
 *                       MMC/SD/eMMC card (on the mmc bus, wherever its
 *                       host sits); a partition of one; zram and brd
 *                       RAM disks
 *   NVMe multipath      every controller of its subsystem on PCIe
 *   dm, md              every device under it (slaves/) local
 * Anything else (nfs, cifs, fuse, ceph, 9p, overlay..., nbd, rbd, iSCSI,
 * NVMe over fabrics, a device sysfs cannot place) is served by copy.
 * So is a Xen virtual disk (xvd, when this domain is itself a guest):
 * its blkfront grants the I/O's own pages to its backend unless it
 * uses persistent grants (QEMU's backend has none), and those pages
 * would be a guest's, mapped here, which Xen does not let us grant on.
 */
#include "blk/blk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/btrfs.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Loop over loop over dm...: deeper stacks are not judged. */
#define STACK_MAX 6

/* Where sysfs is: "" (the real one), or a test's fake tree. */
static char sysfs_root[256];

void blk_datapath_sysfs_root(const char *root)
{
	snprintf(sysfs_root, sizeof(sysfs_root), "%s", root ? root : "");
}

struct fs_type {
	unsigned long magic;
	const char *name;
	bool local;
};

/* statfs f_type values (linux/magic.h and the filesystems' sources). */
static const struct fs_type fs_types[] = {
	{ 0xEF53, "ext4", true }, /* ext2, ext3 and ext4 share it */
	{ 0x58465342, "xfs", true },
	{ BTRFS_SUPER_MAGIC, "btrfs", true },
	{ 0xF2F52010, "f2fs", true },
	{ 0x01021994, "tmpfs", true },
	{ 0x858458F6, "ramfs", true },
	{ 0x6969, "nfs", false },
	{ 0xFF534D42, "cifs", false },
	{ 0xFE534D42, "smb2", false },
	{ 0x517B, "smb", false },
	{ 0x65735546, "fuse", false },
	{ 0x00C36400, "ceph", false },
	{ 0x01021997, "9p", false },
	{ 0x6B414653, "afs", false },
	{ 0x5346414F, "afs", false },
	{ 0x7461636F, "ocfs2", false },
	{ 0x01161970, "gfs2", false },
	{ 0x0BD00BD0, "lustre", false },
	{ 0x794C7630, "overlay", false },
};

static const struct fs_type *fs_type_of(unsigned long magic)
{
	size_t i;

	for (i = 0; i < sizeof(fs_types) / sizeof(fs_types[0]); i++)
		if (fs_types[i].magic == (magic & 0xFFFFFFFFul))
			return &fs_types[i];
	return NULL;
}

/* Appends to the reason, a space-free phrase ("loop0-over-file-on-ext4"). */
static void why_add(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void why_add(char *why, size_t len, const char *fmt, ...)
{
	size_t used = strlen(why);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(why + used, len - used, fmt, ap);
	va_end(ap);
}

static bool bdev_is_local(unsigned int maj, unsigned int min, int depth,
			  char *why, size_t len);

/* A sysfs attribute's first line, or -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * Whether each(maj, min, ctx) holds for every block device named in the
 * sysfs folder dir (btrfs's devices, dm's or md's slaves); an empty
 * folder does not. -1 when the folder cannot be read.
 */
static int listed_bdevs_all(const char *dir,
			    bool (*each)(unsigned int, unsigned int, void *),
			    void *ctx)
{
	char p[PATH_MAX + 32], dev[32];
	unsigned int maj, min, n = 0;
	struct dirent *e;
	bool all = true;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while (all && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/sys/class/block/%s/dev", sysfs_root,
			 e->d_name);
		if (read_line(p, dev, sizeof(dev)) < 0 ||
		    sscanf(dev, "%u:%u", &maj, &min) != 2 ||
		    !each(maj, min, ctx))
			all = false;
		n++;
	}
	closedir(d);
	return all && n;
}

static bool listed_one_local(unsigned int maj, unsigned int min, void *ctx)
{
	return bdev_is_local(maj, min, *(int *)ctx + 1, NULL, 0);
}

/* Every block device listed in dir is local (listed_bdevs_all()). */
static int listed_bdevs_local(const char *dir, int depth)
{
	return listed_bdevs_all(dir, listed_one_local, &depth);
}

/*
 * btrfs gives its files an anonymous st_dev: its devices are those listed
 * in /sys/fs/btrfs/<fsid>/devices/ (links named after the block devices),
 * the fsid asked of the filesystem (BTRFS_IOC_FS_INFO on fd). false when
 * the filesystem does not say.
 */
static bool btrfs_fsid(int fd, char *uuid, size_t len)
{
	struct btrfs_ioctl_fs_info_args fi;
	const uint8_t *u = fi.fsid;
	char hex[33];
	unsigned int i;

	memset(&fi, 0, sizeof(fi));
	if (ioctl(fd, BTRFS_IOC_FS_INFO, &fi) < 0)
		return false;
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", u[i]);
	snprintf(uuid, len, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
		 hex + 12, hex + 16, hex + 20);
	return true;
}

static void btrfs_devices_dir(const char *fsid, char *p, size_t len)
{
	snprintf(p, len, "%s/sys/fs/btrfs/%s/devices", sysfs_root, fsid);
}

static bool btrfs_devices_local(const char *fsid, int depth, char *why,
				size_t len)
{
	char p[PATH_MAX + 32];
	int local;

	btrfs_devices_dir(fsid, p, sizeof(p));
	local = listed_bdevs_local(p, depth);
	if (local < 0) {
		why_add(why, len, "-devices-unknown");
		return false;
	}
	why_add(why, len, local ? "-on-local-disks" : "-on-disks-not-known-local");
	return local;
}

bool blk_btrfs_is_local(const char *fsid, char *why, size_t len)
{
	why[0] = '\0';
	why_add(why, len, "file-on-btrfs");
	return btrfs_devices_local(fsid, 0, why, len);
}

/*
 * A regular file (fd open on it): its filesystem, and the devices under
 * it if it has any.
 */
static bool file_is_local(int fd, const struct stat *st,
			  const struct statfs *sf, int depth, char *why,
			  size_t len)
{
	const struct fs_type *t = fs_type_of((unsigned long)sf->f_type);

	if (!t) {
		why_add(why, len, "file-on-fs-0x%lx-not-known-local",
			(unsigned long)sf->f_type & 0xFFFFFFFFul);
		return false;
	}
	why_add(why, len, "file-on-%s", t->name);
	if (!t->local)
		return false;
	if (t->magic == BTRFS_SUPER_MAGIC) {
		char fsid[40];

		if (!btrfs_fsid(fd, fsid, sizeof(fsid))) {
			why_add(why, len, "-devices-unknown");
			return false;
		}
		return btrfs_devices_local(fsid, depth, why, len);
	}
	/* tmpfs, ramfs: memory, an anonymous device number. */
	if (major(st->st_dev) == 0)
		return true;
	why_add(why, len, "-on-");
	return bdev_is_local(major(st->st_dev), minor(st->st_dev), depth + 1,
			     why, len);
}

/* What a path names, file or device (a loop device's backing). */
static bool path_is_local(const char *path, int depth, char *why, size_t len)
{
	struct statfs sf;
	struct stat st;
	bool local;
	int fd;

	if (stat(path, &st) < 0) {
		why_add(why, len, "backing-file-gone");
		return false;
	}
	if (S_ISBLK(st.st_mode))
		return bdev_is_local(major(st.st_rdev), minor(st.st_rdev),
				     depth + 1, why, len);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fstatfs(fd, &sf) < 0) {
		if (fd >= 0)
			close(fd);
		why_add(why, len, "backing-not-a-file");
		return false;
	}
	local = file_is_local(fd, &st, &sf, depth, why, len);
	close(fd);
	return local;
}

/*
 * A bound loop device (sysfs dir of the whole disk): its backing file.
 * With fd (the device we opened), the file named in sysfs is checked to
 * be the one the loop device really uses (LOOP_GET_STATUS64).
 */
static bool loop_is_local(const char *dir, const char *name, int fd,
			  int depth, char *why, size_t len)
{
	char p[PATH_MAX + 32], file[PATH_MAX];
	struct loop_info64 li;
	struct stat st;

	snprintf(p, sizeof(p), "%s/loop/backing_file", dir);
	if (read_line(p, file, sizeof(file)) < 0 || file[0] != '/') {
		why_add(why, len, "%s-backing-unknown", name);
		return false;
	}
	if (fd >= 0 &&
	    (ioctl(fd, LOOP_GET_STATUS64, &li) < 0 || stat(file, &st) < 0 ||
	     st.st_ino != li.lo_inode || st.st_dev != li.lo_device)) {
		why_add(why, len, "%s-backing-file-moved", name);
		return false;
	}
	why_add(why, len, "%s-over-", name);
	return path_is_local(file, depth, why, len);
}

/* dm, md: local when every device it is made of is. */
static bool slaves_are_local(const char *dir, const char *name, int depth,
			     char *why, size_t len)
{
	char p[PATH_MAX + 32];
	int local;

	snprintf(p, sizeof(p), "%s/slaves", dir);
	local = listed_bdevs_local(p, depth);
	if (local > 0)
		why_add(why, len, "%s-over-local-disks", name);
	else
		why_add(why, len, "%s-not-known-local", name);
	return local > 0;
}

/* The bus a disk's device is on ("mmc", "xen", "pci"...), or "". */
static void bus_of(const char *dir, char *bus, size_t len)
{
	char p[PATH_MAX + 32], real[PATH_MAX];

	bus[0] = '\0';
	snprintf(p, sizeof(p), "%s/device/subsystem", dir);
	if (realpath(p, real))
		snprintf(bus, len, "%s", strrchr(real, '/') + 1);
}

/*
 * An NVMe multipath disk (its sysfs dir in the subsystem's, dir): local
 * when every controller of the subsystem (the nvme<N> links there) has
 * the transport pcie; one over tcp, rdma or fc is a network path.
 */
static bool nvme_paths_local(const char *dir, const char *name, char *why,
			     size_t len)
{
	char subsys[PATH_MAX], p[PATH_MAX + 300], transport[32] = "";
	unsigned int n = 0, k;
	bool local = true;
	struct dirent *e;
	char *slash;
	DIR *d;

	snprintf(subsys, sizeof(subsys), "%s", dir);
	if ((slash = strrchr(subsys, '/')))
		*slash = '\0';
	d = opendir(subsys);
	while (d && local && (e = readdir(d))) {
		char c;

		if (sscanf(e->d_name, "nvme%u%c", &k, &c) != 1)
			continue;
		snprintf(p, sizeof(p), "%s/%s/transport", subsys, e->d_name);
		if (read_line(p, transport, sizeof(transport)) < 0 ||
		    strcmp(transport, "pcie"))
			local = false;
		n++;
	}
	if (d)
		closedir(d);
	if (local && n) {
		why_add(why, len, "nvme-multipath-%s-over-pcie", name);
		return true;
	}
	why_add(why, len, "nvme-multipath-%s-over-%s-not-known-local", name,
		n && transport[0] ? transport : "unknown");
	return false;
}

/*
 * The sysfs folder of the whole disk for a block device's folder real
 * (a partition's parent, else real itself) into dir; its name.
 */
static const char *whole_disk_dir(const char *real, char *dir, size_t len)
{
	char p[PATH_MAX + 32];
	char *slash;

	snprintf(dir, len, "%s", real);
	snprintf(p, sizeof(p), "%s/partition", real);
	if (access(p, F_OK) == 0 && (slash = strrchr(dir, '/')))
		*slash = '\0';
	return strrchr(dir, '/') + 1;
}

static bool bdev_is_local_fd(unsigned int maj, unsigned int min, int fd,
			     int depth, char *why, size_t len)
{
	char link[PATH_MAX], real[PATH_MAX], dir[PATH_MAX], p[PATH_MAX + 32];
	char bus[32];
	size_t root = strlen(sysfs_root);
	const char *name, *disk, *rel;

	if (depth > STACK_MAX) {
		why_add(why, len, "stack-too-deep");
		return false;
	}
	snprintf(link, sizeof(link), "%s/sys/dev/block/%u:%u", sysfs_root,
		 maj, min);
	if (!realpath(link, real) || strncmp(real, sysfs_root, root)) {
		why_add(why, len, "device-%u:%u-not-in-sysfs", maj, min);
		return false;
	}
	rel = real + root;	/* the path as under /sys */
	name = strrchr(real, '/') + 1;
	/* A partition: the loop/ and slaves/ of its whole disk count. */
	disk = whole_disk_dir(real, dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/loop", dir);
	if (access(p, F_OK) == 0)
		return loop_is_local(dir, name, fd, depth, why, len);
	if (!strncmp(rel, "/sys/devices/pci", 16) && !strstr(rel, "/session")) {
		why_add(why, len, "local-disk-%s", name);
		return true;
	}
	if (!strncmp(rel, "/sys/devices/virtual/block/", 27) &&
	    (!strncmp(disk, "zram", 4) || !strncmp(disk, "ram", 3))) {
		why_add(why, len, "ram-disk-%s", name);
		return true;
	}
	if (!strncmp(disk, "dm-", 3) || !strncmp(disk, "md", 2))
		return slaves_are_local(dir, name, depth, why, len);
	if (!strncmp(rel, "/sys/devices/virtual/nvme-subsystem/", 36))
		return nvme_paths_local(dir, name, why, len);
	bus_of(dir, bus, sizeof(bus));
	if (!strcmp(bus, "mmc")) {
		why_add(why, len, "mmc-card-%s", name);
		return true;
	}
	if (!strcmp(bus, "xen")) {
		why_add(why, len, "xen-virtual-disk-%s-not-known-local", name);
		return false;
	}
	why_add(why, len, "disk-%s-not-known-local", name);
	return false;
}

bool blk_bdev_is_local(unsigned int maj, unsigned int min, char *why,
		       size_t len)
{
	why[0] = '\0';
	return bdev_is_local_fd(maj, min, -1, 0, why, len);
}

/* why may be NULL: only the answer is wanted. */
static bool bdev_is_local(unsigned int maj, unsigned int min, int depth,
			  char *why, size_t len)
{
	char none[1] = "";

	if (!why) {
		why = none;
		len = 0;
	}
	return bdev_is_local_fd(maj, min, -1, depth, why, len);
}

bool blk_backing_is_local(const struct blk_backing *b, char *why, size_t len)
{
	struct statfs sf;
	struct stat st;

	why[0] = '\0';
	if (fstat(b->fd, &st) < 0) {
		why_add(why, len, "backing-unknown");
		return false;
	}
	if (S_ISBLK(st.st_mode))
		return bdev_is_local_fd(major(st.st_rdev), minor(st.st_rdev),
					b->fd, 0, why, len);
	if (fstatfs(b->fd, &sf) < 0) {
		why_add(why, len, "filesystem-unknown");
		return false;
	}
	return file_is_local(b->fd, &st, &sf, 0, why, len);
}

bool blk_data_valid(const char *value)
{
	return !strcmp(value, "auto") || !strcmp(value, "copy") ||
	       !strcmp(value, "map");
}

bool blk_data_choose(struct blk_dev *bd, char *why, size_t len)
{
	struct xb_device *dev = bd->dev;
	const char *choice, *via;
	unsigned int safe;
	bool local;
	int rc;

	why[0] = '\0';
	/* The operator's choice: vbd-data, or the variable that set it. */
	choice = xb_setting_get(&blk_kind, "data", &via);
	if (strcmp(choice, "auto")) {
		why_add(why, len, "%s=%s", via ? via : "vbd-data", choice);
		return !strcmp(choice, "map");
	}
	rc = xb_be_read_uint(dev, "direct-io-safe", 1, &safe);
	if (rc == 0) {
		why_add(why, len, "direct-io-safe=%u", safe);
		return safe == 1;
	}
	if (rc != -ENOENT) {
		/* Not what the toolstack meant to say: the safe way. */
		xb_dev_warn(dev, "backend node direct-io-safe %s (0 or 1): "
				 "grant copy",
			    xb_read_error(rc));
		why_add(why, len, "direct-io-safe-invalid");
		return false;
	}
	local = blk_backing_is_local(&bd->backing, why, len);
	return local;
}

/* ------------------------------------------------------------------ */
/* Large reads through the pool in map mode                            */
/* ------------------------------------------------------------------ */

/*
 * The fewest segments a device under the backing takes in one request,
 * and which device that is. The block layer counts a request's segments
 * by physical contiguity; a request on more scattered pages than its
 * queue's max_segments is split in two, and each part costs the device
 * more than one contiguous request would (docs/perf.md, "1 MiB reads").
 */
struct seg_limit {
	unsigned int segs;	/* 0: none found yet */
	char dev[32];
	int depth;
};

static bool disk_limit(unsigned int maj, unsigned int min, int depth,
		       struct seg_limit *l);

/* The queue of the whole disk in sysfs folder dir lowers l; false if
 * it has none to read. */
static bool queue_limits(const char *dir, struct seg_limit *l)
{
	char p[PATH_MAX + 32], v[32];
	unsigned int segs;

	snprintf(p, sizeof(p), "%s/queue/max_segments", dir);
	if (read_line(p, v, sizeof(v)) < 0 || sscanf(v, "%u", &segs) != 1 ||
	    !segs)
		return false;
	if (!l->segs || segs < l->segs) {
		l->segs = segs;
		snprintf(l->dev, sizeof(l->dev), "%s", strrchr(dir, '/') + 1);
	}
	return true;
}

static bool listed_one_limit(unsigned int maj, unsigned int min, void *ctx)
{
	struct seg_limit *l = ctx;

	return disk_limit(maj, min, l->depth + 1, l);
}

/*
 * A file (fd open on it): the disks under its filesystem. tmpfs, ramfs
 * and other filesystems without a device of their own have none.
 */
/* btrfs: every device of the filesystem fsid. */
static bool btrfs_limit(const char *fsid, int depth, struct seg_limit *l)
{
	char p[PATH_MAX + 32];

	btrfs_devices_dir(fsid, p, sizeof(p));
	l->depth = depth;
	return listed_bdevs_all(p, listed_one_limit, l) > 0;
}

static bool file_limit(int fd, const struct stat *st, int depth,
		       struct seg_limit *l)
{
	struct statfs sf;
	char fsid[40];

	if (fstatfs(fd, &sf) < 0)
		return false;
	if ((sf.f_type & 0xFFFFFFFFul) == BTRFS_SUPER_MAGIC)
		return btrfs_fsid(fd, fsid, sizeof(fsid)) &&
		       btrfs_limit(fsid, depth, l);
	if (major(st->st_dev) == 0)
		return false;
	return disk_limit(major(st->st_dev), minor(st->st_dev), depth + 1, l);
}

static bool path_limit(const char *path, int depth, struct seg_limit *l)
{
	struct stat st;
	bool found;
	int fd;

	if (stat(path, &st) < 0)
		return false;
	if (S_ISBLK(st.st_mode))
		return disk_limit(major(st.st_rdev), minor(st.st_rdev),
				  depth + 1, l);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return false;
	found = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		file_limit(fd, &st, depth, l);
	close(fd);
	return found;
}

/*
 * A block device: its own queue's limit and, for a loop device, dm or
 * md, those of what it is made of. true only when the data ends on
 * disks: a loop device over a file on tmpfs, zram, brd, or any virtual
 * device sysfs does not place is memory or unknown (false).
 */
static bool disk_limit(unsigned int maj, unsigned int min, int depth,
		       struct seg_limit *l)
{
	char link[PATH_MAX], real[PATH_MAX], dir[PATH_MAX], p[PATH_MAX + 32];
	char file[PATH_MAX];
	size_t root = strlen(sysfs_root);
	const char *disk;

	if (depth > STACK_MAX)
		return false;
	snprintf(link, sizeof(link), "%s/sys/dev/block/%u:%u", sysfs_root,
		 maj, min);
	if (!realpath(link, real) || strncmp(real, sysfs_root, root))
		return false;
	/* A partition has no queue of its own: its whole disk's counts. */
	disk = whole_disk_dir(real, dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/loop/backing_file", dir);
	if (access(p, F_OK) == 0)
		return read_line(p, file, sizeof(file)) == 0 &&
		       file[0] == '/' && queue_limits(dir, l) &&
		       path_limit(file, depth, l);
	if (!strncmp(disk, "dm-", 3) || !strncmp(disk, "md", 2)) {
		snprintf(p, sizeof(p), "%s/slaves", dir);
		l->depth = depth;
		return queue_limits(dir, l) &&
		       listed_bdevs_all(p, listed_one_limit, l) > 0;
	}
	if (!strncmp(real + root, "/sys/devices/virtual/", 21))
		return false;
	return queue_limits(dir, l);
}

/* The answer for the disks found, or 0 when the data is not on disks. */
static unsigned int seg_limit_answer(bool disks, const struct seg_limit *l,
				     char *dev, size_t len)
{
	if (!disks)
		return 0;
	snprintf(dev, len, "%s", l->dev);
	return l->segs;
}

unsigned int blk_bdev_max_segments(unsigned int maj, unsigned int min,
				   char *dev, size_t len)
{
	struct seg_limit l = { 0 };

	dev[0] = '\0';
	return seg_limit_answer(disk_limit(maj, min, 0, &l), &l, dev, len);
}

unsigned int blk_btrfs_max_segments(const char *fsid, char *dev, size_t len)
{
	struct seg_limit l = { 0 };

	dev[0] = '\0';
	return seg_limit_answer(btrfs_limit(fsid, 0, &l), &l, dev, len);
}

unsigned int blk_backing_max_segments(const struct blk_backing *b, char *dev,
				      size_t len)
{
	struct seg_limit l = { 0 };
	struct stat st;
	bool disks;

	dev[0] = '\0';
	if (fstat(b->fd, &st) < 0)
		return 0;
	if (S_ISBLK(st.st_mode))
		disks = disk_limit(major(st.st_rdev), minor(st.st_rdev), 0, &l);
	else
		disks = S_ISREG(st.st_mode) && file_limit(b->fd, &st, 0, &l);
	return seg_limit_answer(disks, &l, dev, len);
}

bool blk_xen_pv_domain(const char *guest_type)
{
	char v[16];

	return read_line(guest_type, v, sizeof(v)) == 0 && !strcmp(v, "PV");
}

unsigned int blk_large_reads_rule(bool chosen_auto, bool pv,
				  unsigned int limit, const char *dev,
				  char *why, size_t len)
{
	why[0] = '\0';
	if (!chosen_auto) {
		why_add(why, len, "vbd-data=map");
		return 0;
	}
	if (pv) {
		why_add(why, len, "xen-pv-domain");
		return 0;
	}
	if (!limit) {
		why_add(why, len, "no-disk-under-the-backing");
		return 0;
	}
	if (limit >= BLK_MAX_INDIRECT_SEGS) {
		why_add(why, len, "%s-takes-%u-segments", dev, limit);
		return 0;
	}
	why_add(why, len, "reads-over-%u-segments-of-%s", limit, dev);
	return limit;
}

unsigned int blk_large_reads_choose(struct blk_dev *bd, char *why, size_t len)
{
	char dev[32];
	char guest_type[sizeof(sysfs_root) + sizeof(BLK_GUEST_TYPE_PATH)];
	const char *choice = xb_setting_get(&blk_kind, "data", NULL);
	bool chosen_auto = !strcmp(choice, "auto");
	unsigned int limit = 0;
	bool pv;

	snprintf(guest_type, sizeof(guest_type), "%s%s", sysfs_root,
		 BLK_GUEST_TYPE_PATH);
	pv = chosen_auto && blk_xen_pv_domain(guest_type);
	dev[0] = '\0';
	if (chosen_auto && !pv)
		limit = blk_backing_max_segments(&bd->backing, dev, sizeof(dev));
	return blk_large_reads_rule(chosen_auto, pv, limit, dev, why, len);
}
