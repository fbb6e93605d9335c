# restart: xenbackd stopped (SIGTERM: exit 0) and started again while a
# guest with a disk and a vif runs: the toolstack's backend directories
# stay, and the new daemon picks both devices up again (listed, backends
# back at InitWait or further, hotplug state kept).
E2E_MODES="xenbackd"

guest() { :; }

dom0() {
	local d rc
	e2e_std_guest rst 80 </dev/null
	d=$(e2e_domid rst)
	e2e_guest_done rst 60
	e2e_backend_ready "$d" vbd 51712
	e2e_backend_ready "$d" vif 0
	e2e_stop_xenbackd
	rc=$?
	[ $rc -eq 0 ] || fail "xenbackd exited $rc on SIGTERM"
	echo "stopped: vbd state $(xsr "$(e2e_be "$d" vbd 51712)/state"), vif state $(xsr "$(e2e_be "$d" vif 0)/state")"
	xenstore-exists "$(e2e_be "$d" vbd 51712)" || fail "vbd backend directory gone with the daemon"
	xenstore-exists "$(e2e_be "$d" vif 0)" || fail "vif backend directory gone with the daemon"
	e2e_start_xenbackd || fail "xenbackd did not start again"
	e2e_wait 10 e2e_daemon_has_domain "$d" ||
		fail "the restarted daemon lists no device of domain $d"
	e2e_wait 10 eval '[ "$(e2e_ctl_devices '"$d"' | wc -l)" = 2 ]' ||
		fail "the restarted daemon does not list both devices"
	e2e_backend_ready "$d" vbd 51712
	e2e_backend_ready "$d" vif 0
	e2e_destroy rst
	e2e_released "$d" /var/lib/e2e/rst.img
}
