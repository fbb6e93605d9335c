# blk-destroy-discard: `xl destroy` of a guest while xenbackd is in the
# middle of discarding its whole disk on slow storage. The disk is a
# 1 GiB block device in dom0 that takes 100 ms per request (null_blk,
# e2e_slow_disk), given to the guest by an unmodified `xl create` (the
# `block` script, a phy device). The guest's whole-disk blkdiscard is one
# blkif request, which the daemon does in chunks of one call each, down
# to 1 MiB a call at this pace (docs/blk.md "Discards in chunks"): about
# 100 s of calls. dom0 destroys the guest once the discard has been in
# flight for a second. Throughout the destroy xenbackctl answers within
# 5 s; the daemon logs that the discard was cut short past its first
# sector (mid-chunks) and answered error; then nothing of the domain is
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

# bdd_ctl_ms: how long xenbackctl takes to answer, in ms (or "none").
bdd_ctl_ms() {
	local t0
	t0=$(e2e_cs)
	timeout 30 xenbackctl >/dev/null 2>&1 || { echo none; return; }
	echo $((($(e2e_cs) - t0) * 10))
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
	local dev d be before t0 worst line at
	watch= main=
	trap 'kill $watch $main 2>/dev/null; e2e_slow_disk_remove' EXIT
	dev=$(e2e_slow_disk 1 100) || fail "no slow disk: $dev"
	before=$(e2e_daemon_state)
	echo "daemon before (gntdev maps, fds, ring pages, grants, channels, fds counted): $before"
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$dev' ]" |
		e2e_guest_cfg bdd
	e2e_create bdd
	d=$(e2e_domid bdd)
	be=$(e2e_be "$d" vbd 51712)
	e2e_wait 60 e2e_xs_is "$be/state" 4 || fail "xvda of bdd never Connected"
	[ "$(xsr "$be/feature-discard")" = 1 ] ||
		fail "the slow disk is served without discard"
	e2e_wait 60 eval '[ "$(e2e_blk_ctr "$d" 51712 discard_req)" -gt 0 ] &&
		[ "$(e2e_blk_ctr "$d" 51712 inflight)" -gt 0 ]' ||
		fail "no discard of the guest in flight in the daemon within 60 s"
	echo "$(e2e_uptime) s: a discard in flight"
	sleep 1
	[ "$(e2e_blk_ctr "$d" 51712 inflight)" -gt 0 ] ||
		fail "the discard was over within a second"
	: >"$E2E_DIR/bdd.ctl"
	: >"$E2E_DIR/bdd.main"
	bdd_watch "$E2E_DIR/bdd.ctl" &
	watch=$!
	e2e_main_watch "$E2E_DIR/bdd.main" &
	main=$!
	t0=$(e2e_ms)
	e2e_destroy bdd
	e2e_released "$d" "$dev"
	echo "released $(($(e2e_ms) - t0)) ms after the destroy began"
	kill $watch $main
	wait $watch $main 2>/dev/null
	echo "xenbackctl answer times (ms) meanwhile: $(tr '\n' ' ' <"$E2E_DIR/bdd.ctl")"
	e2e_main_report "$E2E_DIR/bdd.main"
	! grep -q none "$E2E_DIR/bdd.ctl" || fail "xenbackctl did not answer during the destroy"
	worst=$(sort -n "$E2E_DIR/bdd.ctl" | tail -n 1)
	[ "$worst" -lt 5000 ] || fail "xenbackctl took $worst ms to answer during the destroy"
	line=$(grep "vbd/$d/51712: queue 0: discard of sectors 0+2097152 cut short at sector [0-9]* by the queue stopping: answered error" "$E2E_DAEMON_LOG") ||
		fail "the daemon did not log the whole-disk discard cut short"
	echo "log: $line"
	at=$(echo "$line" | sed 's/.* cut short at sector \([0-9]*\) .*/\1/')
	[ "$at" -gt 0 ] && [ "$at" -lt 2097152 ] ||
		fail "the discard was cut short at sector $at, not mid-chunks"
	e2e_daemon_as_before "$before"
	e2e_daemon_idle
	e2e_slow_disk_remove || fail "the slow disk cannot be removed (still open?)"
}
