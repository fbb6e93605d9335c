#!/bin/sh
# sim-blk-datapath.sh: the data path the daemon picks by itself (auto,
# docs/blk.md "Data path"): grant map where O_DIRECT on a guest's page is
# known safe, grant copy otherwise. Each branch on a real backing: files
# on tmpfs and on FUSE (fuse2fs: a filesystem the daemon must not trust),
# loop devices over each, ext4 and btrfs on those loop devices, the toolstack's direct-io-safe (0, 1, and a bad
# value), an unknown XENBACKD_BLK_DATA. Each device is then used by a
# simulated blkfront (write, read back) and xenbackctl must show the path
# and the reason, in text and JSON. PASS:/FAIL: lines.
set -u
tmp=$(mktemp -d /tmp/xb-blkdp.XXXX)
shm=$(mktemp -d /dev/shm/xb-blkdp.XXXX)
H=$tmp/h
BLK_CASE="datapath: "
. tests/blk/lib.sh
fusemnt=
cleanup() {
	host_stop
	release_backings
	# A detached loop device lets go of its file a little later.
	i=0
	while [ -n "$fusemnt" ] && ! umount "$fusemnt" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 50 ] && { umount -l "$fusemnt"; break; }
		sleep 0.1
	done
	rm -rf "$tmp" "$shm"
}
trap cleanup EXIT INT TERM

# add_vbd DEVID PARAMS [DIRECT_IO_SAFE]: what libxl writes for a disk of
# domain 1 (direct-io-safe as `xl`'s disk option direct-io-safe writes it)
add_vbd() { vbd_add 1 "$1" "$2" w disk ${3+"$3"}; }

# expect NAME DEVID BACKING DATA WHY [DIRECT_IO_SAFE]: the disk is served
# (a blkfront writes and reads back every sector), by DATA (grant-map or
# grant-copy) for the reason WHY (a shell pattern), in both outputs.
expect() {
	n=$1 v=$2 backing=$3 data=$4 why=$5
	shift 5
	add_vbd "$v" "$backing" "$@" ||
		{ fail "$n" "(cannot write the toolstack's nodes)"; return; }
	if ! front_ok "$tmp/$n.out" -d "$v" -S 8192 -s "$v" \
		-n "datapath: $n" verify; then
		fail "$n: served" "$(front_fails "$tmp/$n.out")"
		return
	fi
	pass "$n: served"
	list_line "$v"
	got=$(word data) gotwhy=$(word data-why)
	# shellcheck disable=SC2254
	case "$got $gotwhy" in
	"$data "$why) pass "$n: $data ($gotwhy)" ;;
	*) fail "$n: $data" "(xenbackctl list: data=$got data-why=$gotwhy)" ;;
	esac
	json_has "$n" "$v" "*\"data\": \"$data\", \"data-why\": \"$gotwhy\"*"
	logged_at_connect "$n" "$v" "${data#grant-} ($gotwhy)"
}

# ---- host, guest, daemon ----------------------------------------------
host_start 1

# FUSE: ext4 served by fuse2fs, as any userspace (or network) filesystem
# would be: statfs says fuse, and fuse is never trusted.
truncate -s 128M "$tmp/fuse.ext4"
mkdir "$tmp/fuse"
if mkfs.ext4 -q -F "$tmp/fuse.ext4" >/dev/null 2>&1 &&
	timeout 20 fuse2fs -o fakeroot "$tmp/fuse.ext4" "$tmp/fuse" \
		>"$tmp/fuse2fs.log" 2>&1; then
	fusemnt=$tmp/fuse
	pass "a FUSE filesystem is mounted (fuse2fs)"
else
	fail "a FUSE filesystem is mounted (fuse2fs)" \
		"($(tail -n 2 "$tmp/fuse2fs.log" 2>/dev/null))"
fi
for f in a b c d e; do truncate -s 4M "$shm/$f.img"; done
for f in f g h; do [ -n "$fusemnt" ] && truncate -s 4M "$fusemnt/$f.img"; done
lo_shm=$(losetup -f --show "$shm/e.img") && loops="$lo_shm"
lo_fuse=
[ -n "$fusemnt" ] && lo_fuse=$(losetup -f --show "$fusemnt/h.img") &&
	loops="$loops $lo_fuse"
