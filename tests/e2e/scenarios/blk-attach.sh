# blk-attach: `xl block-attach` of a second disk to a running guest: it
# appears in the guest and works; `xl block-detach` removes it promptly
# (the backend reaches Closed well within libxl's 10 s) and the guest sees
# it go; the first disk keeps working throughout.
E2E_MODES="xenbackd kernel"

guest() {
	g_disk xvda 30
	g_disk xvdb 90
	dd if=/dev/urandom of=/tmp/p bs=1M count=1 2>/dev/null
	dd if=/tmp/p of=/dev/xvdb bs=1M oflag=direct 2>/dev/null ||
		g_fail "write to the attached disk failed"
	dd if=/dev/xvdb of=/tmp/b bs=1M count=1 iflag=direct 2>/dev/null
	cmp /tmp/p /tmp/b || g_fail "attached disk reads back other data"
	# Tell dom0 through the disk itself: "DONE" at 8 MiB.
	printf DONE | dd of=/dev/xvdb bs=512 seek=16384 conv=sync,fsync \
		oflag=direct 2>/dev/null
	g_wait 60 test ! -b /dev/xvdb || g_fail "xvdb still present after detach"
	dd if=/dev/xvda of=/dev/null bs=1M count=1 iflag=direct 2>/dev/null ||
		g_fail "xvda stopped working"
}

dom0() {
	local img img2 d t0 ms
	img=$(e2e_disk batt 32)
	img2=$(e2e_disk batt2 32)
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		e2e_guest_cfg batt
	e2e_create batt
	d=$(e2e_domid batt)
	e2e_backend_ready "$d" vbd 51712
	e2e_wait 60 e2e_xs_is "$(e2e_be "$d" vbd 51712)/state" 4 ||
		fail "xvda never Connected"
	timeout 30 xl block-attach batt \
		"format=raw,vdev=xvdb,access=rw,target=$img2" ||
		fail "xl block-attach failed"
	e2e_wait 60 e2e_xs_is "$(e2e_be "$d" vbd 51728)/state" 4 ||
		fail "xvdb never Connected"
	e2e_wait 90 sh -c "dd if=$img2 bs=512 skip=16384 count=1 2>/dev/null |
		grep -q DONE" || fail "the guest never finished with xvdb"
	t0=$(e2e_ms)
	timeout 30 xl block-detach batt xvdb || fail "xl block-detach failed"
	ms=$(($(e2e_ms) - t0))
	echo "xl block-detach: $ms ms"
	[ $ms -lt 8000 ] || fail "block-detach took $ms ms"
	xenstore-exists "$(e2e_be "$d" vbd 51728)" &&
		fail "xvdb backend directory remains"
	e2e_guest_done batt 90
	e2e_destroy batt
}
