# net-hotplug: `xl network-detach` and `xl network-attach` on a running
# guest: the vif goes (backend Closed by itself, TAP gone) and a new one
# comes up in the guest's own netfront and carries pings; then `xl
# destroy` while dom0 pulls data from the guest leaves nothing behind
# (no backend directory, no device in the daemon, no TAP, and the domain
# gone from `xl list`: nothing of it held).

E2E_MODES="xenbackd kernel"

# The guest's interface with MAC $1, if any.
g_if_with_mac() {
	local a
	for a in /sys/class/net/*/address; do
		grep -qi "$1" "$a" 2>/dev/null && basename "$(dirname "$a")"
	done
}

guest() {
	local ifc
	g_net eth0 10.99.0.62 30
	g_wait 30 ping -c 1 -W 2 10.99.0.1 || g_fail "no answer from dom0 over the first vif"
	echo "@@G UP1"
	g_wait 120 eval '[ -z "$(g_if_with_mac 00:16:3e:e2:00:62)" ]' ||
		g_fail "the detached vif stayed in the guest"
	g_wait 120 eval '[ -n "$(g_if_with_mac 00:16:3e:e2:00:63)" ]' ||
		g_fail "the attached vif never appeared in the guest"
	ifc=$(g_if_with_mac 00:16:3e:e2:00:63)
	echo "attached vif is $ifc"
	ip addr add 10.99.0.63/24 dev "$ifc" && ip link set "$ifc" up ||
		g_fail "cannot configure $ifc"
	g_wait 30 ping -c 1 -W 2 10.99.0.1 || g_fail "no answer from dom0 over the attached vif"
	mkdir -p /www
	dd if=/dev/zero of=/www/big bs=1M count=32 2>/dev/null
	busybox httpd -p 8062 -h /www || g_fail "cannot start httpd"
	echo "@@G UP2"
}

dom0() {
	local d id img=/var/lib/e2e/neth.img tp
	e2e_std_guest neth 62 </dev/null
	d=$(e2e_domid neth)
	e2e_backend_ready "$d" vif 0
	e2e_guest_wait neth '@@G UP1' 120 ||
		fail "guest: $(grep '@@G WHY' "$(e2e_guest_log neth)" | tail -n 1)"

	e2e_xl_detach network-detach neth 0
	xenstore-exists "$(e2e_be "$d" vif 0)" && fail "vif backend directory remains"
	e2e_wait 10 test ! -e "/sys/class/net/vif$d.0" || fail "vif$d.0 remains"

	timeout 40 xl network-attach neth mac=00:16:3e:e2:00:63,bridge=xenbr0 ||
		fail "xl network-attach failed"
	id=$(xenstore-list "/local/domain/0/backend/vif/$d" | tail -n 1)
	echo "attached vif devid $id"
	e2e_backend_ready "$d" vif "$id"
	e2e_guest_done neth 120
	ping -c 2 -W 5 10.99.0.63 >/dev/null || fail "dom0 cannot ping the attached vif"

	# Destroy while dom0 pulls data from the guest.
	( while :; do busybox wget -q -O /dev/null http://10.99.0.63:8062/big; done ) &
	tp=$!
	sleep 3
	e2e_destroy neth
	kill $tp 2>/dev/null
	e2e_released "$d" "$img"
	e2e_wait 10 test ! -e "/sys/class/net/vif$d.$id" || fail "vif$d.$id remains"
	# A grant mapping or channel still held keeps it a dying domain.
	e2e_wait 10 eval "! xl list | awk 'NR > 1 { print \$2 }' | grep -qx $d" ||
		fail "domain $d is still in xl list: $(xl list | awk -v d=$d '$2 == d')"
}
