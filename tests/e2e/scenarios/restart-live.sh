# restart-live: xenbackd restarted twice under a guest that keeps an ext4
# filesystem on its xenbackd disk busy, without the guest noticing:
#  - a handover: `xenbackctl restart` makes the daemon answer the I/O in
#    flight and exit 75 with every device left Connected; a new daemon
#    (started here as the unit makes systemd start it) adopts the devices
#    where their rings stopped, and xenbackctl restart returns once it
#    answers;
#  - a crash: SIGKILL in the middle of the I/O, then a new daemon that
#    adopts the devices the same way.
# The backend stays Connected throughout (the device never goes back to
# InitWait or Closed), each new daemon serves writes, and every file the
# guest wrote, synced and read back after dropping its caches, all along
# and at the end, is intact; e2fsck finds the filesystem clean. The guest
# stops when dom0 attaches a second disk (xvdb) through the last daemon.
# Disk only for now: the vif joins once net/ keeps its TAP across a
# daemon restart.
E2E_MODES="xenbackd"

guest() {
	local i=0 t0 k f sum
	g_disk xvda 30
	g_ext4
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 \
		/dev/xvda 32M || g_fail "mkfs.ext4 failed"
	mkdir -p /mnt/fs
	mount -t ext4 -o noinit_itable /dev/xvda /mnt/fs ||
		g_fail "cannot mount the new ext4"
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
}

# Write requests the daemon served for domain $1 (since it started).
rl_wr() {
	e2e_ctl --json | jq "[.[] | select(.domain == $1) |
		.stats.wr_req // 0] | add // 0"
}
# rl_flowing DOMID WHEN: the (new) daemon serves the guest's writes.
rl_flowing() {
	e2e_wait 60 eval '[ "$(rl_wr '"$1"')" -gt 0 ]' ||
		fail "$2: no write of the guest reached the daemon in 60 s"
	echo "$2: writes flowing ($(rl_wr "$1") so far)"
}
# rl_still_connected BE WHEN: the backend never left Connected.
rl_still_connected() {
	[ "$(xsr "$1/state")" = 4 ] ||
		fail "$2: backend state $(xsr "$1/state"), want 4 (Connected)"
}

dom0() {
	local img stop d be ctl rc n
	img=$(e2e_disk rl 64)
	stop=$(e2e_disk rlstop 8)
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		e2e_guest_cfg rl
	e2e_create rl
	d=$(e2e_domid rl)
	be=$(e2e_be "$d" vbd 51712)
	e2e_guest_wait rl 'workload running' 120 ||
		fail "the guest's workload did not start"
	rl_flowing "$d" "before the restarts"

	# 1. Handover, as an upgrade does it.
	xenbackctl restart >/tmp/rl-restart.log 2>&1 &
	ctl=$!
	e2e_xenbackd_exited 60
	rc=$?
	[ $rc -eq 75 ] || fail "handover: xenbackd exited $rc, want 75"
	rl_still_connected "$be" "after the handover"
	e2e_start_xenbackd || fail "xenbackd did not start after the handover"
	wait $ctl || fail "xenbackctl restart failed: $(cat /tmp/rl-restart.log)"
	cat /tmp/rl-restart.log
	rl_still_connected "$be" "after the successor started"
	rl_flowing "$d" "after the handover"

	# 2. A crash in the middle of the I/O.
	kill -KILL "$(e2e_xenbackd_pid)"
	e2e_xenbackd_exited 20
	rl_still_connected "$be" "after SIGKILL"
	e2e_start_xenbackd || fail "xenbackd did not start after SIGKILL"
	rl_still_connected "$be" "after the restart"
	rl_flowing "$d" "after SIGKILL"

	n=$(grep -c "vbd/$d/51712: Connected (resumed)" "$E2E_DAEMON_LOG")
	[ "$n" -eq 2 ] || fail "the device was adopted $n times, want 2"
	n=$(grep -c "vbd/$d/51712: \(InitWait\|Closed\)$" "$E2E_DAEMON_LOG")
	[ "$n" -eq 1 ] ||
		fail "the device went through InitWait/Closed $n times, want once (at creation)"

	# The last daemon takes a new disk: the guest's signal to finish.
	timeout "$E2E_XL_TIMEOUT" xl block-attach rl \
		"format=raw,vdev=xvdb,access=ro,target=$stop" ||
		fail "xl block-attach of xvdb failed"
	e2e_guest_done rl 180
	grep -E "rounds|e2fsck" "$(e2e_guest_log rl)" || true
	e2e_destroy rl
	e2e_released "$d" "$img"
}
