# blk-guest: one Linux guest (2 vCPUs, xen_blkfront.max_queues=2) with a
# disk served by xenbackd through the default `block` script:
#  - xvda has the image's size; blkfront reports flush, persistent grants
#    and indirect descriptors enabled (as with xen-blkback) and uses 2
#    queues;
#  - a pattern written through the page cache and fsync'd reads back
#    identical after the guest's caches are dropped, and dom0 finds it in
#    the image;
#  - mkfs.ext4 on the first 32 MiB, files written, sync, unmount: e2fsck
#    finds it clean (in the guest, and in dom0 on the image);
#  - `xl block-detach` while the guest runs: xvda goes away, the backend
#    reaches Closed by itself, the loop device is released; `xl
#    block-attach`: xvda comes back (2 queues again) with the pattern and
#    the filesystem's files intact, still fsck-clean;
#  - blkdiscard goes through: the range reads as zeros, dom0 sees a hole;
#  - the image grows while the guest runs (`losetup -c`) and does no I/O:
#    xvda grows; `xenbackctl resize` agrees.
# With xenbackd it also prints how blkfront's pages lay and how many grants
# it cycled through (the map_* counters, docs/perf.md "Reversed grants"),
# before the detach and at the end, for reading, not asserted.
E2E_MODES="xenbackd kernel"

guest() {
	local line n want got
	g_disk xvda 30
	[ "$(cat /sys/block/xvda/size)" = 131072 ] ||
		g_fail "xvda has $(cat /sys/block/xvda/size) sectors, want 131072"
	line=$(dmesg | grep "blkfront: xvda:" | tail -n 1)
	echo "$line"
	for f in "flush diskcache: enabled" "persistent grants: enabled" \
		"indirect descriptors: enabled"; do
		echo "$line" | grep -q "$f" || g_fail "blkfront: no '$f'"
	done
	n=$(ls /sys/block/xvda/mq | wc -l)
	[ "$n" = 2 ] || g_fail "xvda has $n hardware queues, want 2"

	# 4 MiB at 40 MiB; the filesystem on the first 32 MiB.
	g_pattern /dev/xvda 40 4
	want=$G_PATTERN_MD5
	g_fs_files /dev/xvda 32 /mnt/fs

	# Detach and attach while the guest runs.
	echo "detach-ready"
	g_wait 60 eval '! test -b /dev/xvda' ||
		g_fail "xvda still there 60 s after detach-ready"
	echo "detached"
	g_disk xvda 90
	n=$(ls /sys/block/xvda/mq | wc -l)
	[ "$n" = 2 ] || g_fail "xvda has $n hardware queues after attach, want 2"
	got=$(g_md5 /dev/xvda 40 4)
	[ "$want" = "$got" ] || g_fail "pattern after attach: $got, wrote $want"
	g_fs_intact /dev/xvda /mnt/fs
	g_fsck /dev/xvda "after attach"

	g_discard /dev/xvda 48 4

	# Idle from here: xenbackd notices the resize by itself (the
	# kernel's blkback only while it serves requests: nudge it).
	echo "resize-ready"
	if grep -q 'e2e.mode=kernel' /proc/cmdline; then
		g_wait 60 eval 'dd if=/dev/xvda of=/dev/null bs=4k count=1 \
			iflag=direct; [ "$(cat /sys/block/xvda/size)" = 196608 ]'
	else
		g_wait 60 eval '[ "$(cat /sys/block/xvda/size)" = 196608 ]'
	fi || g_fail "xvda still has $(cat /sys/block/xvda/size) sectors"
	dd if=/dev/zero of=/dev/xvda bs=64k seek=1500 count=1 oflag=direct \
		2>/dev/null || g_fail "cannot write in the grown part"
}

# For docs/perf.md (reversed grants): how blkfront's pages lay, and how
# many distinct grants it cycled through (map_misses with no eviction;
# map_peak: the most one queue's set held), since the disk connected.
bg_layout() {
	[ "$E2E_MODE" = xenbackd ] || return 0
	echo "xvda layout $2: $(e2e_ctl list |
		awk -v d="$1" '$1 == d && $3 == 51712' | tr ' ' '\n' |
		grep -E '^(data|(rd|wr|indirect)_req|map_[a-z_]+)=' |
		tr '\n' ' ')"
}

