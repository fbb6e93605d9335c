#!/bin/bash
# t_net_restart.sh - a vif's TAP outlives the daemon (SIGKILL, SIGTERM):
# the next daemon takes the same netdev over (same ifindex, bridge port,
# addresses, MTU the host gave it, every queue), and removes the TAPs of
# devices that went while no daemon ran; a TAP that is not ours is never
# touched; a TAP moved to another namespace is left there, said in one
# line. The real daemon on the simulated host, netfront guests.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh

net_suite t_net_restart.sh 300

net_setup || { echo "FAIL: simulated host with xenbackd did not start"; exit 1; }
T=${TMP##*.}
G5=xbn-g5$T G6=xbn-g6$T
BR=xbbr0
in_host() { ip netns exec "$HNS" "$@"; }
ifindex() { ip -n "$HNS" -o link show "$1" 2>/dev/null | cut -d: -f1; }
ping_ok() { ip netns exec "$1" ping -q -c 3 -i 0.2 -W 2 "$2" >/dev/null; }
rec() { echo "$TMP/vif/$1"; }

# The host: a bridge with the address guest 5 reaches through it.
ip -n "$HNS" link add "$BR" type bridge &&
	ip -n "$HNS" addr add 10.65.0.1/24 dev "$BR" &&
	ip -n "$HNS" link set "$BR" up ||
	{ echo "FAIL: cannot make bridge $BR"; exit 1; }

# vif-bridge's part for vif5.0, plus an MTU the host chose.
bridge_hotplug() {
	net_wait 100 net_state_is 5 0 2 || return 1
	ip -n "$HNS" link set vif5.0 mtu 9000 master "$BR" up &&
		xenstore-write "$(be_path 5 0)/hotplug-status" connected
}

# front_restart D N NS [opts]: the guest's netfront starts over, as a
# frontend does after its backend went away (Initialising, then connect).
declare -A NFPID
start_front() {
	net_start_front "$@"
	NFPID[$1]=$!
}
front_restart() {
	local d=$1 n=$2 ns=$3 p=${NFPID[$1]}
	shift 3
	# xensim run passes SIGTERM on to netfront, which closes the device.
	if kill "$p" 2>/dev/null; then
		net_wait 250 eval "! kill -0 $p" || kill -9 "$p"
	fi
	wait "$p" 2>/dev/null
	xenstore-write "$(fe_path "$d" "$n")/state" 1 || return 1
	# Its log names the old one "connected": not to be read as ours.
	rm -f "$TMP/nf.$d.$n.log"
	start_front "$d" "$n" "$ns" "$@"
	net_wait_front "$d" "$n" "$ns"
}

net_create_dom 5
net_add_vif 5 0
start_front 5 0 "$G5" --queues 2
bridge_hotplug
net_create_dom 6
net_add_vif 6 0
start_front 6 0 "$G6"
net_hotplug 6 0
for d in 7 8 10 11 12; do
	net_create_dom $d
	net_add_vif $d 0
	net_hotplug $d 0
done
ready() {
	net_wait_front 5 0 "$G5" && net_wait_front 6 0 "$G6" &&
		ip -n "$G5" addr replace 10.65.0.2/24 dev eth0 &&
		ping_ok "$G5" 10.65.0.1 && ping_ok "$G6" "$(net_host_ip 6 0)"
}
check "set-up: guest 5 (2 queues) on bridge $BR, guest 6 routed, ping" ready
IDX5=$(ifindex vif5.0) IDX6=$(ifindex vif6.0) IDX7=$(ifindex vif7.0)
IDX8=$(ifindex vif8.0)
recorded() {
	for v in vif5.0 vif6.0 vif7.0 vif8.0 vif10.0; do
		grep -qx "ifindex=$(ifindex $v)" "$(rec $v)" || return 1
	done
}
check "each TAP is recorded with its ifindex in the runtime directory" recorded

# kept V IDX: vif V is the same netdev (same ifindex), and carrier aside
# as the host left it.
kept5() {
	ip -n "$HNS" -d link show vif5.0
	[ "$(ifindex vif5.0)" = "$IDX5" ] &&
		ip -n "$HNS" link show vif5.0 | grep -q "mtu 9000 .*master $BR"
}
kept6() {
	ip -n "$HNS" addr show vif6.0
	[ "$(ifindex vif6.0)" = "$IDX6" ] &&
		ip -n "$HNS" addr show vif6.0 | grep -q "inet $(net_host_ip 6 0)/24"
}
gone() { ! ip -n "$HNS" link show "$1" && [ ! -e "$(rec "$1")" ]; }

# --------------------------------------------------------------------
# The daemon crashes (SIGKILL)
# --------------------------------------------------------------------
net_daemon_kill KILL
echo "# xenbackd killed (status $DAEMON_RC)"
check "SIGKILL: vif5.0 stays, same ifindex, MTU 9000, port of $BR" kept5
check "SIGKILL: vif6.0 stays, same ifindex, with its address" kept6

# Meanwhile the toolstack removes vif 7/0 and domain 8 is destroyed;
# domain 10 dies too, but no toolstack cleans up after it: its xenstore
# directories stay (the hypervisor alone knows it is gone).
xenstore-rm "$(be_path 7 0)"
xenstore-rm "$(fe_path 7 0)"
$X destroy "$H" 8 >>"$TMP/xensim.log" 2>&1
$X destroy "$H" 10 >>"$TMP/xensim.log" 2>&1
xenstore-write /local/domain/10/name leftover
# Someone moves two TAPs to another namespace (ip link set ... netns):
# vif11.0, whose device stays, and vif12.0, whose device the toolstack
# then removes. No daemon can prove them ours there (docs/net.md): they
# are left, and the daemon says so.
MV=xbn-mv$T
ip netns add "$MV"
ip -n "$HNS" link set vif11.0 netns "$MV"
ip -n "$HNS" link set vif12.0 netns "$MV"
xenstore-rm "$(be_path 12 0)"
xenstore-rm "$(fe_path 12 0)"
net_daemon_start
check "restart: the TAP of a device removed meanwhile is removed, with its record" \
	net_wait 50 gone vif7.0
check "restart: the TAP of a domain destroyed meanwhile is removed, with its record" \
	net_wait 50 gone vif8.0
dead10() {
	xenstore-read "$(be_path 10 0)/state" && net_wait 50 gone vif10.0
}
check "restart: the TAP of a domain the hypervisor no longer lists is removed, though its xenstore directories stay" \
	dead10
taken_over() {
	net_wait 100 eval 'net_ctl | grep -q "^5 .*vif5.0"' &&
		net_wait 100 eval 'net_ctl | grep -q "^6 .*vif6.0"' &&
		grep -q 'vif/5/0.*TAP vif5.0 taken over' "$TMP/daemon.log" &&
		grep -q 'vif/6/0.*TAP vif6.0 taken over' "$TMP/daemon.log" &&
		kept5 && kept6
}
check "restart after SIGKILL: both TAPs taken over unchanged" taken_over
moved_kept() {
	grep -F "TAP vif11.0 of $(be_path 11 0), left by an earlier daemon, is not in this network namespace (deleted, or moved to another): the device gets a new one, which its hotplug script has not configured (no bridge port, address or MTU)" \
		"$TMP/daemon.log" && ip -n "$MV" link show vif11.0 &&
		net_wait 50 eval 'ip -n "$HNS" link show vif11.0'
}
check "restart: a TAP moved to another namespace is left there, one warning; its device (still there) gets a new TAP" \
	moved_kept
moved_gone() {
	grep -F "TAP vif12.0 of $(be_path 12 0), gone with its device, is not in this network namespace (deleted, or moved to another, where it is left): record dropped" \
		"$TMP/daemon.log" && ip -n "$MV" link show vif12.0 &&
		[ ! -e "$(rec vif12.0)" ]
}
check "restart: a TAP moved to another namespace, its device gone: left there, record dropped, one line" \
	moved_gone
traffic() {
	front_restart 5 0 "$G5" --queues 2 &&
		ip -n "$G5" addr replace 10.65.0.2/24 dev eth0 &&
		front_restart 6 0 "$G6" || return 1
	grep 'connected queues' "$TMP/nf.5.0.log"
	grep -q 'connected queues=2' "$TMP/nf.5.0.log" &&
		ping_ok "$G5" 10.65.0.1 && ping_ok "$HNS" 10.65.0.2 &&
		ping_ok "$G6" "$(net_host_ip 6 0)"
}
check "restart after SIGKILL: guests reconnect (2 queues) and ping through the same TAPs" \
	traffic

# --------------------------------------------------------------------
# The daemon stops (SIGTERM), a netdev of that name not ours appears
# --------------------------------------------------------------------
net_daemon_kill TERM
check "SIGTERM: xenbackd exits 0" test "$DAEMON_RC" = 0
check "SIGTERM: vif5.0 kept (ifindex, MTU, bridge port)" kept5
check "SIGTERM: vif6.0 kept (ifindex, address)" kept6
kept_records() { [ -e "$(rec vif5.0)" ] && [ -e "$(rec vif6.0)" ]; }
check "SIGTERM: their records kept for the next daemon" kept_records

# Someone else's TAP named like a vif, and a stale record naming it (its
# ifindex is another's: the netdev was made anew since).
ip -n "$HNS" tuntap add dev vif9.0 mode tap multi_queue
IDX9=$(ifindex vif9.0)
printf 'ifindex=%s\nnetns=%s\nbackend=%s\n' "$((IDX9 + 1000))" \
	"$(in_host stat -L -c %d:%i /proc/self/ns/net)" "$(be_path 9 0)" \
	>"$(rec vif9.0)"
net_daemon_start
check "restart after SIGTERM: vif5.0 and vif6.0 taken over unchanged" taken_over
check "restart: the stale record of a TAP not ours is dropped, the TAP kept" \
	eval 'test ! -e "$(rec vif9.0)" && [ "$(ifindex vif9.0)" = "$IDX9" ]' 
check "restart after SIGTERM: guests reconnect and ping through the same TAPs" \
	traffic
mq_tcp() {
	local out=$TMP/tcp.out
	ip netns exec "$G5" $NT tcp-recv 5020 30 >"$out" 2>&1 &
	net_wait 50 grep -q listening "$out"
	in_host $NT tcp-send 10.65.0.2 5020 8000000 >/dev/null 2>&1
	wait $!
	cat "$out"
	grep -q '^recv 8000000 ok' "$out"
}
check "after two restarts: TCP 8 MB host -> 2-queue guest verified" mq_tcp
foreign() {
	[ "$(ifindex vif9.0)" = "$IDX9" ] || return 1
	net_create_dom 9 && net_add_vif 9 0 &&
		net_wait 50 eval 'xenstore-read "$(be_path 9 0)/error" | grep -q "^16 "' ||
		return 1
	xenstore-read "$(be_path 9 0)/error"
	[ "$(ifindex vif9.0)" = "$IDX9" ]
}
check "a vif named like a TAP not ours fails busy; that TAP untouched" \
	foreign

# --------------------------------------------------------------------
# The device really goes: its TAP and record go with it
# --------------------------------------------------------------------
unplugged() { net_unplug 5 0 && net_wait 50 gone vif5.0; }
check "hot-unplug: the persistent TAP and its record removed" unplugged
destroyed() {
	$X destroy "$H" 6 >>"$TMP/xensim.log" 2>&1
	net_wait 100 net_state_is 6 0 6 || return 1
	xenstore-rm "$(be_path 6 0)" && net_wait 50 gone vif6.0
}
check "domain destroyed: the persistent TAP and its record removed" destroyed
nothing_left() {
	xenstore-rm "$(be_path 9 0)"
	xenstore-rm "$(be_path 11 0)"
	net_wait 50 eval '! net_ctl | grep -q "^9 \|^11 "' || return 1
	net_daemon_kill TERM
	ls -A "$TMP/vif"
	ip -n "$HNS" -o link show | grep -o 'vif[0-9.]*'
	[ -z "$(ls -A "$TMP/vif")" ] &&
		[ "$(ip -n "$HNS" -o link show | grep -o 'vif[0-9.]*')" = vif9.0 ]
}
check "at the end: no record, no TAP but the one not ours" nothing_left
ip -n "$HNS" link del vif9.0
exit 0
