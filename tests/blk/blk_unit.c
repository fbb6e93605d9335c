/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * blk_unit - unit tests of blk/'s pure parts: whether the running
 * kernel's BLKSECDISCARD can be probed without erasing (Linux 5.19 and
 * later check the device's support before the range); how a discard is
 * cut into calls (granule boundaries, the chunk adapting to the time a
 * call takes); which reads go through the pool in map mode (large reads:
 * the rule, and a Xen PV domain told by /sys/hypervisor/guest_type, here
 * files standing in for it); which block devices map mode's "known
 * local" accepts, on fake sysfs trees (NVMe multipath, MMC cards, Xen
 * virtual disks, PCI disks, iSCSI, btrfs on partitions), and the
 * max_segments large reads go by, read there too (a partition's whole
 * disk, btrfs's devices, a RAM disk, guest_type PV). PASS/FAIL lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blk/blk.h"

static int failures;

static void secdiscard_case(const char *release, bool want)
{
	bool got = blk_secdiscard_checks_support_first(release);

	if (got == want) {
		printf("PASS: secure discard probe trusted on '%s': %s\n",
		       release, want ? "yes" : "no");
		return;
	}
	failures++;
	printf("FAIL: secure discard probe trusted on '%s': %s (got %s)\n",
	       release, want ? "yes" : "no", got ? "yes" : "no");
}

static void check(bool ok, const char *name, unsigned long long got)
{
	if (ok) {
		printf("PASS: %s\n", name);
		return;
	}
	failures++;
	printf("FAIL: %s (got %llu)\n", name, got);
}

#define MIB (1ull << 20)

/* The calls a whole discard is cut into, each ending on a granule. */
static void chunk_cases(void)
{
	struct blk_backing file = { .discard_granularity = 4096 };
	struct blk_backing dev = { .discard_granularity = 3 * MIB,
				   .discard_alignment = 512 * 1024 };
	uint64_t e, off, end, calls = 0;
	bool aligned = true, grows = true;

	e = blk_discard_chunk_end(&file, 16 * MIB, 0, 1ull << 40);
	check(e == 16 * MIB, "discard chunk: 16 MiB from 0 on a file", e);
	e = blk_discard_chunk_end(&file, 16 * MIB, 4096 + 512, 1ull << 40);
	check(e == 16 * MIB + 4096, "discard chunk: back to a 4 KiB boundary",
	      e);
	e = blk_discard_chunk_end(&file, 16 * MIB, 100, 100 + 16 * MIB - 8);
	check(e == 100 + 16 * MIB - 8, "discard chunk: a short tail is one call",
	      e);
	/* Granules of 3 MiB starting at 512 KiB: every end but the last on
	 * one, each call past the one before. */
	off = 1000 * 512;
	end = off + 100 * MIB + 4096;
	while (off < end && calls < 1000) {
		e = blk_discard_chunk_end(&dev, 16 * MIB, off, end);
		grows &= e > off && e - off <= 16 * MIB;
		if (e != end)
			aligned &= (e - 512 * 1024) % (3 * MIB) == 0;
		off = e;
		calls++;
	}
	check(off == end && grows && aligned,
	      "discard chunk: 3 MiB granules at 512 KiB, ends on granules",
	      calls);
	e = blk_discard_chunk_end(&dev, MIB, 0, 1ull << 40);
	check(e > 0 && (e - 512 * 1024) % (3 * MIB) == 0,
	      "discard chunk: granules larger than the chunk: one at least", e);
}

static void pace_cases(void)
{
	const uint64_t ms = 1000000;
	uint64_t c;

	c = blk_discard_pace(16 * MIB, 16 * MIB, 1 * ms);
	check(c == 32 * MIB, "discard pace: a quick chunk doubles", c);
	c = blk_discard_pace(16 * MIB, 8 * 1024, 1 * ms);
	check(c == 16 * MIB, "discard pace: a quick small tail keeps it", c);
	c = blk_discard_pace(16 * MIB, 16 * MIB, 60 * ms);
	check(c == 16 * MIB, "discard pace: a call near the aim keeps it", c);
	c = blk_discard_pace(16 * MIB, 16 * MIB, 400 * ms);
	check(c == 4 * MIB, "discard pace: four times too slow: a quarter", c);
	c = blk_discard_pace(16 * MIB, 16 * MIB, 60000 * ms);
	check(c == BLK_DISCARD_CHUNK_MIN, "discard pace: never below 1 MiB",
	      c);
	c = blk_discard_pace(BLK_DISCARD_CHUNK_MAX, BLK_DISCARD_CHUNK_MAX, 0);
	check(c == BLK_DISCARD_CHUNK_MAX, "discard pace: never above 1 GiB", c);
}

/* guest_type holding content (NULL: no such file) says PV or not. */
static void pv_case(const char *label, const char *content, bool want)
{
	char path[] = "/tmp/xb-blkunit.XXXXXX";
	int fd = mkstemp(path);
	bool got;

	if (fd < 0 || (content && write(fd, content, strlen(content)) < 0)) {
		failures++;
		printf("FAIL: guest_type %s: cannot write a file\n", label);
		return;
	}
	close(fd);
	if (!content)
		unlink(path);
	got = blk_xen_pv_domain(path);
	unlink(path);
	if (got == want) {
		printf("PASS: guest_type %s: %s\n", label,
		       want ? "a PV domain" : "not PV");
		return;
	}
	failures++;
	printf("FAIL: guest_type %s: %s (got %s)\n", label,
	       want ? "PV" : "not PV", got ? "PV" : "not PV");
}

static void rule_case(const char *name, bool chosen_auto, bool pv,
		      unsigned int limit, unsigned int want,
		      const char *want_why)
{
	char why[BLK_DATA_WHY_MAX];
	unsigned int got = blk_large_reads_rule(chosen_auto, pv, limit, "vda",
						why, sizeof(why));

	if (got == want && !strcmp(why, want_why)) {
		printf("PASS: large reads: %s: over %u (%s)\n", name, want, why);
		return;
	}
	failures++;
	printf("FAIL: large reads: %s: over %u (%s), got %u (%s)\n", name,
	       want, want_why, got, why);
}

static void large_reads_cases(void)
{
	pv_case("PV", "PV\n", true);
	pv_case("PV without a newline", "PV", true);
	pv_case("PVH", "PVH\n", false);
	pv_case("HVM", "HVM\n", false);
	pv_case("empty", "", false);
	pv_case("absent (not Xen)", NULL, false);
	rule_case("auto, a disk of 254", true, false, 254, 254,
		  "reads-over-254-segments-of-vda");
	rule_case("auto, a loop device's 128", true, false, 128, 128,
		  "reads-over-128-segments-of-vda");
	rule_case("auto in a PV domain", true, true, 254, 0, "xen-pv-domain");
	rule_case("vbd-data = map", false, false, 254, 0, "vbd-data=map");
	rule_case("data in memory", true, false, 0, 0,
		  "no-disk-under-the-backing");
	rule_case("a disk taking every request whole", true, false,
		  BLK_MAX_INDIRECT_SEGS, 0, "vda-takes-256-segments");
}

/* ---- fake sysfs trees ------------------------------------------------ */

static char root[128];

/* root + rel, each missing folder made. */
static const char *at(const char *rel, bool make_parent)
{
	static char p[PATH_MAX];
	char *s;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	if (make_parent)
		for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	return p;
}

static void mkdirs(const char *rel)
{
	mkdir(at(rel, true), 0755);
}

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel, true), "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void ln(const char *target, const char *rel)
{
	if (symlink(target, at(rel, true)) < 0 && errno != EEXIST)
		perror(rel);
}

