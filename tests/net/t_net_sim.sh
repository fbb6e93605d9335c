#!/bin/bash
# t_net_sim.sh - the network backend on the simulated Xen host: the real
# xenbackd binary serving vifs to netfront guests, traffic by the kernel's
# own stacks in network namespaces. One PASS/FAIL line per case.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/net/lib.sh

net_suite t_net_sim.sh 400

net_setup || { echo "FAIL: simulated host with xenbackd did not start"; exit 1; }
T=${TMP##*.}
G5=xbn-g$T
in_host() { ip netns exec "$HNS" "$@"; }
in_g() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
daemon_alive() { kill -0 "$DAEMON" && net_ctl >/dev/null; }

# tcp FROM_NS TO_NS TO_IP BYTES PORT: a verified stream; prints the
# receiver's line.
tcp() {
	local from=$1 to=$2 ip=$3 bytes=$4 port=$5 out=$TMP/tcp.$5
	in_g "$to" $NT tcp-recv "$port" 40 >"$out" 2>&1 &
	local r=$!
	net_wait 50 grep -q listening "$out"
	in_g "$from" $NT tcp-send "$ip" "$port" "$bytes" >/dev/null 2>&1
	wait "$r"
	cat "$out"
	grep -q "^recv $bytes ok" "$out"
}

ping_ok() { in_g "$1" ping -q -c "${4:-3}" -i 0.2 -W 2 "${@:5}" "$3" >/dev/null; }
state_is() { net_state_is "$@"; }

# --------------------------------------------------------------------
# Set-up as the toolstack does it
# --------------------------------------------------------------------
net_create_dom 5
net_add_vif 5 0
tap_at_initwait() {
	net_wait 100 state_is 5 0 2 && ip -n "$HNS" link show vif5.0
}
check "TAP vif5.0 exists when the backend reaches InitWait" tap_at_initwait
host_mac() { ip -n "$HNS" link show vif5.0 | grep -q 'ether fe:ff:ff:ff:ff:ff'; }
check "TAP carries netback's host MAC fe:ff:ff:ff:ff:ff" host_mac

net_start_front 5 0 "$G5"
sleep 1.5
check "backend stays in InitWait until hotplug-status=connected" state_is 5 0 2
net_hotplug 5 0
check "frontend and backend Connected after the hotplug script" \
	net_wait_front 5 0 "$G5"
check "backend state is Connected" state_is 5 0 4

# --------------------------------------------------------------------
# Traffic
# --------------------------------------------------------------------
check "ping guest -> host" ping_ok "$G5" 5 "$(net_host_ip 5 0)"
check "ping host -> guest" ping_ok "$HNS" 5 "$(net_guest_ip 5 0)"
check "TCP 64 MB guest -> host, every byte verified" \
	tcp "$G5" "$HNS" "$(net_host_ip 5 0)" 64000000 5001
check "TCP 64 MB host -> guest, every byte verified" \
	tcp "$HNS" "$G5" "$(net_guest_ip 5 0)" 64000000 5002
gso_sizes() {
	local txp txb rxp rxb
	txp=$(net_counter 5 0 tx_packets) txb=$(net_counter 5 0 tx_bytes)
	rxp=$(net_counter 5 0 rx_packets) rxb=$(net_counter 5 0 rx_bytes)
	echo "guest tx $txb bytes in $txp packets, rx $rxb in $rxp"
	[ "$txp" -gt 0 ] && [ "$rxp" -gt 0 ] &&
		[ $((txb / txp)) -gt 8000 ] && [ $((rxb / rxp)) -gt 8000 ]
}
check "large GSO frames cross both ways (average packet > 8000 bytes)" \
	gso_sizes

# IPv6: checksum offload (feature-ipv6-csum-offload) and TCPv6 GSO both
# ways, every byte verified by the receiver's stack and nettool.
in_host ip addr add fd65::1/64 dev vif5.0 nodad
in_g "$G5" ip addr add fd65::2/64 dev eth0 nodad
# offload_delta COUNTER... : the counters' values, to diff around a run.
offl() { local c; for c in tx_csum_partial tx_gso rx_csum_partial rx_gso; do
	echo -n "$(net_counter 5 0 $c) "; done; }
v6_offload() {
	local a b
	a=($(offl))
	tcp "$G5" "$HNS" fd65::1 16000000 5014 &&
		tcp "$HNS" "$G5" fd65::2 16000000 5015 || return 1
	b=($(offl))
	echo "csum/gso tx ${a[0]}->${b[0]} ${a[1]}->${b[1]}, rx ${a[2]}->${b[2]} ${a[3]}->${b[3]}"
	# 16 MB at most 64 KB a frame: at least 245 frames each way went
	# with their checksum left to the receiver and segmented there.
	[ $((b[0] - a[0])) -ge 245 ] && [ $((b[1] - a[1])) -ge 245 ] &&
		[ $((b[2] - a[2])) -ge 245 ] && [ $((b[3] - a[3])) -ge 245 ]
}
check "IPv6: TCP 16 MB each way verified, checksum offload and GSO both ways" \
	v6_offload

mtu_edges() {
	local s
	for s in 0 1 1472; do
		ping_ok "$G5" 5 "$(net_host_ip 5 0)" 2 -M do -s "$s" || return 1
		ping_ok "$HNS" 5 "$(net_guest_ip 5 0)" 2 -M do -s "$s" || return 1
	done
}
check "MTU 1500 edge sizes both ways (0, 1, 1472 byte payloads, DF)" mtu_edges
mtu9000() {
	local s
	ip -n "$HNS" link set vif5.0 mtu 9000 && ip -n "$G5" link set eth0 mtu 9000 || return 1
	# frames of 4096 and 4097 bytes straddle the slot size; 9014 is 3 slots
	for s in 4054 4055 8972; do
		ping_ok "$G5" 5 "$(net_host_ip 5 0)" 2 -M do -s "$s" || return 1
		ping_ok "$HNS" 5 "$(net_guest_ip 5 0)" 2 -M do -s "$s" || return 1
	done
}
check "MTU 9000: page-straddling and multi-slot frames both ways" mtu9000
in_host ip link set vif5.0 mtu 1500; in_g "$G5" ip link set eth0 mtu 1500

# A guest without checksum offload or GSO: every checksum is computed by
# the sender's stack and verified by the receiver's.
G6=xbn-g6$T
net_create_dom 6
net_add_vif 6 0
net_start_front 6 0 "$G6" --no-csum --no-gso
net_hotplug 6 0
net_wait_front 6 0 "$G6"
check "no-csum guest: TCP 16 MB guest -> host verified" \
	tcp "$G6" "$HNS" "$(net_host_ip 6 0)" 16000000 5003
check "no-csum guest: TCP 16 MB host -> guest verified" \
	tcp "$HNS" "$G6" "$(net_guest_ip 6 0)" 16000000 5004

# Two queues with split event channels.
G7=xbn-g7$T
net_create_dom 7
net_add_vif 7 0
net_start_front 7 0 "$G7" --queues 2 --split
net_hotplug 7 0
net_wait_front 7 0 "$G7"
mq_negotiated() {
	grep -q 'connected queues=2 split=1' "$TMP/nf.7.0.log" &&
		net_ctl | grep '^7 ' | grep -q 'queues=2' &&
		net_ctl | grep '^7 ' | grep -q 'split-event-channels'
}
check "2 queues, split channels: negotiated" mq_negotiated
mq_ping() {
	ping_ok "$G7" 7 "$(net_host_ip 7 0)" && ping_ok "$HNS" 7 "$(net_guest_ip 7 0)"
}
check "2 queues, split channels: ping both ways" mq_ping
mq_streams() {
	tcp "$G7" "$HNS" "$(net_host_ip 7 0)" 16000000 5005 &&
		tcp "$HNS" "$G7" "$(net_guest_ip 7 0)" 16000000 5006
}
check "2 queues, split channels: TCP both ways verified" mq_streams
mq_both_used() {
	local i c
	# Each connection's flow hash picks a queue: 16 make both certain.
	for i in $(seq 16); do
		tcp "$G7" "$HNS" "$(net_host_ip 7 0)" 100000 $((5100 + i)) >/dev/null ||
			return 1
	done
	for c in q0_tx_packets q1_tx_packets q0_rx_packets q1_rx_packets; do
		echo "$c=$(net_counter 7 0 $c)"
		[ "$(net_counter 7 0 $c)" -gt 0 ] || return 1
	done
}
check "2 queues: both carry packets both ways (per-queue counters)" mq_both_used

# Rate limit: 250 kB per 100 ms (2.5 MB/s) on guest transmit.
G10=xbn-g10$T
net_create_dom 10
net_add_vif 10 0 rate=250000,100000
net_start_front 10 0 "$G10"
net_hotplug 10 0
net_wait_front 10 0 "$G10"
rate_ok() {
	local out gbit
	out=$(tcp "$G10" "$HNS" "$(net_host_ip 10 0)" 6000000 5007) || return 1
	gbit=$(echo "$out" | awk '/ok/ {print $4}')
	echo "$out"
	# 2.5 MB/s is 0.020 Gbit/s; the first burst is credited at once.
	awk -v g="$gbit" 'BEGIN { exit !(g > 0.010 && g < 0.030) }'
}
check "rate 250000,100000 holds guest transmit to ~20 Mbit/s" rate_ok

# The toolstack rewrites "rate" while the guest runs (netback watches it).
# rate_to VALUE|- MIN MAX BYTES PORT: set (or remove) the node, then a TCP
# stream of BYTES runs between MIN and MAX Gbit/s.
rate_to() {
	local be out gbit
	be=$(be_path 10 0)
	if [ "$1" = - ]; then
		xenstore-rm "$be/rate" || return 1
		net_wait 50 grep -q 'vif/10/0: transmit limit lifted' "$TMP/daemon.log"
	else
		xenstore-write "$be/rate" "$1" || return 1
		net_wait 50 grep -q "vif/10/0: transmit limited to ${1%,*} bytes per ${1#*,} us" \
			"$TMP/daemon.log"
	fi || return 1
	out=$(tcp "$G10" "$HNS" "$(net_host_ip 10 0)" "$4" "$5") || return 1
	gbit=$(echo "$out" | awk '/ok/ {print $4}')
	echo "$out"
	awk -v g="$gbit" -v lo="$2" -v hi="$3" 'BEGIN { exit !(g > lo && g < hi) }'
}
check "rate rewritten to 1250000,100000 at run time: ~100 Mbit/s" \
	rate_to 1250000,100000 0.060 0.140 15000000 5012
rate_bad() {
	xenstore-write "$(be_path 10 0)/rate" "fast" &&
		net_wait 50 grep -q "vif/10/0: backend node rate 'fast': not <bytes>,<microseconds>; the limit stays 1250000 bytes per 100000 us" \
			"$TMP/daemon.log" &&
		state_is 10 0 4
}
check "rate rewritten to garbage: one warning, limit kept, device Connected" \
	rate_bad
check "rate removed at run time: the limit is lifted (> 0.3 Gbit/s)" \
	rate_to - 0.3 1000 64000000 5013

# --------------------------------------------------------------------
# A guest that posts no receive buffers (XSA-392)
# --------------------------------------------------------------------
G8=xbn-g8$T
net_create_dom 8
net_add_vif 8 0
net_start_front 8 0 "$G8" --no-rx-buffers
net_hotplug 8 0
net_wait_front 8 0 "$G8"
rss_kb() { awk '/VmRSS/ {print $2}' /proc/"$(pgrep -P "$DAEMON" xenbackd || echo "$DAEMON")"/status 2>/dev/null || echo 0; }
rss0=$(rss_kb)
in_host ip neigh replace "$(net_guest_ip 8 0)" lladdr 00:16:3e:08:00:01 dev vif8.0
in_host $NT udp-send "$(net_guest_ip 8 0)" 9 3 1400 >/dev/null &
flood=$!
check "while flooding the starved guest, another guest is served" \
	ping_ok "$G5" 5 "$(net_host_ip 5 0)" 5
wait $flood
rss1=$(rss_kb)
starved() {
	local d s
	d=$(net_counter 8 0 rx_dropped) s=$(net_counter 8 0 rx_stalls)
	echo "rx_dropped=$d rx_stalls=$s rss ${rss0}kB -> ${rss1}kB"
	[ "$d" -gt 1000 ] && [ "$s" -ge 1 ] && [ $((rss1 - rss0)) -lt 16384 ]
}
check "no rx buffers: packets dropped and counted, daemon memory bounded" starved
check "no rx buffers: device stays Connected" state_is 8 0 4

# --------------------------------------------------------------------
# Hostile frontends: each class on a vif of its own
# --------------------------------------------------------------------
net_create_dom 9
G9=xbn-g9$T
hostile() {
	local n=$1 cls=$2 want=$3 line
	net_add_vif 9 "$n"
	net_start_front 9 "$n" "$G9" --hostile "$cls"
	net_hotplug 9 "$n" || return 1
	net_wait 100 grep -q "^hostile" "$TMP/nf.9.$n.log"
	line=$(grep "^hostile" "$TMP/nf.9.$n.log")
	echo "$line"
	case $want in
	fatal)
		net_wait 50 net_state_is 9 "$n" 6 || return 1
		net_xs "$(be_path 9 "$n")/error" | grep -q . || return 1 ;;
	storm)
		state_is 9 "$n" 4 || return 1 ;;
	*)
		echo "$line" | grep -q "$want.*backend-state=4" || return 1
		state_is 9 "$n" 4 || return 1 ;;
	esac
	ping_ok "$G5" 5 "$(net_host_ip 5 0)" 2 && daemon_alive
}
i=1
for c in "too-many-slots:okay=0 error=19" "cross-page:okay=0 error=1" \
	"slot-too-big:okay=0 error=2" "runt:okay=0 error=1" \
	"bad-gref:okay=0 error=1" "bad-extra:okay=0 error=1 dropped=0 null=1" \
	"bad-gso:okay=0 error=1 dropped=0 null=1" "zero-frag:okay=3 error=0" \
	"fatal-slots:fatal" "truncated:fatal" "prod-overflow:fatal" \
	"rx-prod-overflow:fatal" "event-storm:storm"; do
	cls=${c%%:*} want=${c#*:}
	case $want in
	fatal) what="device disconnected with an error node" ;;
	storm) what="other guests still served" ;;
	*) what="answered ${want#okay=0 }, device kept" ;;
	esac
	check "hostile $cls: $what; daemon and other guests unaffected" \
		hostile "$i" "$cls" "$want"
	i=$((i + 1))