# mkfs_on_loop FSTYPE NAME IMAGE: a FSTYPE (ext4, btrfs) filesystem on a
# loop device over IMAGE, mounted on $tmp/NAME, with a 4 MiB disk.img
mkfs_on_loop() {
	case $1 in
	ext4) mkfs="mkfs.ext4 -q -F" ;;
	btrfs) mkfs="mkfs.btrfs -q -f -K" ;;
	*) return 1 ;;
	esac
	l=$(losetup -f --show "$3") || return 1
	loops="$l $loops"
	# shellcheck disable=SC2086 # $mkfs is a command and its options
	$mkfs "$l" >/dev/null 2>&1 && mkdir "$tmp/$2" &&
		mount -t "$1" "$l" "$tmp/$2" && mounts="$tmp/$2 $mounts" &&
		truncate -s 4M "$tmp/$2/disk.img"
}
# ext4 (a local filesystem type) on a loop device over a file on tmpfs,
# and on one over a file on FUSE: the device under the filesystem counts.
truncate -s 32M "$shm/ext4.img"
mkfs_on_loop ext4 ext4shm "$shm/ext4.img" ||
	fail "ext4 on a loop device over tmpfs"
if [ -n "$fusemnt" ]; then
	truncate -s 32M "$fusemnt/ext4.img"
	mkfs_on_loop ext4 ext4fuse "$fusemnt/ext4.img" ||
		fail "ext4 on a loop device over FUSE"
fi
# btrfs the same way (its files have no device number: its devices are
# found in sysfs).
truncate -s 256M "$shm/btrfs.img"
mkfs_on_loop btrfs btrfsshm "$shm/btrfs.img" ||
	fail "btrfs on a loop device over tmpfs"
if [ -n "$fusemnt" ]; then
	truncate -s 256M "$fusemnt/btrfs.img"
	mkfs_on_loop btrfs btrfsfuse "$fusemnt/btrfs.img" ||
		fail "btrfs on a loop device over FUSE"
fi

# An unknown value of the override is reported once and means auto.
BLK_DAEMON_ENV=XENBACKD_BLK_DATA=fastest
daemon_start "$tmp/ctl.sock" --log-level info
daemon_started || { fail "daemon runs"; exit 1; }

expect tmpfs-file 51712 "$shm/a.img" grant-map "file-on-tmpfs"
expect direct-io-safe-0 51728 "$shm/b.img" grant-copy "direct-io-safe=0" 0
expect direct-io-safe-bad 51744 "$shm/c.img" grant-copy \
	"direct-io-safe-invalid" yes
if grep -q "vbd/1/51744.*backend node direct-io-safe is not a canonical number (0 or 1): grant copy" \
	"$tmp/daemon.log"; then pass "a bad direct-io-safe is logged"
else fail "a bad direct-io-safe is logged"; fi
expect loop-over-tmpfs 51760 "$lo_shm" grant-map "loop*-over-file-on-tmpfs"
expect ext4-on-loop-over-tmpfs 51824 "$tmp/ext4shm/disk.img" grant-map \
	"file-on-ext4-on-loop*-over-file-on-tmpfs"
expect btrfs-on-loop-over-tmpfs 51856 "$tmp/btrfsshm/disk.img" grant-map \
	"file-on-btrfs-on-local-disks"
if [ -n "$fusemnt" ]; then
	expect fuse-file 51776 "$fusemnt/f.img" grant-copy "file-on-fuse"
	expect fuse-direct-io-safe-1 51792 "$fusemnt/g.img" grant-map \
		"direct-io-safe=1" 1
	expect loop-over-fuse 51808 "$lo_fuse" grant-copy \
		"loop*-over-file-on-fuse"
	expect ext4-on-loop-over-fuse 51840 "$tmp/ext4fuse/disk.img" \
		grant-copy "file-on-ext4-on-loop*-over-file-on-fuse"
	expect btrfs-on-loop-over-fuse 51872 "$tmp/btrfsfuse/disk.img" \
		grant-copy "file-on-btrfs-on-disks-not-known-local"
fi

n=$(grep -c "environment: XENBACKD_BLK_DATA='fastest' (vbd-data) is not auto, copy or map: ignored (the default is auto)" \
	"$tmp/daemon.log")
if [ "$n" = 1 ]; then pass "an unknown XENBACKD_BLK_DATA is logged once"
else fail "an unknown XENBACKD_BLK_DATA is logged once" "($n times)"; fi

daemon_stops_cleanly
exit 0
