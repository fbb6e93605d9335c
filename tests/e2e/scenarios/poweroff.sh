# poweroff: a guest that powers itself off (on_poweroff=destroy) leaves
# nothing behind: xl's monitor destroys it and removes its devices; the
# daemon holds no grant, channel or fd of it and no dying domain remains.

guest() {
	echo "powering off"
	sync
	poweroff -f
}

dom0() {
	local d
	e2e_std_guest pwr 30 </dev/null
	d=$(e2e_domid pwr)
	e2e_guest_wait pwr 'powering off' 60 || fail "the guest did not boot"
	e2e_wait 30 eval "! xl domid pwr" || fail "the domain is still there 30 s after poweroff"
	e2e_released "$d" /var/lib/e2e/pwr.img
}
