# blk-features: a disk served by xenbackd appears in the guest with the
# image's size, and the guest's own xen-blkfront reports flush, persistent
# grants and indirect descriptors enabled, as it does with xen-blkback.
E2E_MODES="xenbackd kernel"

guest() {
	local sz line
	g_disk xvda 30
	sz=$(cat /sys/block/xvda/size)
	[ "$sz" = 196608 ] || g_fail "xvda has $sz sectors, want 196608 (96 MiB)"
	g_wait 10 sh -c 'dmesg | grep -q "blkfront: xvda:"' ||
		g_fail "blkfront printed no feature line"
	line=$(dmesg | grep "blkfront: xvda:" | tail -n 1)
	echo "$line"
	echo "$line" | grep -q "flush diskcache: enabled" ||
		g_fail "flush not enabled: $line"
	echo "$line" | grep -q "persistent grants: enabled" ||
		g_fail "persistent grants not enabled: $line"
	echo "$line" | grep -q "indirect descriptors: enabled" ||
		g_fail "indirect descriptors not enabled: $line"
	[ "$(cat /sys/block/xvda/queue/logical_block_size)" = 512 ] ||
		g_fail "logical block size $(cat /sys/block/xvda/queue/logical_block_size)"
}

dom0() {
	local img
	img=$(e2e_disk bfeat 96)
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		e2e_guest_cfg bfeat
	e2e_create bfeat
	e2e_guest_done bfeat 90
	e2e_backend_ready "$(e2e_domid bfeat)" vbd 51712
	e2e_destroy bfeat
}
