# blk-pattern: a 48 MiB random pattern written through the page cache,
# synced, the guest's caches dropped, read back and compared; dom0 finds the
# same bytes in the image file.
E2E_MODES="xenbackd kernel"

guest() {
	g_disk xvda 30
	dd if=/dev/urandom of=/tmp/pat bs=1M count=48 2>/dev/null ||
		g_fail "no memory for the pattern"
	dd if=/tmp/pat of=/dev/xvda bs=1M seek=8 conv=fsync 2>/dev/null ||
		g_fail "write to xvda failed"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	dd if=/dev/xvda of=/tmp/back bs=1M skip=8 count=48 2>/dev/null ||
		g_fail "read from xvda failed"
	cmp /tmp/pat /tmp/back || g_fail "data read back after drop_caches differs"
	echo "pattern-md5 $(md5sum </tmp/pat | cut -d' ' -f1)"
}

dom0() {
	local img want got
	img=$(e2e_disk bpat 64)
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		e2e_guest_cfg bpat
	GUEST_MEMORY=256 e2e_create bpat
	e2e_guest_done bpat 150
	want=$(sed -n 's/.*pattern-md5 \([0-9a-f]*\).*/\1/p' "$(e2e_guest_log bpat)")
	got=$(dd if="$img" bs=1M skip=8 count=48 2>/dev/null | md5sum | cut -d' ' -f1)
	[ -n "$want" ] && [ "$want" = "$got" ] ||
		fail "dom0 reads $got from the image, the guest wrote $want"
	e2e_destroy bpat
}
