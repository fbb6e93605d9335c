# two-guests: two guests with a disk and a vif each run at once; each has
# its own devices; destroying one leaves the other's untouched.

guest() { :; }

dom0() {
	local a b sa sb
	e2e_std_guest twoa 40 </dev/null
	e2e_std_guest twob 41 </dev/null
	a=$(e2e_domid twoa)
	b=$(e2e_domid twob)
	e2e_guest_done twoa 60
	e2e_guest_done twob 60
	for d in "$a" "$b"; do
		e2e_backend_ready "$d" vbd 51712
		e2e_backend_ready "$d" vif 0
		e2e_backend_holds "$d" || fail "the backend holds no device of domain $d"
	done
	sb=$(xsr "$(e2e_be "$b" vbd 51712)/state")
	e2e_destroy twoa
	e2e_released "$a" /var/lib/e2e/twoa.img
	e2e_backend_ready "$b" vbd 51712
	e2e_backend_ready "$b" vif 0
	e2e_xs_is "$(e2e_be "$b" vbd 51712)/state" "$sb" ||
		fail "domain $b's disk changed state when domain $a went"
	e2e_backend_holds "$b" || fail "the backend dropped domain $b's devices"
	e2e_destroy twob
	e2e_released "$b" /var/lib/e2e/twob.img
}
