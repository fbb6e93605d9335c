# blk-destroy-discard: `xl destroy` of a guest while a discard of its
# whole disk (1 GiB, one blkif request: blkfront's discard limit is the
# disk's size) is in flight in xenbackd. dom0 keeps 256 MiB of the image
# written behind the guest's back, so that each discard has real work to
# do (tmpfs frees the pages), and destroys the guest when xenbackctl shows
# a request in flight (the guest does nothing but discard). Throughout
# the destroy xenbackctl answers within 5 s; then nothing of the domain is
# left (e2e_released), the daemon maps no gntdev page and holds no fd more
# than before the guest, its resource counters are as before, and it is
# idle.
E2E_MODES="xenbackd"

guest() {
	g_disk xvda 30
	while :; do
		blkdiscard /dev/xvda || g_fail "blkdiscard of xvda failed"
	done
}

# bdd_refill IMAGE: the first 256 MiB of IMAGE written again and again.
bdd_refill() {
	while :; do
		dd if=/dev/zero of="$1" bs=1M count=256 conv=notrunc 2>/dev/null
	done
}

# bdd_ctl_ms: how long xenbackctl takes to answer, in ms (or "none").
bdd_ctl_ms() {
	local t0
	t0=$(e2e_ms)
	timeout 30 xenbackctl >/dev/null 2>&1 || { echo none; return; }
	echo $(($(e2e_ms) - t0))
}

# bdd_watch FILE: xenbackctl's answer time, one a line into FILE, until
# killed.
bdd_watch() {
	while :; do
		bdd_ctl_ms >>"$1"
		sleep 0.2
	done
}

dom0() {
	local img d be before refill watch n dc0 dc t0 worst
	before=$(e2e_daemon_state)
	echo "daemon before (gntdev maps, fds, ring pages, grants, channels, fds counted): $before"
	e2e_disk_guest bdd 1024
	img=/var/lib/e2e/bdd.img
	d=$(e2e_domid bdd)
	be=$(e2e_be "$d" vbd 51712)
	bdd_refill "$img" &
	refill=$!
	dc0=$(e2e_blk_ctr "$d" 51712 discard_req)
	e2e_wait 60 eval '[ "$(e2e_blk_ctr "$d" 51712 discard_req)" -gt $((dc0 + 2)) ]' ||
		fail "the guest's discards do not reach the daemon"
	# Destroy with a discard in flight (the guest sends nothing else).
	n=0
	until [ "$(e2e_blk_ctr "$d" 51712 inflight)" -gt 0 ]; do
		n=$((n + 1))
		[ $n -lt 300 ] || fail "no discard seen in flight in 300 samples"
	done
	dc=$(e2e_blk_ctr "$d" 51712 discard_req)
	: >"$E2E_DIR/bdd.ctl"
	bdd_watch "$E2E_DIR/bdd.ctl" &
	watch=$!
	t0=$(e2e_ms)
	e2e_destroy bdd
	echo "xl destroy with discard $dc in flight (after $n samples): $(($(e2e_ms) - t0)) ms"
	e2e_released "$d" "$img"
	echo "released $(($(e2e_ms) - t0)) ms after the destroy began"
	kill $watch $refill
	wait $watch $refill 2>/dev/null
	echo "xenbackctl answer times (ms) meanwhile: $(tr '\n' ' ' <"$E2E_DIR/bdd.ctl")"
	! grep -q none "$E2E_DIR/bdd.ctl" || fail "xenbackctl did not answer during the destroy"
	worst=$(sort -n "$E2E_DIR/bdd.ctl" | tail -n 1)
	[ "$worst" -lt 5000 ] || fail "xenbackctl took $worst ms to answer during the destroy"
	grep "vbd/$d/51712: .*discard.* cut short" "$E2E_DAEMON_LOG" ||
		echo "no discard was cut short by the stop"
	e2e_daemon_as_before "$before"
	e2e_daemon_idle
	rm -f "$img"
}
