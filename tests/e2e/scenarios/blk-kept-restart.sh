# blk-kept-restart: a disk adopted across `xenbackctl restart` keeps the
# settings it connected with until it reconnects, on real Xen. dom0's
# xenbackd.conf says `vbd-data = copy`, `vbd-poll-us = 0` when the guest's
# disk connects (grant copy, no polling); the guest then writes and reads
# back 1 MiB patterns with O_DIRECT without a pause (7 MiB in turn). The operator changes
# the file to `vbd-data = map`, `vbd-poll-us = 20` and reloads (the
# connected disk keeps copy/0), then hands the daemon over with
# `xenbackctl restart` (exit 75, a successor started as the unit does)
# with the guest's I/O in flight. The disk never leaves Connected, the
# successor serves the guest's I/O (ten whole rounds, each a write read
# back and compared, begun after it started: its own counters start at
# 0, so a first write would prove little), `xenbackctl --json` still
# shows grant-copy,
# vbd-data=copy, poll-us 0, and the successor's log has exactly one line
# naming what the disk keeps and what is now in force. A disk attached
# afterwards (xvdb) gets map/20; after `xl block-detach` and
# `xl block-attach` of xvda (a reconnect) xvda gets map/20 too, and the
# guest's pattern I/O on it works. After `xl destroy` nothing of the guest
# is left (e2e_released), the successor holds no more gntdev maps and fds
# than the first daemon did before the guest, and the settings record of
# the disk is gone. With E2E_BLK_DATA set (the daemon's XENBACKD_BLK_DATA)
# the data path stays the variable's throughout and only poll-us changes.
E2E_MODES="xenbackd"

# bkr_check DEV AT P: the 1 MiB at AT MiB of DEV is the pattern file P.
bkr_check() {
	[ "$(g_md5 "$1" "$2" 1)" = "$(md5sum <"$3" | cut -d' ' -f1)" ]
}

# bkr_round I: round I writes pattern I%2 at (I%7) MiB of xvda with
# O_DIRECT and reads it back (a stale read finds the other pattern).
bkr_round() {
	local at=$(($1 % 7)) p=/tmp/p$(($1 % 2))
	dd if="$p" of=/dev/xvda bs=1M seek=$at oflag=direct 2>/dev/null ||
		g_fail "round $1: write at $at MiB failed"
	bkr_check /dev/xvda $at "$p" ||
		g_fail "round $1: read back at $at MiB differs"
	echo "$at $p" >>/tmp/written
}

# bkr_intact WHEN: every MiB written holds what its last round wrote.
bkr_intact() {
	awk '{ last[$1] = $2 } END { for (a in last) print a, last[a] }' \
		/tmp/written >/tmp/last
	while read -r at p; do
		bkr_check /dev/xvda "$at" "$p" || g_fail "$at MiB differs $1"
	done </tmp/last
}

guest() {
	local i=0 t0
	g_disk xvda 30
	head -c 1048576 /dev/urandom >/tmp/p0 &&
		head -c 1048576 /dev/urandom >/tmp/p1 || g_fail "no patterns"
	echo "workload running"
	t0=$(cut -d. -f1 /proc/uptime)
	# Without a pause until dom0 attaches xvdb.
	while [ ! -b /dev/xvdb ]; do
		bkr_round $i
		i=$((i + 1))
		[ $((i % 10)) != 0 ] || echo "round $i at $(g_uptime) s"
		[ $(($(cut -d. -f1 /proc/uptime) - t0)) -lt 300 ] ||
			g_fail "no xvdb (dom0's signal) within 300 s"
	done
	echo "rounds: $i"
	bkr_intact "at the end of the rounds"
	echo "detach-ready"
	g_wait 60 eval '! test -b /dev/xvda' ||
		g_fail "xvda still there 60 s after detach-ready"
	echo "detached"
	g_disk xvda 90
	bkr_intact "after the attach"
	for i in 1 2 3 4; do bkr_round $i; done
	echo "after the attach: intact, 4 more rounds read back"
}

# bkr_want copy|map POLL: "DATA DATA-WHY POLL" xenbackd shows for a disk
# that connected with vbd-data = copy|map and vbd-poll-us = POLL (the
# harness's XENBACKD_BLK_DATA wins over the file, as documented).
bkr_want() {
	case "${XENBACKD_BLK_DATA:-}" in
	"") echo "grant-$1 vbd-data=$1 $2" ;;
	*) echo "grant-$XENBACKD_BLK_DATA XENBACKD_BLK_DATA=$XENBACKD_BLK_DATA $2" ;;
	esac
}

# bkr_is DOMID DEVID copy|map POLL WHEN
bkr_is() {
	local got want
	got=$(e2e_blk_data "$1" "$2")
	want=$(bkr_want "$3" "$4")
	[ "$got" = "$want" ] ||
		fail "$5: xenbackctl shows '$got' for vbd/$1/$2, want '$want'"
	echo "$5: vbd/$1/$2 $got"
}

# bkr_wr DOMID: write requests the (current) daemon served for xvda.
bkr_wr() { e2e_blk_ctr "$1" 51712 wr_req; }

# bkr_rounds: the last round count the guest printed (every 10 rounds).
bkr_rounds() {
	grep -a -o 'round [0-9]* at' "$glog" | tail -n 1 | tr -cd '0-9'
}

# bkr_kept_line DOMID: the successor's one line for the adopted disk.
bkr_kept_line() {
	local n pat c="$E2E_CONF:[0-9]*"
	pat="vbd/$1/51712: keeps the settings it was connected with until it reconnects: "
	[ -n "${XENBACKD_BLK_DATA:-}" ] ||
		pat="${pat}vbd-data = copy ($c; now map), "
	pat="${pat}vbd-poll-us = 0 ($c; now 20)\$"
	n=$(grep -c "$pat" "$E2E_DAEMON_LOG")
	[ "$n" = 1 ] || {
		grep "vbd/$1/51712" "$E2E_DAEMON_LOG" | tail -n 5
		fail "the successor logged $n lines '$pat', want 1"
	}
	grep "$pat" "$E2E_DAEMON_LOG" | sed 's/^/log: /'
}

