# ctl-json: `xenbackctl --json` agrees with xenstore: for a guest with a
# disk and a vif, the daemon lists exactly the backend directories
# xenstore holds for that domain, with the same state and frontend path;
# the plain table lists them too.
E2E_MODES="xenbackd"

guest() { :; }

# The listing agrees once no state is moving (retried for 10 s).
same_devices() {
	[ "$(e2e_ctl_devices "$1")" = "$(e2e_xs_devices "$1")" ]
}

dom0() {
	local d
	e2e_std_guest ctl 70 </dev/null
	d=$(e2e_domid ctl)
	e2e_guest_done ctl 60
	[ "$(e2e_xs_devices "$d" | wc -l)" = 2 ] || fail "xenstore has not 2 devices"
	if ! e2e_wait 10 same_devices "$d"; then
		echo "xenbackctl --json:"; e2e_ctl_devices "$d"
		echo "xenstore:"; e2e_xs_devices "$d"
		fail "xenbackctl --json and xenstore disagree"
	fi
	e2e_ctl_devices "$d"
	e2e_ctl >"$E2E_DIR/ctl.table" || fail "xenbackctl failed"
	cat "$E2E_DIR/ctl.table"
	for k in "vbd *51712" "vif *0"; do
		grep -Eq "^$d +$k " "$E2E_DIR/ctl.table" ||
			fail "the table has no line for $k of domain $d"
	done
}