/* A block device's dir (under /sys), its dev file and /sys/dev/block
 * link; a partition when part. */
static void bdev(const char *dir, unsigned int maj, unsigned int min,
		 bool part)
{
	char rel[512], dev[32], link[600];

	mkdirs(dir);
	snprintf(rel, sizeof(rel), "%s/dev", dir);
	snprintf(dev, sizeof(dev), "%u:%u\n", maj, min);
	put(rel, dev);
	if (part) {
		snprintf(rel, sizeof(rel), "%s/partition", dir);
		put(rel, "1\n");
	}
	snprintf(rel, sizeof(rel), "/sys/dev/block/%u:%u", maj, min);
	snprintf(link, sizeof(link), "../../..%s", dir);
	ln(link, rel);
}

static void local_case(unsigned int maj, unsigned int min, bool want,
		       const char *want_why, const char *what)
{
	char why[BLK_DATA_WHY_MAX];
	bool got = blk_bdev_is_local(maj, min, why, sizeof(why));

	if (got == want && !strcmp(why, want_why)) {
		printf("PASS: known local: %s: %s (%s)\n", what,
		       want ? "map" : "copy", why);
		return;
	}
	failures++;
	printf("FAIL: known local: %s: want %s (%s), got %s (%s)\n", what,
	       want ? "map" : "copy", want_why, got ? "map" : "copy", why);
}

