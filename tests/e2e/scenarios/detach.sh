# detach: `xl block-detach` and `xl network-detach` on a running guest:
# each backend reaches Closed by itself within libxl's 10 s (no forced
# removal in xl's log), the hotplug scripts' remove runs (loop device
# released, vif gone) and the device is gone from the backend.

guest() { :; }

dom0() {
	local d
	e2e_std_guest det 10 </dev/null
	d=$(e2e_domid det)
	e2e_guest_done det 60
	e2e_backend_ready "$d" vbd 51712
	e2e_backend_ready "$d" vif 0

	e2e_xl_detach block-detach det xvda
	xenstore-exists "$(e2e_be "$d" vbd 51712)" && fail "vbd backend directory remains"
	e2e_wait 10 eval "! losetup -a | grep -q /var/lib/e2e/det.img" ||
		fail "loop device still bound (block remove did not run)"

	e2e_xl_detach network-detach det 0
	xenstore-exists "$(e2e_be "$d" vif 0)" && fail "vif backend directory remains"
	e2e_wait 10 test ! -e "/sys/class/net/vif$d.0" || fail "vif$d.0 remains"
	e2e_wait 10 eval "! e2e_backend_holds $d" ||
		fail "the backend still holds devices of domain $d"
	e2e_destroy det
}
