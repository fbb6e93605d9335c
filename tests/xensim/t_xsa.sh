#!/bin/bash
# t_xsa.sh - hostile frontends of the backends' security advisories (the
# XSA classes of docs/security-tests.md) against the real xenbackd on the
# simulated host, serving vbd and vif at once. Each hostile guest must be
# answered with errors or have its device shut down, while another guest's
# I/O carries on and the daemon survives. One PASS/FAIL line per case.
#
# The blk classes run with the daemon copying grants (the default), then
# again mapping them (XENBACKD_BLK_DATA=map), where XSA-229/361/371 bite.
# XSA_DAEMON overrides the daemon binary (e.g. an instrumented build).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/xensim/sim-lib.sh

BH=build/xensim/tests/blkhostile
BF=build/tests/blk/blk_sim_front

# hostile NAME DOMID DEVID SCENARIO [blkhostile options]
hostile() {
	local n=$1 d=$2 v=$3 sc=$4
	shift 4
	add_vbd "$d" "$v" "$TMP/d$d.$v.img" || { fail "$n" "(add vbd)"; return; }
	timeout 90 $X run "$H" "$d" -- $BH -d "$v" -n x "$@" "$sc" \
		>"$TMP/$n.out" 2>&1
	grep '^#' "$TMP/$n.out"
	guest_lines "$n" "$TMP/$n.out"
}

# bystander NAME SECONDS: guest 1's disk kept busy meanwhile (background);
# bystander_done NAME checks it went on: no I/O failed, >= 100 I/Os.
bystander() {
	timeout 60 $X run "$H" 1 -- $BF -d 51712 -n x -w randwrite -Q 8 \
		-t "$2" bench >"$TMP/by.$1.out" 2>&1 &
	BYPID=$!
}
bystander_done() {
	local ios
	wait "$BYPID"
	ios=$(sed -n 's/^BENCH ios=\([0-9]*\).*/\1/p' "$TMP/by.$1.out")
	echo "# bystander during $1: ${ios:-0} I/Os"
	if grep -q '^PASS: x: bench run' "$TMP/by.$1.out" &&
		[ "${ios:-0}" -ge 100 ]; then
		pass "$1: another guest's disk I/O carried on"
	else
		fail "$1: another guest's disk I/O carried on" \
			"($(grep -E 'FAIL|BENCH' "$TMP/by.$1.out" | tr '\n' ' '))"
	fi
}

# ---- host, daemon, the bystanders ---------------------------------------
sim_setup 300 1 2 3 5 6 || { echo "FAIL: simulated host with domains"; exit 1; }
check "daemon serving vbd and vif starts (grant copy)" start_daemon copy
add_vbd 1 51712 "$TMP/by.img"

# ---- blk, grant copy ----------------------------------------------------
bystander double-fetch 4
hostile double-fetch 2 51712 double-fetch -t 3
bystander_done double-fetch
hostile scatter 2 51728 scatter
hostile batch-error 2 51744 batch-error
# unwound DOMID DEVID: while the guest waits after its failed connect,
# the daemon holds no ring page and no channel of the device.
unwound() {
	net_wait 150 test -e "$TMP/pause.$1.ready" || return 1
	net_ctl | grep -E "^$1 +vbd +$2 " | tee /dev/stderr |
		grep -q "rings=0 channels=0"
	local rc=$?
	touch "$TMP/pause.$1.go"
	return $rc
}
unwind_case() {
	local n=$1 d=$2 v=$3
	shift 3
	hostile "$n" "$d" "$v" ring-unwind -w "$TMP/pause.$d" "$@" &
	check "$n: after the failed connect no ring page or channel held" \
		unwound "$d" "$v"
	wait $!
}
unwind_case ring-unwind 2 51760
# A device failed by its frontend still answers the toolstack's detach.
failed_vbd_detach() {
	local fe=/local/domain/2/device/vbd/51856
	add_vbd 2 51856 "$TMP/f.img" &&
		net_wait 100 vbd_listed 2 51856 "+InitWait" &&
		$X run "$H" 2 -- xenstore-write "$fe/ring-ref" abc \
			"$fe/event-channel" 5 "$fe/state" 3 &&
		net_wait 100 vbd_listed 2 51856 "+Closed!" &&
		unplug_vbd 2 51856
}
check "a vbd failed by its frontend: the toolstack's detach gets Closed in time" \
	failed_vbd_detach
