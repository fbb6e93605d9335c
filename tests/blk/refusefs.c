/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * refusefs - a FUSE filesystem of one file, /disk.img, whose bytes are
 * those of IMAGE, that can be told to stop taking what it took so far, as
 * a network filesystem whose server changed may: a real backing that
 * refuses at run time, for the block backend's tests
 * (tests/blk/sim-blk-refuse.sh).
 *
 *   refusefs IMAGE MOUNTPOINT      mounts, returns once mounted
 *   echo nodiscard >MNT/ctl        from now on hole punching in the
 *                                  file is refused (EOPNOTSUPP)
 *   echo noflush >MNT/ctl          from now on fsync is refused
 *   echo slowdiscard >MNT/ctl      from now on each hole punched takes
 *                                  a second (storage slow to discard)
 *   echo slowdiscard-per-mib MS >MNT/ctl
 *                                  from now on a hole takes MS ms per
 *                                  MiB (or part of one) it covers
 *   echo holdflush >MNT/ctl        from now on fsync waits (storage
 *                                  busy writing back: a flush stuck)
 *   echo releaseflush >MNT/ctl     fsyncs waiting, and later ones, go
 *                                  on (a held one gives up after 120 s)
 *   umount MOUNTPOINT              ends it
 */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DISK "/disk.img"
#define CTL "/ctl"

static int image_fd = -1;
static volatile bool refuse_discard, refuse_flush, slow_discard, hold_flush;
static volatile unsigned long discard_ms_per_mib;

static int rf_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (!strcmp(path, CTL)) {
		st->st_mode = S_IFREG | 0200;
		st->st_nlink = 1;
		return 0;
	}
	if (strcmp(path, DISK))
		return -ENOENT;
	if (fstat(image_fd, st) < 0)
		return -errno;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	return 0;
}

static int rf_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/"))
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, DISK + 1, NULL, 0, 0);
	fill(buf, CTL + 1, NULL, 0, 0);
	return 0;
}

static int rf_open(const char *path, struct fuse_file_info *fi)
{
	(void)fi;
	return strcmp(path, DISK) && strcmp(path, CTL) ? -ENOENT : 0;
}

/* `echo x >ctl` truncates first. */
static int rf_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)size;
	(void)fi;
	return strcmp(path, CTL) ? -EPERM : 0;
}

static int rf_read(const char *path, char *buf, size_t len, off_t off,
		   struct fuse_file_info *fi)
{
	ssize_t n;

	(void)path;
	(void)fi;
	n = pread(image_fd, buf, len, off);
	return n < 0 ? -errno : (int)n;
}

static int rf_write(const char *path, const char *buf, size_t len, off_t off,
		    struct fuse_file_info *fi)
{
	ssize_t n;

	(void)fi;
	if (!strcmp(path, CTL)) {
		if (len >= 9 && !strncmp(buf, "nodiscard", 9))
			refuse_discard = true;
		else if (len >= 7 && !strncmp(buf, "noflush", 7))
			refuse_flush = true;
		else if (len >= 20 &&
			 !strncmp(buf, "slowdiscard-per-mib ", 20))
			discard_ms_per_mib = strtoul(buf + 20, NULL, 10);
		else if (len >= 11 && !strncmp(buf, "slowdiscard", 11))
			slow_discard = true;
		else if (len >= 9 && !strncmp(buf, "holdflush", 9))
			hold_flush = true;
		else if (len >= 12 && !strncmp(buf, "releaseflush", 12))
			hold_flush = false;
		else
			return -EINVAL;
		return (int)len;
	}
	n = pwrite(image_fd, buf, len, off);
	return n < 0 ? -errno : (int)n;
}

static int rf_fallocate(const char *path, int mode, off_t off, off_t len,
			struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && refuse_discard)
		return -EOPNOTSUPP;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && slow_discard)
		sleep(1);
	if ((mode & FALLOC_FL_PUNCH_HOLE) && discard_ms_per_mib)
		usleep(((uint64_t)len + (1 << 20) - 1) / (1 << 20) *
		       discard_ms_per_mib * 1000);
	return fallocate(image_fd, mode, off, len) < 0 ? -errno : 0;
}

static int rf_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	if (refuse_flush)
		return -EOPNOTSUPP;
	/* FUSE serves requests on several threads: ctl still answers. */
	for (int i = 0; hold_flush && i < 12000; i++)
		usleep(10000);
	return (datasync ? fdatasync(image_fd) : fsync(image_fd)) < 0 ? -errno :
									0;
}

static const struct fuse_operations rf_ops = {
	.getattr = rf_getattr,
	.readdir = rf_readdir,
	.open = rf_open,
	.read = rf_read,
	.write = rf_write,
	.truncate = rf_truncate,
	.fallocate = rf_fallocate,
	.fsync = rf_fsync,
};

int main(int argc, char **argv)
{
	char *args[] = { argv[0], argc > 2 ? argv[2] : NULL, NULL };

	if (argc != 3) {
		fprintf(stderr, "usage: %s IMAGE MOUNTPOINT\n", argv[0]);
		return 2;
	}
	image_fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (image_fd < 0) {
		perror(argv[1]);
		return 1;
	}
	return fuse_main(2, args, &rf_ops, NULL);
}