# The image's 512-byte blocks allocated (tmpfs: a punched hole frees them).
bg_blocks() { stat -c %b "$1"; }

dom0() {
	local img d be fe want got b0 b1 loop sampler glog disk out
	img=$(e2e_disk bg 64)
	disk="format=raw,vdev=xvda,access=rw,target=$img"
	echo "disk = [ '$disk' ]" |
		GUEST_VCPUS=2 GUEST_EXTRA="xen_blkfront.max_queues=2 e2e.mode=$E2E_MODE" \
		e2e_guest_cfg bg
	# While the guest works: what dom0 spends its CPU on, every 10 s.
	(
		while sleep 10; do
			{ echo "-- top"; top -b -n 1 | head -n 12; } >/dev/console
		done
	) &
	sampler=$!
	e2e_create bg
	d=$(e2e_domid bg)
	be=$(e2e_be "$d" vbd 51712)
	glog=$(e2e_guest_log bg)
	e2e_wait 90 e2e_xs_is "$be/state" 4 || fail "xvda never Connected"
	fe=$(e2e_fe "$d" vbd 51712)
	# The block script's loop device discards, but cannot erase securely.
	e2e_xs_is "$be/feature-discard" 1 || fail "feature-discard is not 1"
	e2e_xs_is "$be/discard-secure" 0 ||
		fail "discard-secure is '$(xsr "$be/discard-secure")' on a loop device"
	e2e_xs_is "$fe/multi-queue-num-queues" 2 ||
		fail "blkfront asked for $(xsr "$fe/multi-queue-num-queues") queues"

	e2e_wait 150 grep -q detach-ready "$glog" ||
		fail "the guest did not get to the detach step"
	bg_layout "$d" "before detach (pattern, mkfs, files, fsck)"
	e2e_xl_detach block-detach bg xvda
	e2e_wait 10 eval "! losetup -a | grep -q '$img'" ||
		fail "loop device still bound after detach (block remove did not run)"
	e2e_wait 10 eval "! e2e_backend_holds $d" ||
		fail "the backend still holds the detached disk"
	e2e_wait 60 grep -q detached "$glog" ||
		fail "the guest still sees xvda after the detach"
	# Detached: the image is dom0's alone. The pattern is there and the
	# guest's filesystem is clean.
	want=$(e2e_guest_value bg pattern-md5)
	got=$(e2e_md5 "$img" 40 4)
	[ -n "$want" ] && [ "$want" = "$got" ] ||
		fail "dom0 reads $got from the image, the guest wrote $want"
	e2e_fsck_image "$img"
	b0=$(bg_blocks "$img")
	timeout "$E2E_XL_TIMEOUT" xl block-attach bg "$disk" ||
		fail "xl block-attach failed"
	e2e_wait 90 e2e_xs_is "$be/state" 4 || fail "xvda never Connected again"

	e2e_wait 150 grep -q resize-ready "$glog" ||
		fail "the guest did not get to the resize step"
	# The guest wrote 4 MiB and discarded them since the attach.
	b1=$(bg_blocks "$img")
	echo "image blocks: $b0 at detach, $b1 after the discard"
	[ "$b1" -lt $((b0 + 4096)) ] ||
		fail "no hole punched: $b0 blocks allocated at detach, $b1 after"
	truncate -s 96M "$img"
	loop=$(losetup -a | grep "$img" | cut -d: -f1)
	[ -n "$loop" ] || fail "no loop device for $img"
	losetup -c "$loop" || fail "losetup -c $loop failed"
	e2e_wait 60 e2e_xs_is "$be/sectors" 196608 ||
		fail "backend sectors: $(xsr "$be/sectors")"
	if [ "$E2E_MODE" = xenbackd ]; then
		out=$(e2e_ctl resize "$d" 51712) ||
			fail "xenbackctl resize $d 51712: $out"
		echo "xenbackctl resize: $out"
		case "$out" in
		*" 196608 sectors"*) ;;
		*) fail "xenbackctl resize says '$out'" ;;
		esac
	fi
	e2e_guest_done bg 120
	bg_layout "$d" "after attach (pattern read, fsck, discard)"
	kill $sampler
	grep -a 'e2fsck\|files intact\|detached' "$glog" | sed 's/^/guest: /'
	e2e_destroy bg
}
