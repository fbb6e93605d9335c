# restart-live: xenbackd restarted twice under a guest that keeps an ext4
# filesystem on its xenbackd disk busy and answers pings on its xenbackd
# vif, without the guest noticing:
#  - a handover: `xenbackctl restart` makes the daemon answer the I/O in
#    flight and exit 75 with every device left Connected; a new daemon
#    (started here as the unit makes systemd start it) adopts the devices
#    where their rings stopped, and xenbackctl restart returns once it
#    answers;
#  - a crash: SIGKILL in the middle of the I/O, then a new daemon that
#    adopts the devices the same way.
# Both backends stay Connected throughout (neither device goes back to
# InitWait or Closed), each new daemon serves the guest's I/O (the guest
# completes two whole rounds, a file written, synced, its cache dropped
# and read back, after the successor started: xenbackctl's counters
# start at 0 in each daemon and its first request, a replay, would
# prove little), and every file the
# guest wrote, synced and read back after dropping its caches, all along
# and at the end, is intact; e2fsck finds the filesystem clean. The vif's
# TAP is the same netdev (same ifindex, still in xenbr0) before and after
# each restart: the handover leaves it to the successor, and after SIGKILL
# the successor adopts the Connected vif and its persistent TAP; dom0's
# pings of the guest are answered after each restart, and the guest's
# netfront never leaves Connected. The guest stops when dom0 attaches a
# second disk (xvdb) through the last daemon.
E2E_MODES="xenbackd"

guest() {
	local i=0 t0 k f sum
	g_disk xvda 30
	g_net eth0 10.99.0.90 30
	g_mkfs_mount /dev/xvda 32 /mnt/fs
	head -c 131072 /dev/urandom >/tmp/pat || g_fail "no pattern"
	echo "workload running"
	t0=$(cut -d. -f1 /proc/uptime)
	while [ ! -b /dev/xvdb ]; do
		k=$((i % 16))
		f=/mnt/fs/f$k
		{ echo "round $i"; cat /tmp/pat; } >"$f.new" && sync &&
			mv "$f.new" "$f" && sync ||
			g_fail "round $i: writing $f failed"
		md5sum <"$f" >"/tmp/want$k"
		echo 3 >/proc/sys/vm/drop_caches
		sum=$(md5sum <"$f")
		[ "$sum" = "$(cat "/tmp/want$k")" ] ||
			g_fail "round $i: $f read back differs"
		echo "round $i verified"
		i=$((i + 1))
		[ $(($(cut -d. -f1 /proc/uptime) - t0)) -lt 400 ] ||
			g_fail "no xvdb (dom0's signal to stop) within 400 s"
	done
	echo "rounds: $i"
	echo 3 >/proc/sys/vm/drop_caches
	for k in $(seq 0 15); do
		[ -e "/tmp/want$k" ] || continue
		[ "$(md5sum <"/mnt/fs/f$k")" = "$(cat "/tmp/want$k")" ] ||
			g_fail "f$k differs at the end"
	done
	umount /mnt/fs || g_fail "umount failed"
	e2fsck -f -n /dev/xvda >/tmp/fsck.log 2>&1 || {
		cat /tmp/fsck.log
		g_fail "e2fsck: not clean"
	}
	echo "e2fsck: clean"
	[ "$(g_xenbus_state vif-0)" = Connected ] ||
		g_fail "netfront is in state $(g_xenbus_state vif-0), want Connected"
	ping -c 3 -W 5 10.99.0.1 >/dev/null ||
		g_fail "no answer from dom0 10.99.0.1 at the end"
	echo "net: still connected"
}

