# blk-ro: a disk attached with access=ro is read-only in the guest: it
# reads the image's data, and writes are refused; the image is unchanged.
E2E_MODES="xenbackd kernel"

guest() {
	g_disk xvda 30
	[ "$(cat /sys/block/xvda/ro)" = 1 ] || g_fail "xvda is not read-only"
	dd if=/dev/xvda of=/tmp/r bs=4096 count=1 iflag=direct 2>/dev/null ||
		g_fail "read failed"
	echo "ro-md5 $(md5sum </tmp/r | cut -d' ' -f1)"
	if dd if=/dev/zero of=/dev/xvda bs=4096 count=1 oflag=direct 2>/dev/null
	then
		g_fail "a write to the read-only disk succeeded"
	fi
}

dom0() {
	local img want got
	img=$(e2e_disk bro 32)
	dd if=/dev/urandom of="$img" bs=4096 count=1 conv=notrunc 2>/dev/null
	want=$(dd if="$img" bs=4096 count=1 2>/dev/null | md5sum | cut -d' ' -f1)
	echo "disk = [ 'format=raw,vdev=xvda,access=ro,target=$img' ]" |
		e2e_guest_cfg bro
	e2e_create bro
	e2e_guest_done bro 90
	got=$(sed -n 's/.*ro-md5 \([0-9a-f]*\).*/\1/p' "$(e2e_guest_log bro)")
	[ "$want" = "$got" ] || fail "guest read $got, the image holds $want"
	got=$(dd if="$img" bs=4096 count=1 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$want" = "$got" ] || fail "the read-only image changed"
	e2e_destroy bro
}
