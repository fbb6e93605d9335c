#!/bin/bash
# t_memcheck.sh - the real xenbackd under valgrind's memcheck on the
# simulated host: a short blk and net workload with hostile guests and a
# hot-unplug of each kind, then SIGTERM. Fails on any memcheck error
# (invalid access, uninitialised value used, bad free, fd misuse) and on
# any definitely lost block at exit. One PASS/FAIL line per case.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/xensim/sim-lib.sh

BF=build/tests/blk/blk_sim_front
BH=build/xensim/tests/blkhostile

sim_setup 240 1 2 5 || { echo "FAIL: simulated host with domains"; exit 1; }
VGLOG=$TMP/valgrind.log
VG="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
--show-leak-kinds=definite --errors-for-leak-kinds=definite \
--num-callers=30 --suppressions=tests/xensim/memcheck.supp \
--log-file=$VGLOG"
SIM_START_TENTHS=300
check "xenbackd starts under valgrind" start_daemon copy $VG

# run_front NAME DOMID PROGRAM ARGS...: a guest program, its lines renamed.
run_front() {
	local n=$1 d=$2
	shift 2
	timeout 120 $X run "$H" "$d" -- "$@" >"$TMP/$n.out" 2>&1
	guest_lines "$n" "$TMP/$n.out"
}

# ---- blk: data over 2 queues with indirect requests, hostile guests ----
add_vbd 1 51712 "$TMP/d1.img"
run_front verify 1 $BF -d 51712 -n x -q 2 -o 1 -i 32 -p -s 3 verify
add_vbd 2 51712 "$TMP/d2.img"
run_front hostile 2 $BF -d 51712 -n x -a 64 hostile
add_vbd 2 51728 "$TMP/d3.img"
run_front batch-error 2 $BH -d 51728 -n x batch-error
add_vbd 2 51744 "$TMP/d4.img"
run_front ring-unwind 2 $BH -d 51744 -n x ring-unwind

# Forced hot-unplug with I/O in flight (the guest goes on submitting).
add_vbd 1 51728 "$TMP/d5.img"
timeout 60 $X run "$H" 1 -- $BF -d 51728 -n x -w randwrite -Q 8 -t 20 \
	bench >"$TMP/busy.out" 2>&1 &
busy=$!
net_wait 150 grep -q 'PASS: x: connect' "$TMP/busy.out"
sleep 1
check "vbd forced hot-unplug with I/O in flight: the device goes" \
	unplug_vbd_forced 1 51728
kill $busy
wait $busy

# ---- net: traffic, hostile frames, hot-unplug while pinged --------------
G5=xbx-g5$TAG
net_add_vif 5 0
net_hotplug 5 0
net_start_front 5 0 "$G5"
check "vif connected" net_wait_front 5 0 "$G5"
pings() {
	ip netns exec "$G5" ping -q -c 3 -i 0.2 -W 3 "$(net_host_ip 5 0)" &&
		ip netns exec "$HNS" ping -q -c 3 -i 0.2 -W 3 "$(net_guest_ip 5 0)"
}
check "vif: ping both ways" pings
tcp_in() {
	ip netns exec "$HNS" $NT tcp-recv 5301 30 >"$TMP/tcp.out" 2>&1 &
	local r=$!
	net_wait 50 grep -q listening "$TMP/tcp.out"
	ip netns exec "$G5" $NT tcp-send "$(net_host_ip 5 0)" 5301 2000000
	wait $r
	grep -q '^recv 2000000 ok' "$TMP/tcp.out"
}
check "vif: 2 MB TCP guest -> host verified" tcp_in
# hostile_vif N CLASS WANT: the backend's answer to one hostile class.
hostile_vif() {
	net_add_vif 5 "$1"
	net_hotplug 5 "$1"
	net_start_front 5 "$1" "$G5" --hostile "$2"
	net_wait 150 grep -q "^hostile" "$TMP/nf.5.$1.log" &&
		grep -q "$3" "$TMP/nf.5.$1.log"
}
check "vif: hostile too-many-slots answered with errors" \
	hostile_vif 1 too-many-slots "okay=0 error=19"
check "vif: hostile truncated packet stops the device" \
	hostile_vif 2 truncated "backend-state"
vif_unwound() {
	net_add_vif 5 3
	net_hotplug 5 3
	net_start_front 5 3 "$G5" --queues 2 --hostile bad-rx-ring
	net_wait 150 net_state_is 5 3 6
}
check "vif: the last rx ring never granted: device closed" vif_unwound
ip netns exec "$HNS" ping -q -i 0.01 -w 4 "$(net_guest_ip 5 0)" \
	>/dev/null 2>&1 &
sleep 1
check "vif hot-unplug while pinged: Closed, directories removed" \
	net_unplug 5 0

# ---- the verdict --------------------------------------------------------
check "daemon alive after all of it" daemon_alive
stop_daemon
rc=$?
summary=$(grep -E 'ERROR SUMMARY|definitely lost' "$VGLOG" | tr '\n' ' ')
echo "# valgrind: $summary"
if [ $rc -eq 0 ] && grep -q 'ERROR SUMMARY: 0 errors' "$VGLOG"; then
	pass "memcheck: no error and no definite leak in the daemon"
else
	fail "memcheck: no error and no definite leak in the daemon" \
		"(exit $rc)"
	grep -E '^==[0-9]+== ' "$VGLOG" | head -n 80 | sed 's/^/   | /'
fi
exit 0