# Write requests the daemon served for domain $1 (since it started).
rl_wr() {
	e2e_ctl --json | jq "[.[] | select(.domain == $1) |
		.stats.wr_req // 0] | add // 0"
}
# Whole rounds the guest has verified so far (its console's lines).
rl_rounds() { grep -c 'round [0-9]* verified' "$(e2e_guest_log rl)"; }
# rl_flowing DOMID WHEN: the (new) daemon serves the guest's I/O: two
# more rounds verified than when it was found running (the second begun
# after it: every write, flush and read of it went through this daemon),
# and its own counters show writes.
rl_flowing() {
	local r0
	r0=$(rl_rounds)
	e2e_wait 60 eval '[ "$(rl_rounds)" -ge $((r0 + 2)) ]' ||
		fail "$2: the guest verified $(($(rl_rounds) - r0)) round(s) in 60 s, want 2"
	e2e_wait 10 eval '[ "$(rl_wr '"$1"')" -gt 0 ]' ||
		fail "$2: no write of the guest counted by the daemon"
	echo "$2: rounds $r0 -> $(rl_rounds) verified by the guest, writes flowing ($(rl_wr "$1") counted by this daemon)"
}
# rl_still_connected WHEN BE...: the backends never left Connected.
rl_still_connected() {
	local when=$1 be
	shift
	for be in "$@"; do
		[ "$(xsr "$be/state")" = 4 ] ||
			fail "$when: $be/state is $(xsr "$be/state"), want 4 (Connected)"
	done
}
# rl_ifindex DOMID: the interface index of the vif's TAP in dom0.
rl_ifindex() { cat "/sys/class/net/vif$1.0/ifindex" 2>/dev/null; }
# rl_net DOMID IFINDEX WHEN: the vif is the same netdev, in xenbr0, and
# the guest answers pings through it again within 20 s.
rl_net() {
	[ "$(rl_ifindex "$1")" = "$2" ] ||
		fail "$3: vif$1.0 has ifindex '$(rl_ifindex "$1")', was $2"
	[ -e "/sys/class/net/xenbr0/brif/vif$1.0" ] ||
		fail "$3: vif$1.0 is not in xenbr0"
	e2e_wait 20 ping -c 1 -W 1 10.99.0.90 ||
		fail "$3: the guest 10.99.0.90 answers no ping for 20 s"
	echo "$3: ping answered"
}
# rl_adopted KIND/DOMID/DEVID: every restart adopted the device (twice),
# and it went through InitWait/Closed once only (at creation).
rl_adopted() {
	local n
	n=$(grep -c "$1: Connected (resumed)" "$E2E_DAEMON_LOG")
	[ "$n" -eq 2 ] || fail "$1 was adopted $n times, want 2"
	n=$(grep -c "$1: \(InitWait\|Closed\)$" "$E2E_DAEMON_LOG")
	[ "$n" -eq 1 ] ||
		fail "$1 went through InitWait/Closed $n times, want once (at creation)"
}

dom0() {
	local img stop d be vbe ifi ctl rc pinger
	img=$(e2e_disk rl 64)
	stop=$(e2e_disk rlstop 8)
	{
		echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]"
		echo "vif = [ 'mac=00:16:3e:e2:00:90,bridge=xenbr0' ]"
	} | e2e_guest_cfg rl
	e2e_create rl
	d=$(e2e_domid rl)
	be=$(e2e_be "$d" vbd 51712)
	vbe=$(e2e_be "$d" vif 0)
	e2e_guest_wait rl 'workload running' 120 ||
		fail "the guest's workload did not start"
	e2e_wait 30 e2e_xs_is "$vbe/state" 4 || fail "the vif never Connected"
	ifi=$(rl_ifindex "$d")
	[ -n "$ifi" ] || fail "no vif$d.0 in dom0"
	rl_flowing "$d" "before the restarts"
	rl_net "$d" "$ifi" "before the restarts"
	# A ping a second all along, for the log: how many were lost.
	ping 10.99.0.90 >"$E2E_DIR/rl-ping.log" 2>&1 &
	pinger=$!
	trap 'kill $pinger 2>/dev/null' EXIT

	# 1. Handover, as an upgrade does it.
	xenbackctl restart >/tmp/rl-restart.log 2>&1 &
	ctl=$!
	e2e_xenbackd_exited 60
	rc=$?
	[ $rc -eq 75 ] || fail "handover: xenbackd exited $rc, want 75"
	rl_still_connected "after the handover" "$be" "$vbe"
	e2e_start_xenbackd || fail "xenbackd did not start after the handover"
	wait $ctl || fail "xenbackctl restart failed: $(cat /tmp/rl-restart.log)"
	cat /tmp/rl-restart.log
	rl_still_connected "after the successor started" "$be" "$vbe"
	rl_flowing "$d" "after the handover"
	rl_net "$d" "$ifi" "after the handover"

	# 2. A crash in the middle of the I/O.
	kill -KILL "$(e2e_xenbackd_pid)"
	e2e_xenbackd_exited 20
	rl_still_connected "after SIGKILL" "$be" "$vbe"
	e2e_start_xenbackd || fail "xenbackd did not start after SIGKILL"
	rl_still_connected "after the restart" "$be" "$vbe"
	rl_flowing "$d" "after SIGKILL"
	rl_net "$d" "$ifi" "after SIGKILL"
	kill -INT $pinger
	wait $pinger
	tail -n 2 "$E2E_DIR/rl-ping.log"

	rl_adopted "vbd/$d/51712"
	rl_adopted "vif/$d/0"

	# The last daemon takes a new disk: the guest's signal to finish.
	timeout "$E2E_XL_TIMEOUT" xl block-attach rl \
		"format=raw,vdev=xvdb,access=ro,target=$stop" ||
		fail "xl block-attach of xvdb failed"
	e2e_guest_done rl 180
	grep -E "rounds|e2fsck|net:" "$(e2e_guest_log rl)" || true
	e2e_destroy rl
	e2e_released "$d" "$img"
}
