# blk-resize: the backing grows while the guest runs (the image file is
# extended and its loop device told, `losetup -c`): xenbackd publishes the
# new size and the guest's xvda grows, without a reboot or reattach.
E2E_MODES="xenbackd kernel"

guest() {
	local i=0 sz
	g_disk xvda 30
	sz=$(cat /sys/block/xvda/size)
	[ "$sz" = 131072 ] || g_fail "xvda starts with $sz sectors, want 131072"
	echo "resize-ready"
	# Keep doing I/O: the backend looks at the size while it serves.
	while [ "$(cat /sys/block/xvda/size)" != 196608 ]; do
		i=$((i + 1))
		[ $i -gt 120 ] && g_fail "xvda still has $(cat /sys/block/xvda/size) sectors"
		dd if=/dev/xvda of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
		sleep 0.5
	done
	dd if=/dev/zero of=/dev/xvda bs=1M seek=90 count=1 oflag=direct \
		2>/dev/null || g_fail "cannot write in the grown part"
}

dom0() {
	local img d loop
	img=$(e2e_disk brsz 64)
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		e2e_guest_cfg brsz
	e2e_create brsz
	d=$(e2e_domid brsz)
	e2e_wait 60 e2e_xs_is "$(e2e_be "$d" vbd 51712)/state" 4 ||
		fail "xvda never Connected"
	e2e_wait 60 grep -q resize-ready "$(e2e_guest_log brsz)" ||
		fail "the guest never saw its disk"
	truncate -s 96M "$img"
	loop=$(losetup -j "$img" | cut -d: -f1)
	[ -n "$loop" ] || fail "no loop device for $img"
	losetup -c "$loop" || fail "losetup -c $loop failed"
	e2e_wait 60 e2e_xs_is "$(e2e_be "$d" vbd 51712)/sectors" 196608 ||
		fail "backend sectors still $(xsr "$(e2e_be "$d" vbd 51712)/sectors")"
	e2e_guest_done brsz 90
	e2e_destroy brsz
}