dom0() {
	local s img stop d be before ctl rc w0 n glog main
	s=$(e2e_conf_set "vbd-data = copy" "vbd-poll-us = 0") ||
		fail "reload with copy/0: $s"
	before=$(e2e_daemon_state)
	echo "daemon before the guest: $before"
	e2e_disk_guest bkr 64
	img=/var/lib/e2e/bkr.img
	stop=$(e2e_disk bkrstop 8)
	d=$(e2e_domid bkr)
	be=$(e2e_be "$d" vbd 51712)
	glog=$(e2e_guest_log bkr)
	bkr_is "$d" 51712 copy 0 "$(e2e_uptime) s: connected"
	s=$(e2e_conf_set "vbd-data = map" "vbd-poll-us = 20") ||
		fail "reload with map/20: $s"
	echo "settings after the reload: $s"
	bkr_is "$d" 51712 copy 0 "after the reload"
	e2e_guest_wait bkr 'workload running' 120 ||
		fail "the guest's workload did not start"
	e2e_wait 60 eval '[ "$(bkr_wr "$d")" -gt 0 ]' ||
		fail "no write of the guest reached the daemon"

	# The handover, with the guest's I/O going on.
	w0=$(bkr_wr "$d")
	echo "$(e2e_uptime) s: $w0 writes served; xenbackctl restart"
	xenbackctl restart >"$E2E_DIR/bkr-restart.log" 2>&1 &
	ctl=$!
	e2e_xenbackd_exited 60
	rc=$?
	[ $rc -eq 75 ] || fail "handover: xenbackd exited $rc, want 75"
	e2e_xs_is "$be/state" 4 ||
		fail "after the handover $be/state is $(xsr "$be/state"), want 4"
	e2e_start_xenbackd || fail "xenbackd did not start after the handover"
	wait $ctl || fail "xenbackctl restart failed: $(cat "$E2E_DIR/bkr-restart.log")"
	e2e_xs_is "$be/state" 4 ||
		fail "after the successor started $be/state is $(xsr "$be/state"), want 4"
	echo "$(e2e_uptime) s: successor: $(e2e_settings_line)"
	bkr_is "$d" 51712 copy 0 "adopted"
	: >"$E2E_DIR/bkr.main"
	e2e_main_watch "$E2E_DIR/bkr.main" &
	main=$!
	trap 'kill $main 2>/dev/null' EXIT
	bkr_kept_line "$d"
	w0=$(bkr_wr "$d") r0=$(bkr_rounds)
	# Printed at round r0 + 20: rounds r0 + 11 .. r0 + 20 were begun
	# after this point (r0 + 9 at most was done), all of them here.
	e2e_wait 60 eval '[ "$(bkr_rounds)" -ge $((${r0:-0} + 20)) ]' ||
		fail "the guest's rounds after the successor started: ${r0:-0} -> $(bkr_rounds) in 60 s, want 20 more"
	e2e_wait 10 eval '[ "$(bkr_wr "$d")" -gt "$w0" ]' ||
		fail "no write of the guest counted by the successor"
	echo "$(e2e_uptime) s: the successor serves the guest's I/O (rounds ${r0:-0} -> $(bkr_rounds) read back by the guest; writes counted $w0, then $(bkr_wr "$d"))"

	# A new disk takes the successor's settings.
	timeout "$E2E_XL_TIMEOUT" xl block-attach bkr \
		"format=raw,vdev=xvdb,access=ro,target=$stop" ||
		fail "xl block-attach of xvdb failed"
	e2e_wait 60 e2e_xs_is "$(e2e_be "$d" vbd 51728)/state" 4 ||
		fail "xvdb never Connected"
	bkr_is "$d" 51728 map 20 "$(e2e_uptime) s: new disk xvdb"

	# A reconnect of xvda takes them too.
	e2e_wait 120 grep -q detach-ready "$glog" ||
		fail "the guest did not finish its rounds: $(grep -a '@@G WHY' "$glog")"
	grep -a 'round' "$glog" | sed 's/^/guest: /'
	bkr_is "$d" 51712 copy 0 "at the detach"
	e2e_xl_detach block-detach bkr xvda
	e2e_wait 60 grep -q detached "$glog" ||
		fail "the guest still sees xvda after the detach"
	timeout "$E2E_XL_TIMEOUT" xl block-attach bkr \
		"format=raw,vdev=xvda,access=rw,target=$img" ||
		fail "xl block-attach of xvda failed"
	e2e_wait 60 e2e_xs_is "$be/state" 4 || fail "xvda never Connected again"
	bkr_is "$d" 51712 map 20 "$(e2e_uptime) s: reconnected"
	e2e_guest_done bkr 120
	echo "$(e2e_uptime) s: the guest is done"
	grep -a 'after the attach' "$glog" | sed 's/^/guest: /'

	e2e_destroy bkr
	e2e_released "$d" "$img"
	echo "$(e2e_uptime) s: destroyed, released"
	kill $main
	wait $main 2>/dev/null
	e2e_main_report "$E2E_DIR/bkr.main"
	e2e_daemon_as_before "$before"
	echo "$(e2e_uptime) s: as before"
	n=$(ls /run/xenbackd 2>/dev/null | grep -c "^vbd-$d-")
	[ "$n" = 0 ] || fail "settings records of domain $d left: $(ls /run/xenbackd)"
}
