# sweep-dead-domain: a vif's persistent TAP whose domain died while no
# daemon ran is removed when the next daemon starts, even though xenstore
# still has the domain's directories: the start-up sweep asks the
# hypervisor (libxenctrl's domain list, real Xen here) as device discovery
# does, and the new daemon ignores the dead domain's backend directory.
# xl cleans xenstore up after `xl destroy`, so the scenario puts back what
# a toolstack that died with its domain would have left behind: the
# domain's directory and the vif's backend directory, state Connected.
E2E_MODES="xenbackd"

guest() {
	g_net eth0 10.99.0.85 30
	ping -c 1 -W 5 10.99.0.1 >/dev/null || g_fail "no answer from dom0"
}

dom0() {
	local d be rec
	echo "vif = [ 'mac=00:16:3e:e2:00:85,bridge=xenbr0' ]" |
		e2e_guest_cfg swd
	e2e_create swd
	d=$(e2e_domid swd)
	be=$(e2e_be "$d" vif 0)
	rec=/run/xenbackd/vif/vif$d.0
	e2e_guest_done swd 90
	[ -e "$rec" ] || fail "no record $rec of the TAP vif$d.0"

	kill -KILL "$(e2e_xenbackd_pid)"
	e2e_xenbackd_exited 20
	timeout "$E2E_XL_TIMEOUT" xl destroy swd || fail "xl destroy failed"
	e2e_wait 10 eval "! e2e_domain_listed $d" ||
		fail "domain $d still listed by the hypervisor"
	[ -e "/sys/class/net/vif$d.0" ] ||
		fail "vif$d.0 went with the daemon: not persistent"
	echo "vif$d.0 left behind, persistent, domain $d gone"
	# What a toolstack that died with the domain leaves in xenstore.
	xenstore-write "/local/domain/$d/name" swd "$be/state" 4 \
		"$be/frontend" "/local/domain/$d/device/vif/0" \
		"$be/frontend-id" "$d" "$be/online" 1 ||
		fail "cannot write the leftovers"

	e2e_start_xenbackd || fail "xenbackd did not start"
	e2e_wait 10 test ! -e "/sys/class/net/vif$d.0" ||
		fail "vif$d.0 still exists after the start-up sweep"
	[ ! -e "$rec" ] || fail "the record $rec is still there"
	grep "TAP vif$d.0 removed" "$E2E_DAEMON_LOG" ||
		fail "no log line of vif$d.0's removal"
	grep "domain $d is not running: ignored" "$E2E_DAEMON_LOG" ||
		fail "the daemon did not ignore the dead domain's directory"
	! e2e_daemon_has_domain "$d" ||
		fail "the daemon lists a device of the dead domain $d"
	xenstore-rm "/local/domain/$d"
	xenstore-rm "/local/domain/0/backend/vif/$d"
}