done

# --------------------------------------------------------------------
# Hot-unplug and domain destruction while traffic flows
# --------------------------------------------------------------------
in_g "$G5" $NT tcp-recv 5010 30 >/dev/null 2>&1 &
in_host $NT tcp-send "$(net_guest_ip 5 0)" 5010 4000000000 >/dev/null 2>&1 &
in_host ping -q -f -w 8 "$(net_guest_ip 5 0)" >/dev/null 2>&1 &
sleep 1
check "hot-unplug while traffic flows: backend Closed" net_unplug 5 0
no_tap() { ! ip -n "$HNS" link show "$1"; }
check "hot-unplug: TAP vif5.0 removed" net_wait 50 no_tap vif5.0

in_g "$G7" $NT tcp-recv 5011 30 >/dev/null 2>&1 &
in_host $NT tcp-send "$(net_guest_ip 7 0)" 5011 4000000000 >/dev/null 2>&1 &
sleep 1
$X destroy "$H" 7 >/dev/null 2>&1
destroyed7() {
	# The toolstack waits for Closed, then removes the backend directory.
	net_wait 100 net_state_is 7 0 6 || return 1
	xenstore-rm "$(be_path 7 0)" || return 1
	net_wait 100 no_tap vif7.0 && ! net_ctl | grep -q '^7 '
}
check "domain destroyed while traffic flows: Closed, then vif and TAP gone" \
	destroyed7
still_serving() { daemon_alive && ping_ok "$G6" 6 "$(net_host_ip 6 0)"; }
check "daemon alive, other guests served after all of the above" still_serving
exit 0
