# net-ping: the guest's own xen-netfront: eth0 comes up with the configured
# MAC, the guest pings dom0's bridge address and dom0 pings the guest.

guest() {
	g_net eth0 10.99.0.60 30
	grep -qi 00:16:3e:e2:00:60 /sys/class/net/eth0/address ||
		g_fail "eth0 has MAC $(cat /sys/class/net/eth0/address)"
	ping -c 3 -W 5 10.99.0.1 || g_fail "no answer from dom0 10.99.0.1"
	echo "guest-pinged"
}

dom0() {
	e2e_std_guest netp 60 </dev/null
	e2e_guest_done netp 90
	ping -c 3 -W 5 10.99.0.60 || fail "no answer from the guest 10.99.0.60"
}