/* /sys/class/block/NAME, as the kernel links it to the device's dir. */
static void class_link(const char *name, const char *dir)
{
	char rel[128], link[600];

	snprintf(rel, sizeof(rel), "/sys/class/block/%s", name);
	snprintf(link, sizeof(link), "../../..%s", dir);
	ln(link, rel);
}

static void segs_case(unsigned int got, const char *dev, unsigned int want,
		      const char *want_dev, const char *what)
{
	if (got == want && !strcmp(dev, want_dev)) {
		printf("PASS: max_segments: %s: %u (%s)\n", what, want,
		       want_dev);
		return;
	}
	failures++;
	printf("FAIL: max_segments: %s: want %u (%s), got %u (%s)\n", what,
	       want, want_dev, got, dev);
}

static void bdev_segs_case(unsigned int maj, unsigned int min,
			   unsigned int want, const char *want_dev,
			   const char *what)
{
	char dev[32];
	unsigned int got = blk_bdev_max_segments(maj, min, dev, sizeof(dev));

	segs_case(got, dev, want, want_dev, what);
}

#define FSID "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define FSID2 "11111111-2222-3333-4444-555555555555"

/*
 * A btrfs filesystem on partitions: its devices listed under
 * /sys/fs/btrfs/<fsid>/devices, each a partition whose whole disk has
 * the queue (tree made by sysfs_cases()).
 */
static void btrfs_cases(void)
{
	char why[BLK_DATA_WHY_MAX], dev[32];
	unsigned int got;
	bool local;

	ln("../../../../devices/pci0000:00/0000:00:1f.2/ata1/host0/"
	   "target0:0:0/0:0:0:0/block/sda/sda2",
	   "/sys/fs/btrfs/" FSID "/devices/sda2");
	local = blk_btrfs_is_local(FSID, why, sizeof(why));
	if (local && !strcmp(why, "file-on-btrfs-on-local-disks")) {
		printf("PASS: known local: btrfs on a partition of a PCI disk: "
		       "map (%s)\n", why);
	} else {
		failures++;
		printf("FAIL: known local: btrfs on a partition of a PCI disk: "
		       "want map (file-on-btrfs-on-local-disks), got %s (%s)\n",
		       local ? "map" : "copy", why);
	}
	got = blk_btrfs_max_segments(FSID, dev, sizeof(dev));
	segs_case(got, dev, 168, "sda",
		  "btrfs on a partition: its whole disk's");
	/* Two devices: partitions of two disks, the smaller limit wins. */
	ln("../../../../devices/pci0000:00/0000:00:1f.2/ata1/host0/"
	   "target0:0:0/0:0:0:0/block/sda/sda2",
	   "/sys/fs/btrfs/" FSID2 "/devices/sda2");
	ln("../../../../devices/pci0000:00/0000:00:03.0/virtio1/block/vda/"
	   "vda1", "/sys/fs/btrfs/" FSID2 "/devices/vda1");
	got = blk_btrfs_max_segments(FSID2, dev, sizeof(dev));
	segs_case(got, dev, 168, "sda",
		  "btrfs over partitions of two disks: the fewest");
	got = blk_btrfs_max_segments("99999999-0000-0000-0000-000000000000",
				     dev, sizeof(dev));
	segs_case(got, dev, 0, "", "btrfs sysfs does not list");
}

/*
 * Large reads for a device on block device maj:min (a device node made
 * here: only its number is looked at) with guest_type (NULL: no such
 * file) in the fake sysfs.
 */
static void choose_case(const char *guest_type, unsigned int maj,
			unsigned int min, unsigned int want,
			const char *want_why, const char *what)
{
	struct blk_dev bd;
	char node[200], why[BLK_DATA_WHY_MAX];
	unsigned int got;

	memset(&bd, 0, sizeof(bd));
	if (guest_type)
		put("/sys/hypervisor/guest_type", guest_type);
	else
		unlink(at("/sys/hypervisor/guest_type", false));
	snprintf(node, sizeof(node), "%s/node", root);
	unlink(node);
	if (mknod(node, S_IFBLK | 0600, makedev(maj, min)) < 0 ||
	    (bd.backing.fd = open(node, O_PATH | O_CLOEXEC)) < 0) {
		failures++;
		printf("FAIL: large reads chosen: %s: cannot make a device "
		       "node (%s)\n", what, strerror(errno));
		return;
	}
	got = blk_large_reads_choose(&bd, why, sizeof(why));
	close(bd.backing.fd);
	if (got == want && !strcmp(why, want_why)) {
		printf("PASS: large reads chosen: %s: over %u (%s)\n", what,
		       want, why);
		return;
	}
	failures++;
	printf("FAIL: large reads chosen: %s: want over %u (%s), got %u "
	       "(%s)\n", what, want, want_why, got, why);
}