bystander storm 4
hostile storm 2 51776 storm -t 3
bystander_done storm
rss0=$(rss_kb)
bystander watch-flood 4
hostile watch-flood 2 51792 watch-flood -t 3
bystander_done watch-flood
rss1=$(rss_kb)
echo "# daemon RSS ${rss0} kB -> ${rss1} kB over the watch flood"
check "watch-flood: daemon memory bounded (< 16 MiB growth)" \
	test $((rss1 - rss0)) -lt 16384
# The same from three guests at once, each writing a node below its state
# whose name is 1900 characters long (every event as long): a daemon that
# reads the state for each event falls behind them, and libxenstore keeps
# every event not yet taken in the daemon's memory.
flood3() {
	local d pids=
	for d in 2 3 6; do
		add_vbd "$d" 51888 "$TMP/fl$d.img" || return 1
	done
	for d in 2 3 6; do
		timeout 90 $X run "$H" "$d" -- $BH -d 51888 -n x -l 1900 -t 4 \
			watch-flood >"$TMP/flood3.$d.out" 2>&1 &
		pids="$pids $!"
	done
	wait $pids
	for d in 2 3 6; do
		grep '^#' "$TMP/flood3.$d.out"
		guest_lines "watch-flood-3-guests-d$d" "$TMP/flood3.$d.out"
	done
}
rss0=$(rss_kb)
flood3
rss1=$(rss_kb)
echo "# daemon RSS ${rss0} kB -> ${rss1} kB over three guests' watch floods"
check "watch-flood from 3 guests, long names below state: daemon memory bounded (< 16 MiB growth)" \
	test $((rss1 - rss0)) -lt 16384
hostile state-race 2 51808 state-race
hostile state-race-persistent 2 51824 state-race -p
bystander state-storm 4
hostile state-storm 2 51840 state-storm -t 3
bystander_done state-storm
# The backend's own index in the guest's page, rewritten (found in review:
# the crash journal trusted it and its free list ran out).
bystander rsp-prod 4
hostile rsp-prod 2 51872 rsp-prod -t 2
bystander_done rsp-prod
check "daemon alive after the blk classes (grant copy)" daemon_alive

# ---- blk, grant map -----------------------------------------------------
check "daemon stops cleanly" stop_daemon
check "daemon restarted mapping grants" start_daemon map
hostile map-scatter 3 51712 scatter
hostile map-scatter-persistent 3 51728 scatter -p
hostile map-batch-error 3 51744 batch-error
hostile map-batch-error-persistent 3 51760 batch-error -p
unwind_case map-ring-unwind 3 51776
hostile map-state-race-persistent 3 51792 state-race -p
hostile map-state-storm-persistent 3 51824 state-storm -p -t 3
bystander map-double-fetch 4
hostile map-double-fetch-persistent 3 51808 double-fetch -p -t 3
bystander_done map-double-fetch
check "daemon alive after the blk classes (grant map)" daemon_alive

# ---- net ----------------------------------------------------------------
G5=xbx-g5$TAG
G6=xbx-g6$TAG
net_add_vif 5 0
net_hotplug 5 0
net_start_front 5 0 "$G5"
check "bystander vif connected" net_wait_front 5 0 "$G5"
ping5() { ip netns exec "$G5" ping -q -c 2 -i 0.2 -W 2 "$(net_host_ip 5 0)"; }
check "bystander vif pings the host" ping5

