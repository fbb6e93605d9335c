# blk-pattern: an 8 MiB random pattern written through the page cache,
# synced, the guest's caches dropped, read back and compared; dom0 finds the
# same bytes in the image file.
E2E_MODES="xenbackd kernel"

guest() {
	g_disk xvda 30
	local want got
	dd if=/dev/urandom of=/tmp/pat bs=1M count=8 2>/dev/null ||
		g_fail "no memory for the pattern"
	want=$(md5sum </tmp/pat | cut -d' ' -f1)
	dd if=/tmp/pat of=/dev/xvda bs=1M seek=8 conv=fsync 2>/dev/null ||
		g_fail "write to xvda failed"
	rm -f /tmp/pat
	sync
	echo 3 >/proc/sys/vm/drop_caches
	got=$(dd if=/dev/xvda bs=1M skip=8 count=8 2>/dev/null | md5sum |
		cut -d' ' -f1)
	[ "$want" = "$got" ] || g_fail "read back after drop_caches: $got, wrote $want"
	echo "pattern-md5 $want"
}

dom0() {
	local img want got
	img=$(e2e_disk bpat 64)
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		GUEST_MEMORY=256 e2e_guest_cfg bpat
	e2e_create bpat
	e2e_guest_done bpat 150
	want=$(sed -n 's/.*pattern-md5 \([0-9a-f]*\).*/\1/p' "$(e2e_guest_log bpat)")
	got=$(dd if="$img" bs=1M skip=8 count=8 2>/dev/null | md5sum | cut -d' ' -f1)
	[ -n "$want" ] && [ "$want" = "$got" ] ||
		fail "dom0 reads $got from the image, the guest wrote $want"
	e2e_destroy bpat
}
