# blk-discard: blkdiscard in the guest goes through (feature-discard): the
# range reads back as zeros and dom0 sees a hole punched in the image.
E2E_MODES="xenbackd"

guest() {
	g_disk xvda 30
	[ "$(cat /sys/block/xvda/queue/discard_max_bytes)" != 0 ] ||
		g_fail "xvda offers no discard"
	dd if=/dev/zero bs=1M count=16 2>/dev/null | tr '\000' x |
		dd of=/dev/xvda bs=1M seek=8 conv=fsync 2>/dev/null ||
		g_fail "write failed"
	sync
	echo "written"
	blkdiscard -o 8388608 -l 16777216 /dev/xvda || g_fail "blkdiscard failed"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	dd if=/dev/xvda bs=1M skip=8 count=16 2>/dev/null | md5sum >/tmp/d
	dd if=/dev/zero bs=1M count=16 2>/dev/null | md5sum >/tmp/z
	cmp -s /tmp/d /tmp/z || g_fail "discarded range does not read as zeros"
}

dom0() {
	local img blocks
	img=$(e2e_disk bdisc 64)
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		e2e_guest_cfg bdisc
	e2e_create bdisc
	e2e_guest_done bdisc 90
	blocks=$(stat -c %b "$img")
	echo "image blocks after discard: $blocks"
	[ "$blocks" -lt 16384 ] ||
		fail "no hole in the image: $blocks blocks allocated"
	e2e_destroy bdisc
}