# net_frame NAME CLASS N SLOTS: a valid UDP datagram in an awkward slot
# layout must reach the host's stack intact (checksums verified there).
net_frame() {
	local n=$1 cls=$2 i=$3 slots=$4 port=$((5200 + $3)) out=$TMP/udp.$3
	net_add_vif 6 "$i"
	ip netns exec "$HNS" $NT udp-recv "$port" 6 >"$out" 2>&1 &
	local r=$!
	net_wait 50 grep -q listening "$out"
	net_start_front 6 "$i" "$G6" --hostile \
		"$cls:$(net_guest_ip 6 "$i"),$(net_host_ip 6 "$i"),$port"
	net_hotplug 6 "$i"
	net_wait 100 grep -q "^hostile" "$TMP/nf.6.$i.log"
	grep "^hostile" "$TMP/nf.6.$i.log"
	wait "$r"
	cat "$out"
	grep -q "okay=$slots error=0.*backend-state=4" "$TMP/nf.6.$i.log" &&
		grep -q '^udp [1-9]' "$out"
}
check "net: headers split across 5 slots: delivered intact, all slots OKAY (XSA-423)" \
	net_frame split split-header 1 5
check "net: 60-byte packet in 18 slots: delivered intact, all slots OKAY (XSA-432)" \
	net_frame maxfrag max-frag 2 18
check "net: bystander vif still pings the host" ping5

# XSA-155 on a vif: slots rewritten while the backend reads them. Either
# answer is right (packets dropped with errors, or the device stopped for
# a slot chain past the producer); the daemon and the others carry on.
net_rewrite() {
	local s
	net_add_vif 6 5
	net_hotplug 6 5
	net_start_front 6 5 "$G6" --hostile rewrite
	net_wait 100 grep -q "^hostile" "$TMP/nf.6.5.log" || return 1
	grep "^# rewrite\|^hostile" "$TMP/nf.6.5.log"
	s=$(net_be_state 6 5)
	echo "backend state $s"
	if [ "$s" = 6 ]; then
		net_xs "$(be_path 6 5)/error" | grep -q . || return 1
	else
		[ "$s" = 4 ] || return 1
	fi
	ping5 && daemon_alive
}
check "net: tx slots rewritten under the backend: answered or stopped, others served (XSA-155)" \
	net_rewrite

# XSA-361 class on a vif: queue 0's rings and queue 1's tx ring map, queue
# 1's rx ring cannot: the device fails and holds nothing.
net_add_vif 6 4
net_hotplug 6 4
net_start_front 6 4 "$G6" --queues 2 --hostile bad-rx-ring
vif_unwound() {
	net_wait 100 net_state_is 6 4 6 &&
		net_xs "$(be_path 6 4)/error" | grep -q . &&
		net_ctl | grep -E '^6 +vif +4 ' | grep -q 'rings=0 channels=0'
}
check "net: 2 queues, the last rx ring never granted: device closed, nothing held (XSA-361 class)" \
	vif_unwound
check "net: the failed vif answers the toolstack's detach with Closed in time" \
	net_unplug 6 4

# XSA-350 on a vif: the guest closes while the host floods it.
net_add_vif 6 3
net_hotplug 6 3
net_start_front 6 3 "$G6"
net_wait_front 6 3 "$G6"
ip netns exec "$HNS" ping -q -f -w 4 "$(net_guest_ip 6 3)" >/dev/null 2>&1 &
sleep 1
$X run "$H" 6 -- xenstore-write "$(fe_path 6 3)/state" 5
vif_closed() {
	net_wait 100 net_state_is 6 3 6 &&
		net_ctl | grep '^6 ' | grep 'vif' | grep -q ' 3 .*rings=0 channels=0'
}
check "net: frontend Closing under a flood: Closed, rings unmapped (XSA-350)" vif_closed
check "net: bystander vif still pings the host" ping5
check "daemon alive at the end" daemon_alive
check "daemon stops cleanly at the end" stop_daemon
if grep -q 'AddressSanitizer\|runtime error\|ERROR SUMMARY: [1-9]' "$TMP/daemon.log"; then
	fail "no sanitizer or memcheck report in the daemon's log"
fi
exit 0