static void sysfs_cases(void)
{
	const char *ss0 = "/sys/devices/virtual/nvme-subsystem/nvme-subsys0";
	const char *ss1 = "/sys/devices/virtual/nvme-subsystem/nvme-subsys1";
	const char *mmc = "/sys/devices/platform/soc/fe340000.mmc/mmc_host/"
			  "mmc0/mmc0:0001";
	char cmd[200], p[512];

	snprintf(root, sizeof(root), "/tmp/xb-blk-sysfs.XXXXXX");
	if (!mkdtemp(root)) {
		failures++;
		printf("FAIL: known local: a fake sysfs tree (%s)\n",
		       strerror(errno));
		return;
	}
	blk_datapath_sysfs_root(root);

	/* NVMe multipath: the head disk in its subsystem, the controllers
	 * linked there, each with its transport. */
	put("/sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0/transport",
	    "pcie\n");
	put("/sys/devices/pci0000:00/0000:00:05.0/nvme/nvme1/transport",
	    "pcie\n");
	put("/sys/devices/virtual/nvme-fabrics/ctl/nvme3/transport", "tcp\n");
	snprintf(p, sizeof(p), "%s/nvme0", ss0);
	ln("../../../pci0000:00/0000:00:04.0/nvme/nvme0", p);
	snprintf(p, sizeof(p), "%s/nvme1", ss0);
	ln("../../../pci0000:00/0000:00:05.0/nvme/nvme1", p);
	snprintf(p, sizeof(p), "%s/nvme0n1", ss0);
	bdev(p, 259, 0, false);
	snprintf(p, sizeof(p), "%s/nvme0n1/nvme0n1p1", ss0);
	bdev(p, 259, 1, true);
	snprintf(p, sizeof(p), "%s/nvme1", ss1);
	ln("../../../pci0000:00/0000:00:05.0/nvme/nvme1", p);
	snprintf(p, sizeof(p), "%s/nvme3", ss1);
	ln("../../nvme-fabrics/ctl/nvme3", p);
	snprintf(p, sizeof(p), "%s/nvme1n1", ss1);
	bdev(p, 259, 2, false);
	local_case(259, 0, true, "nvme-multipath-nvme0n1-over-pcie",
		   "NVMe multipath, two PCIe paths");
	local_case(259, 1, true, "nvme-multipath-nvme0n1p1-over-pcie",
		   "a partition of it");
	local_case(259, 2, false,
		   "nvme-multipath-nvme1n1-over-tcp-not-known-local",
		   "NVMe multipath, one path over TCP");

	/* An SD card on an SoC's MMC host (platform bus, not PCI). */
	mkdirs("/sys/bus/mmc");
	snprintf(p, sizeof(p), "%s/subsystem", mmc);
	ln("../../../../../../../bus/mmc", p);
	snprintf(p, sizeof(p), "%s/block/mmcblk0", mmc);
	bdev(p, 179, 0, false);
	snprintf(p, sizeof(p), "%s/block/mmcblk0/device", mmc);
	ln("../../../mmc0:0001", p);
	snprintf(p, sizeof(p), "%s/block/mmcblk0/mmcblk0p2", mmc);
	bdev(p, 179, 2, true);
	local_case(179, 0, true, "mmc-card-mmcblk0", "MMC card");
	local_case(179, 2, true, "mmc-card-mmcblk0p2", "a partition of it");

	/* This domain a Xen guest itself: its xen-blkfront disk. */
	mkdirs("/sys/bus/xen");
	ln("../../bus/xen", "/sys/devices/vbd-51712/subsystem");
	bdev("/sys/devices/vbd-51712/block/xvda", 202, 0, false);
	ln("../../../vbd-51712", "/sys/devices/vbd-51712/block/xvda/device");
	local_case(202, 0, false, "xen-virtual-disk-xvda-not-known-local",
		   "Xen virtual disk (xvd)");

	/* As before: a PCI disk, an iSCSI one, a platform disk of no
	 * known bus, a device sysfs does not list. */
	bdev("/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/"
	     "0:0:0:0/block/sda", 8, 0, false);
	local_case(8, 0, true, "local-disk-sda", "SATA disk on PCI");
	bdev("/sys/devices/platform/host3/session1/target3:0:0/3:0:0:0/"
	     "block/sdb", 8, 16, false);
	local_case(8, 16, false, "disk-sdb-not-known-local", "iSCSI disk");
	mkdirs("/sys/bus/virtio");
	ln("../../../bus/virtio", "/sys/devices/platform/virtio0/subsystem");
	bdev("/sys/devices/platform/virtio0/block/vdb", 254, 16, false);
	ln("../../../virtio0", "/sys/devices/platform/virtio0/block/vdb/device");
	local_case(254, 16, false, "disk-vdb-not-known-local",
		   "a platform disk of no known bus");
	local_case(7, 99, false, "device-7:99-not-in-sysfs",
		   "a device sysfs does not list");

	/* max_segments, from the fake tree only (the real /sys has other
	 * numbers or no such devices): a disk's queue, a partition's whole
	 * disk's, a RAM disk none, a virtio disk of 254. */
	put("/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/"
	    "0:0:0:0/block/sda/queue/max_segments", "168\n");
	bdev("/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/"
	     "0:0:0:0/block/sda/sda2", 8, 2, true);
	class_link("sda2", "/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/"
			   "target0:0:0/0:0:0:0/block/sda/sda2");
	bdev("/sys/devices/pci0000:00/0000:00:03.0/virtio1/block/vda", 254, 0,
	     false);
	put("/sys/devices/pci0000:00/0000:00:03.0/virtio1/block/vda/queue/"
	    "max_segments", "254\n");
	bdev("/sys/devices/pci0000:00/0000:00:03.0/virtio1/block/vda/vda1",
	     254, 1, true);
	class_link("vda1",
		   "/sys/devices/pci0000:00/0000:00:03.0/virtio1/block/vda/vda1");
	bdev("/sys/devices/virtual/block/ram0", 1, 0, false);
	put("/sys/devices/virtual/block/ram0/queue/max_segments", "128\n");
	bdev_segs_case(8, 0, 168, "sda", "a SATA disk");
	bdev_segs_case(8, 2, 168, "sda", "a partition: its whole disk's");
	bdev_segs_case(254, 1, 254, "vda", "a partition of a virtio disk");
	bdev_segs_case(1, 0, 0, "", "a RAM disk: data in memory");
	bdev_segs_case(7, 99, 0, "", "a device sysfs does not list");
	btrfs_cases();

	/* Large reads as connect chooses them, guest_type in the tree. */
	choose_case("PV\n", 8, 2, 0, "xen-pv-domain",
		    "a Xen PV domain (guest_type PV)");
	choose_case("HVM\n", 8, 2, 168, "reads-over-168-segments-of-sda",
		    "a Xen HVM domain, a partition of sda");
	choose_case(NULL, 8, 2, 168, "reads-over-168-segments-of-sda",
		    "not on Xen, a partition of sda");
	choose_case(NULL, 254, 1, 254, "reads-over-254-segments-of-vda",
		    "a partition of a virtio disk");
	choose_case(NULL, 1, 0, 0, "no-disk-under-the-backing",
		    "a RAM disk");

	blk_datapath_sysfs_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		perror(cmd);
}

int main(void)
{
	sysfs_cases();
	large_reads_cases();
	chunk_cases();
	pace_cases();
	secdiscard_case("6.1.0-27-amd64", true);	/* Debian 12 */
	secdiscard_case("5.19.0", true);
	secdiscard_case("5.19", true);
	secdiscard_case("6.0.19", true);
	secdiscard_case("10.0.0", true);
	secdiscard_case("5.18.19", false);
	secdiscard_case("5.10.0-30-amd64", false);	/* Debian 11 */
	secdiscard_case("5.4.0", false);
	secdiscard_case("4.19.0-26-amd64", false);	/* Debian 10 */
	secdiscard_case("3.16", false);
	secdiscard_case("", false);
	secdiscard_case("linux", false);
	secdiscard_case("5", false);
	return failures ? 1 : 0;
}
