#!/bin/sh
# sim-blk-largereads.sh: large reads through the pool in map mode
# (docs/blk.md "Large reads through the pool"): under vbd-data auto, a
# read of more segments than the backing's disk takes in one request
# (its queue/max_segments, the smallest along the stack) is served by
# grant copy through the queue's pool, everything else stays mapped; a
# backing whose data ends in memory (tmpfs, a loop device over tmpfs) and
# an explicit vbd-data = map stay purely mapped. On real devices: a file
# on the machine's disk (/tmp), a loop device over a file there (128
# segments), ext4 on such a loop device, tmpfs. Each disk is used by a
# simulated blkfront (reads of chosen segment counts on both sides of
# the limit, data compared) and xenbackctl must show the choice, its
# reason and exact counters. (A Xen PV domain is blk_unit's: no such
# domain here.) PASS:/FAIL: lines.
set -u
tmp=$(mktemp -d /tmp/xb-blklr.XXXX)
shm=$(mktemp -d /dev/shm/xb-blklr.XXXX)
H=$tmp/h
BLK_CASE="largereads: "
BLK_LOG_TAIL=30
. tests/blk/lib.sh
trap blk_cleanup EXIT INT TERM

# disk_limit FILE: the max_segments of the disk FILE is on, found here
# independently of the daemon (a partition counts its whole disk's).
disk_limit() {
	sys=$(readlink -f "/sys/dev/block/$(stat -c %Hd:%Ld "$1")")
	[ -e "$sys/partition" ] && sys=${sys%/*}
	cat "$sys/queue/max_segments" 2>/dev/null
}
SEGS="1 11 12 32 127 128 129 253 254 255 256"
# served NAME DEVID BACKING LIMIT WHY [DIO]: the disk is used by a
# blkfront doing two reads of each count of SEGS (data compared); the
# daemon copies those over LIMIT (0: none) for the reason WHY (a shell
# pattern), as xenbackctl shows in text and JSON, with exact counters:
# copy_reads the reads over LIMIT, map_segs the segments of the mapped
# requests of more than one (every write, the reads up to LIMIT).
served() {
	n=$1 v=$2 backing=$3 limit=$4 why=$5
	shift 5
	vbd_add 1 "$v" "$backing" w disk ${1+"$1"} ||
		{ fail "$n" "(cannot write the toolstack's nodes)"; return; }
	if front_ok "$tmp/$n.out" -d "$v" -i 256 -p \
		-w "$(echo $SEGS | tr ' ' ,)" -n "largereads: $n" segs; then
		pass "$n: data read back on both paths"
	else
		fail "$n: data read back on both paths" \
			"$(front_fails "$tmp/$n.out")"
		return
	fi
	want_copy=0 want_segs=0 reads=0
	for k in $SEGS; do
		reads=$((reads + 2))
		[ "$k" -gt 1 ] && want_segs=$((want_segs + k))
		if [ "$limit" -gt 0 ] && [ "$k" -gt "$limit" ]; then
			want_copy=$((want_copy + 2))
		elif [ "$k" -gt 1 ]; then
			want_segs=$((want_segs + 2 * k))
		fi
	done
	list_line "$v"
	data=$(word large-reads) got=$(word large-reads-why)
	want=grant-map
	[ "$limit" -gt 0 ] && want=grant-copy
	# shellcheck disable=SC2254 # why is a pattern
	case "$(word data) $data $got" in
	"grant-map $want "$why) pass "$n: large reads by $want ($got)" ;;
	*) fail "$n: large reads by $want" "($line)" ;;
	esac
	c="rd_req=$(word rd_req) copy_reads=$(word copy_reads) map_segs=$(word map_segs)"
	if [ "$c" = "rd_req=$reads copy_reads=$want_copy map_segs=$want_segs" ]
	then pass "$n: counters exact ($c)"
	else fail "$n: counters exact" "($c; want rd_req=$reads copy_reads=$want_copy map_segs=$want_segs)"
	fi
	json_has "$n" "$v" "*\"large-reads\": \"$data\", \"large-reads-why\": \"$got\"*\"copy_reads\": $want_copy*"
	logged_at_connect "$n" "$v" \
		"grant map .*, large reads by grant ${data#grant-} ($got)"
	del_vbd 1 "$v"
}

# ---- backings ---------------------------------------------------------
host_start 1
truncate -s 16M "$tmp/disk.img" "$shm/mem.img"
dd if=/dev/zero of="$tmp/lo.img" bs=1M count=16 status=none
lim=$(disk_limit "$tmp/disk.img")
if [ -n "$lim" ] && [ "$lim" -gt 0 ] && [ "$lim" -lt 256 ]; then
	pass "/tmp is on a disk taking $lim segments a request"
else
	fail "/tmp is on a disk taking fewer than 256 segments a request" \
		"(found '$lim': these cases need /tmp on such a disk)"
	exit 1
fi
lo_disk=$(losetup -f --show "$tmp/lo.img") && loops="$lo_disk"
lo_mem=$(losetup -f --show "$shm/mem.img") && loops="$loops $lo_mem"
lo_lim=$(cat "/sys/block/${lo_disk#/dev/}/queue/max_segments")
[ "$lo_lim" -gt "$lim" ] && lo_lim=$lim
# ext4 on a loop device over a file on the disk: file -> ext4 -> loop ->
# file -> ext4 -> the disk.
dd if=/dev/zero of="$tmp/ext4.img" bs=1M count=32 status=none
l=$(losetup -f --show "$tmp/ext4.img") && loops="$l $loops" &&
	mkfs.ext4 -q -F "$l" >/dev/null 2>&1 && mkdir "$tmp/ext4" &&
	mount -t ext4 "$l" "$tmp/ext4" && mounts="$tmp/ext4" &&
	truncate -s 16M "$tmp/ext4/disk.img" ||
	fail "ext4 on a loop device over a file on the disk"

daemon_start "$tmp/ctl.sock" --log-level info
daemon_started || { fail "daemon runs"; exit 1; }

served file-on-disk 51712 "$tmp/disk.img" "$lim" "reads-over-$lim-segments-of-*"
served loop-over-disk-file 51728 "$lo_disk" "$lo_lim" \
	"reads-over-$lo_lim-segments-of-*"
served ext4-on-loop-over-disk-file 51744 "$tmp/ext4/disk.img" "$lo_lim" \
	"reads-over-$lo_lim-segments-of-loop*"
served file-on-tmpfs 51760 "$shm/mem.img" 0 no-disk-under-the-backing
served loop-over-tmpfs 51776 "$lo_mem" 0 no-disk-under-the-backing
# The toolstack's direct-io-safe=1 is still the daemon's own choice.
served direct-io-safe-1 51792 "$tmp/disk.img" "$lim" \
	"reads-over-$lim-segments-of-*" 1
daemon_stops_cleanly

# The operator's vbd-data = map: purely mapped, every read.
BLK_DAEMON_ENV=XENBACKD_BLK_DATA=map
daemon_start "$tmp/ctl.sock" --log-level info
daemon_started || { fail "daemon runs (vbd-data = map)"; exit 1; }
served vbd-data-map 51808 "$tmp/disk.img" 0 vbd-data=map
daemon_stops_cleanly

# vbd-data = copy: all by copy, no large-reads line.
BLK_DAEMON_ENV=XENBACKD_BLK_DATA=copy
daemon_start "$tmp/ctl.sock" --log-level info
daemon_started || { fail "daemon runs (vbd-data = copy)"; exit 1; }
vbd_add 1 51824 "$tmp/disk.img" w disk
if front_ok "$tmp/copy.out" -d 51824 -i 256 -p -w 255,256 \
	-n "largereads: vbd-data-copy" segs; then
	pass "vbd-data-copy: data read back"
else
	fail "vbd-data-copy: data read back" "$(front_fails "$tmp/copy.out")"
fi
list_line 51824
case " $line " in
*" data=grant-copy "*large-reads*|*copy_reads*) fail "vbd-data-copy: no large-reads fields" "($line)" ;;
*" data=grant-copy "*) pass "vbd-data-copy: no large-reads fields" ;;
*) fail "vbd-data-copy: no large-reads fields" "($line)" ;;
esac
daemon_stops_cleanly
exit 0
