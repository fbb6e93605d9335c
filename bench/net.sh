#!/bin/bash
# bench/net.sh: the network backend against a veth pair, in the same run
# (`make bench`).
#
# A simulated guest (netfront, its eth0 TAP in a guest namespace) reaches
# the host namespace through xenbackd (vif TAP); the baseline is a veth
# pair between the very same two namespaces. Workloads, each both ways:
#   tcp    one TCP stream of BENCH_NET_MB MiB, every byte verified,
#          throughput measured by the receiver (Gbit/s)
#   small  UDP datagrams of 64 bytes for BENCH_NET_SECONDS, as fast as the
#          sender can; datagrams received per second (packets/s)
#   small-cpu  the whole machine's CPU time (all processes, kernel
#          included) per datagram received in the small run (us/packet)
# One line per result:
#   bench net <workload>: xenbackd <v> <unit>, baseline <v> <unit>, ratio <x>
# ratio is xenbackd/baseline (for throughput 1 is veth speed; for
# small-cpu lower is better). The xenbackd path includes the simulated
# guest's netfront (a single-threaded test frontend) and the simulated
# hypervisor's grant copies, so it measures the whole guest path.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/net/lib.sh
MB=${BENCH_NET_MB:-1024}
SECS=${BENCH_NET_SECONDS:-3}
trap net_cleanup EXIT

net_setup || { echo "bench/net.sh: simulated host did not start" >&2; exit 1; }
G=xbn-gb${TMP##*.}
net_create_dom 5
net_add_vif 5 0
net_start_front 5 0 "$G"
net_hotplug 5 0
net_wait_front 5 0 "$G" || { echo "bench/net.sh: guest did not connect" >&2; exit 1; }
XB_H=$(net_host_ip 5 0) XB_G=$(net_guest_ip 5 0)

# The baseline: a veth pair between the same namespaces.
ip link add xbnb0 netns "$HNS" type veth peer name xbnb1 netns "$G" || exit 1
ip -n "$HNS" addr add 10.98.0.1/24 dev xbnb0
ip -n "$G" addr add 10.98.0.2/24 dev xbnb1
ip -n "$HNS" link set xbnb0 up
ip -n "$G" link set xbnb1 up
VE_H=10.98.0.1 VE_G=10.98.0.2
sleep 1

# tcp FROM_NS TO_NS TO_IP: Gbit/s of one verified stream.
tcp() {
	local out=$TMP/bench.tcp
	ip netns exec "$2" $NT tcp-recv 5201 120 >"$out" 2>&1 &
	local r=$!
	net_wait 50 grep -q listening "$out"
	ip netns exec "$1" $NT tcp-send "$3" 5201 $((MB * 1048576)) >/dev/null 2>&1
	wait $r
	awk '/ ok / {print $4; found=1} END {if (!found) print 0}' "$out"
}

busy_jiffies() { awk '/^cpu / {print $2+$3+$4+$7+$8}' /proc/stat; }

# small FROM_NS TO_NS TO_IP: "pps us_per_packet".
small() {
	local out=$TMP/bench.udp c0 c1 pps pkts
	ip netns exec "$2" $NT udp-recv 5202 $((SECS + 1)) >"$out" 2>&1 &
	local r=$!
	net_wait 50 grep -q listening "$out"
	c0=$(busy_jiffies)
	ip netns exec "$1" $NT udp-send "$3" 5202 "$SECS" 64 >/dev/null 2>&1
	wait $r
	c1=$(busy_jiffies)
	read -r pkts pps < <(awk '/^udp/ {print $2, $4}' "$out")
	pkts=${pkts:-0} pps=${pps:-0}
	awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v p="$pkts" -v pps="$pps" \
		'BEGIN { printf "%s %.3f\n", pps, (p > 0 ? c / hz * 1e6 / p : 0) }'
}

line() {
	awk -v w="$1" -v x="$2" -v b="$3" -v u="$4" 'BEGIN {
		printf "bench net %s: xenbackd %s %s, baseline %s %s, ratio %.3f\n",
			w, x, u, b, u, (b > 0 ? x / b : 0) }'
}

line guest-to-host-tcp "$(tcp "$G" "$HNS" "$XB_H")" "$(tcp "$G" "$HNS" "$VE_H")" Gbit/s
line host-to-guest-tcp "$(tcp "$HNS" "$G" "$XB_G")" "$(tcp "$HNS" "$G" "$VE_G")" Gbit/s
read -r xp xc < <(small "$G" "$HNS" "$XB_H")
read -r bp bc < <(small "$G" "$HNS" "$VE_H")
line guest-to-host-small "$xp" "$bp" packets/s
line guest-to-host-small-cpu "$xc" "$bc" us/packet
read -r xp xc < <(small "$HNS" "$G" "$XB_G")
read -r bp bc < <(small "$HNS" "$G" "$VE_G")
line host-to-guest-small "$xp" "$bp" packets/s
line host-to-guest-small-cpu "$xc" "$bc" us/packet
