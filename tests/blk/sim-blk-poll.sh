#!/bin/sh
# sim-blk-poll.sh: the block backend's polling before sleeping
# (vbd-poll-us, here through XENBACKD_BLK_POLL_US; blk/poll.c) on the
# simulated Xen host, with the real daemon and tests/xensim/front's
# blkfront. PASS:/FAIL: lines.
#
# - polling off (0): whole-disk write then read-verify still works (the
#   ring's notification is armed at the end of each pass);
# - polling on (the default): once the guest stops doing I/O the daemon
#   uses no CPU (the budget stops growing, no timer wakes it);
# - a bad value: one warning at start, the default used, I/O works
#   (tests/blk/sim-blk-config.sh: the same keys from xenbackd.conf).
set -u
HZ=$(getconf CLK_TCK)
tmp=$(mktemp -d /tmp/xb-bpoll.XXXX)
H=$tmp/h
BLK_CASE="blk poll: "
. tests/blk/lib.sh
trap blk_cleanup EXIT INT TERM

guest() { timeout 120 $X run "$H" 1 -- "$FRONT" "$@"; }
add_vbd() { vbd_add 1 "$1" "$2" w disk; }
# start_daemon POLL_US (empty: unset)
start_daemon() {
	BLK_DAEMON_ENV=${1:+XENBACKD_BLK_POLL_US=$1}
	daemon_start "$tmp/ctl.sock" --log-level info
	daemon_started || :
}
stop_daemon() {
	kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	dpid=
}
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$dpid"/stat; }
# run NAME DEVID SCENARIO ARGS...: the frontend's lines, renamed
run() {
	n=$1 v=$2
	shift 2
	add_vbd "$v" "$tmp/d.img"
	guest -d "$v" "$@" -n "blk poll: $n" >"$tmp/out" 2>&1
	rc=$?
	del_vbd 1 "$v"
	grep -E '^(PASS|FAIL):' "$tmp/out"
	[ $rc -eq 0 ] || fail "$n" "(frontend exited $rc: $(tail -n 2 "$tmp/out" | tr '\n' ' '))"
}

host_start 1
truncate -s 16M "$tmp/d.img"

# ---- polling off ------------------------------------------------------
start_daemon 0
run "off" 51712 -p verify

# ---- polling on: no CPU once idle ---------------------------------------
stop_daemon
start_daemon ""
add_vbd 51728 "$tmp/d.img"
# 1 s of depth-1 reads, then the guest stays connected and idle for 3 s.
guest -d 51728 -p -w randread -b 4096 -Q 1 -t 1 -W 3 -n "blk poll: load" \
	bench >"$tmp/out" 2>&1 &
gpid=$!
i=0
while ! grep -q '^BENCH' "$tmp/out" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
t0=$(cpu_ticks)
sleep 2
t1=$(cpu_ticks)
wait $gpid
del_vbd 1 51728
if grep -q '^BENCH ios=[1-9]' "$tmp/out" && [ $((t1 - t0)) -le $((HZ / 50)) ]; then
	pass "connected, idle after I/O: the daemon used $((t1 - t0)) ticks in 2 s"
else
	fail "connected, idle after I/O: the daemon used $((t1 - t0)) ticks in 2 s" \
		"($(grep -E '^(BENCH|FAIL)' "$tmp/out" | tr '\n' ' '))"
fi

# ---- a bad value -----------------------------------------------------------
stop_daemon
start_daemon 20us
run "bad value" 51744 -p verify
n=$(grep -c "XENBACKD_BLK_POLL_US='20us' (vbd-poll-us) is not a number" "$tmp/daemon.log")
if [ "$n" = 1 ]; then pass "a bad XENBACKD_BLK_POLL_US is logged once"
else fail "a bad XENBACKD_BLK_POLL_US is logged once" "($n lines)"; fi
stop_daemon
