#!/bin/sh
# responsive.sh: xenbackctl keeps answering while the daemon is busy, on
# the simulated host with the real xenbackd and blkfront guests
# (build/tests/blk/blk_sim_front): for RESPONSIVE_SECONDS (default 20)
#   - guests 1 and 2 write 1 MiB requests, 4 in flight, to their disks;
#   - guests 3 and 4 push writes and a flush, close at once and connect
#     again, over and over (each close waits for what is in flight);
#   - dom0 rewrites guest 3's image through the page cache, so that its
#     flushes have a lot to write;
#   - a control client that sends half a line and stalls for 3 s comes
#     every second (build/tests/core/ctlstall);
# and meanwhile xenbackctl list and resources are asked every 0.1 s: each
# answer must come within RESPONSIVE_BOUND_MS (default 1000), the time a
# whole xenbackctl run takes. PASS:/FAIL: lines (the guests' too).
set -u
tmp=$(mktemp -d /tmp/xb-core.XXXX)
H=$tmp/h
# The runtime directory (control socket, queue journals) on tmpfs, as
# /run is on a real dom0.
run=$(mktemp -d /dev/shm/xb-core.XXXX)
BLK_CASE="responsive: "
BLK_LOG_TAIL=30
. tests/blk/lib.sh
SECS=${RESPONSIVE_SECONDS:-20}
BOUND_MS=${RESPONSIVE_BOUND_MS:-1000}
bg=
cleanup() {
	for p in $bg; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	host_stop
	rm -rf "$run"
	[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

. tests/core/ctlprobe.sh

# dirty: dom0 writes guest 3's image through the page cache, again and
# again, without syncing: a flush of that disk then has it all to write.
dirty() {
	while [ ! -e "$tmp/stop" ]; do
		dd if=/dev/zero of="$tmp/d3.img" bs=1M count=128 \
			conv=notrunc status=none
	done
}

host_start 1 2 3 4
for d in 1 2 3 4; do
	truncate -s 256M "$tmp/d$d.img"
done
daemon_start "$run/ctl.sock"
if daemon_started; then pass "daemon runs on the simulated host"
else fail "daemon runs on the simulated host"; exit 1; fi
for d in 1 2 3 4; do
	vbd_add $d 51712 "$tmp/d$d.img" w disk ||
		{ fail "add a disk to guest $d"; exit 1; }
done

# stall: a stalled control client every second until $tmp/stop exists.
stall() {
	while [ ! -e "$tmp/stop" ]; do
		$B/tests/core/ctlstall "$run/ctl.sock" 3 li &
		sleep 1
	done
	wait
}

# guest DOMID NAME ARGS...: a frontend, its lines in $tmp/g$DOMID.out
guest() {
	d=$1 n=$2
	shift 2
	timeout $((SECS + 90)) $X run "$H" "$d" -- "$FRONT" -d 51712 \
		-n "responsive: $n" "$@" >"$tmp/g$d.out" 2>&1
}
ctl_probe "$run/ctl.sock" "$tmp/stop" "$tmp/probe" &
bg="$bg $!"
dirty &
bg="$bg $!"
stall &
bg="$bg $!"
guest 1 "heavy writes 1" -i 256 -w randwrite -b 1M -Q 4 -t "$SECS" bench &
g1=$!
guest 2 "heavy writes 2" -i 256 -w write -b 1M -Q 4 -t "$SECS" bench &
g2=$!
guest 3 "close churn 3" -i 256 -b 1M -Q 4 -t "$SECS" busy-close &
g3=$!
guest 4 "close churn 4" -b 64k -Q 32 -t "$SECS" busy-close &
g4=$!
for g in $g1 $g2 $g3 $g4; do
	wait $g
done
touch "$tmp/stop"
for p in $bg; do wait "$p"; done
bg=
for d in 1 2 3 4; do
	grep -E '^(PASS|FAIL):|^# busy' "$tmp/g$d.out"
	grep -q '^FAIL:' "$tmp/g$d.out" || grep -q '^PASS:' "$tmp/g$d.out" ||
		fail "guest $d ran" "($(tail -n 3 "$tmp/g$d.out"))"
done

n=$(wc -l <"$tmp/probe")
worst=$(sort -n "$tmp/probe" | tail -n 1)
slow=$(awk -v b="$BOUND_MS" '$1 > b' "$tmp/probe" | wc -l)
name="xenbackctl answers within $BOUND_MS ms under heavy I/O and close churn"
if [ "$n" -gt 0 ] && [ "$slow" -eq 0 ]; then
	pass "$name ($n answers, longest ${worst%% *} ms)"
else
	fail "$name" "($slow of $n slower; longest: ${worst%% *} ms, ${worst#* })"
fi
daemon_stops_cleanly
exit 0
