# net-traffic: a guest's own xen-netfront with 2 queues on a xenbackd vif:
# eth0 has the configured MAC and 2 tx queues, xenbackd negotiated 2
# queues and both carried packets each way (16 connections); 8 MiB of random data each way over TCP (busybox httpd and wget)
# arrive with the same MD5 on the other side; the guest's transmit goes
# out as GSO frames (more bytes per packet than the MTU allows); then the
# same both ways with the MTU at 9000 (frames of 3 ring slots:
# feature-sg), on the vif taken out of the bridge so xenbr0 keeps 1500.

E2E_MODES="xenbackd kernel"

g_arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"; }
g_md5() { md5sum | cut -d' ' -f1; }

guest() {
	local d2g srv=http://10.99.0.1:8061 got n
	d2g=$(g_arg e2e.d2g)
	g_net eth0 10.99.0.61 30
	ip addr add 10.98.61.2/24 dev eth0 || g_fail "cannot add 10.98.61.2"
	grep -qi 00:16:3e:e2:00:61 /sys/class/net/eth0/address ||
		g_fail "eth0 has MAC $(cat /sys/class/net/eth0/address)"
	n=$(ls -d /sys/class/net/eth0/queues/tx-* | wc -l)
	echo "guest eth0 tx queues: $n"
	[ "$n" = 2 ] || g_fail "eth0 has $n tx queues, not 2"
	g_wait 30 ping -c 1 -W 2 10.99.0.1 || g_fail "no answer from dom0"
	mkdir -p /www
	dd if=/dev/urandom of=/www/g2d bs=1M count=8 2>/dev/null
	echo "@@G G2D $(g_md5 </www/g2d)"
	busybox httpd -p 8061 -h /www || g_fail "cannot start httpd"

	got=$(busybox wget -q -O - "$srv/d2g" | g_md5)
	[ "$got" = "$d2g" ] || g_fail "dom0 -> guest, MTU 1500: md5 $got, sent $d2g"
	# 16 connections: their flow hashes spread them over both queues.
	for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		busybox wget -q -O /dev/null "$srv/small" ||
			g_fail "dom0 -> guest: connection $n failed"
	done
	echo "@@G ROUND1"

	# dom0 serves mtu9000 once its end of the vif is at 9000.
	g_wait 120 busybox wget -q -O /dev/null "http://10.98.61.1:8061/mtu9000" ||
		g_fail "dom0 never raised its MTU"
	ip link set eth0 mtu 9000 || g_fail "cannot set MTU 9000 on eth0"
	got=$(busybox wget -q -O - "http://10.98.61.1:8061/d2g" | g_md5)
	[ "$got" = "$d2g" ] || g_fail "dom0 -> guest, MTU 9000: md5 $got, sent $d2g"
	echo "@@G ROUND2"
}

# A vif counter of domain $1 from xenbackctl --json.
vif_stat() {
	e2e_ctl --json | jq -r ".[] | select(.domain == $1 and .kind == \"vif\") | .stats.$2"
}

dom0() {
	local d sum g2d got log www=/tmp/e2e-www hpid p0 b0 p1 b1
	mkdir -p $www
	dd if=/dev/urandom of=$www/d2g bs=1M count=8 2>/dev/null
	echo small >$www/small
	sum=$(md5sum <$www/d2g | cut -d' ' -f1)
	busybox httpd -f -p 8061 -h $www &
	hpid=$!
	trap 'kill $hpid 2>/dev/null; rm -rf $www' EXIT

	GUEST_VCPUS=2 GUEST_EXTRA="xen_netfront.max_queues=2 e2e.d2g=$sum" \
		e2e_std_guest nett 61 </dev/null
	d=$(e2e_domid nett)
	log=$(e2e_guest_log nett)
	e2e_backend_ready "$d" vif 0
	e2e_guest_wait nett '@@G ROUND1' 120 ||
		fail "guest round 1: $(grep '@@G WHY' "$log" | tail -n 1)"
	[ "$E2E_MODE" = kernel ] ||
		e2e_ctl | grep "^$d " | grep vif | grep -q 'queues=2' ||
		fail "xenbackd did not negotiate 2 queues: $(e2e_ctl | grep "^$d ")"
	if [ "$E2E_MODE" != kernel ]; then
		for c in q0_tx_packets q1_tx_packets q0_rx_packets q1_rx_packets; do
			echo "$c $(vif_stat "$d" $c)"
			[ "$(vif_stat "$d" $c)" -gt 0 ] ||
				fail "queue counter $c is $(vif_stat "$d" $c): both queues not used"
		done
	fi
	ping -c 2 -W 5 10.99.0.61 >/dev/null || fail "dom0 cannot ping the guest"

	g2d=$(sed -n 's/.*@@G G2D \([0-9a-f]*\).*/\1/p' "$log" | tail -n 1)
	[ "$E2E_MODE" = kernel ] || { p0=$(vif_stat "$d" tx_packets); b0=$(vif_stat "$d" tx_bytes); }
	got=$(busybox wget -q -O - http://10.99.0.61:8061/g2d | md5sum | cut -d' ' -f1)
	[ "$got" = "$g2d" ] || fail "guest -> dom0, MTU 1500: md5 $got, guest sent $g2d"
	echo "8 MiB each way at MTU 1500: md5 match"
	if [ "$E2E_MODE" != kernel ]; then
		p1=$(vif_stat "$d" tx_packets) b1=$(vif_stat "$d" tx_bytes)
		echo "guest transmit: $((b1 - b0)) bytes in $((p1 - p0)) packets"
		[ $(((b1 - b0) / (p1 - p0 + 1))) -gt 1600 ] ||
			fail "guest transmit not segmented by GSO ($((b1 - b0)) bytes in $((p1 - p0)) packets)"
	fi

	# MTU 9000 on a direct link: the vif out of the bridge.
	brctl delif xenbr0 "vif$d.0" || fail "cannot take vif$d.0 out of xenbr0"
	ip addr add 10.98.61.1/24 dev "vif$d.0" &&
		ip link set "vif$d.0" mtu 9000 || fail "cannot set vif$d.0 to MTU 9000"
	touch $www/mtu9000 # the httpd on all addresses serves 10.98.61.1 too
	e2e_guest_done nett 120
	got=$(busybox wget -q -O - http://10.98.61.2:8061/g2d | md5sum | cut -d' ' -f1)
	[ "$got" = "$g2d" ] || fail "guest -> dom0, MTU 9000: md5 $got, guest sent $g2d"
	echo "8 MiB each way at MTU 9000: md5 match"
}
