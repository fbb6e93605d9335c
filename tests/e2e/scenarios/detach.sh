# detach: `xl block-detach` and `xl network-detach` on a running guest:
# each backend reaches Closed (xl returns well within libxl's 10 s, which
# it would wait out before forcing the removal), the hotplug scripts'
# remove runs (loop device released, vif gone) and the device is gone from
# the backend.

guest() { :; }

dom0() {
	local d t0 ms
	e2e_std_guest det 10 </dev/null
	d=$(e2e_domid det)
	e2e_guest_done det 60
	e2e_backend_ready "$d" vbd 51712
	e2e_backend_ready "$d" vif 0

	t0=$(e2e_ms)
	timeout 30 xl block-detach det xvda || fail "xl block-detach failed"
	ms=$(($(e2e_ms) - t0))
	echo "xl block-detach: $ms ms"
	[ $ms -lt 8000 ] || fail "block-detach took $ms ms: the backend did not reach Closed"
	xenstore-exists "$(e2e_be "$d" vbd 51712)" && fail "vbd backend directory remains"
	e2e_wait 10 eval "! losetup -a | grep -q /var/lib/e2e/det.img" ||
		fail "loop device still bound (block remove did not run)"

	t0=$(e2e_ms)
	timeout 30 xl network-detach det 0 || fail "xl network-detach failed"
	ms=$(($(e2e_ms) - t0))
	echo "xl network-detach: $ms ms"
	[ $ms -lt 8000 ] || fail "network-detach took $ms ms: the backend did not reach Closed"
	xenstore-exists "$(e2e_be "$d" vif 0)" && fail "vif backend directory remains"
	e2e_wait 10 test ! -e "/sys/class/net/vif$d.0" || fail "vif$d.0 remains"
	e2e_wait 10 eval "! e2e_backend_holds $d" ||
		fail "the backend still holds devices of domain $d"
	e2e_destroy det
}
