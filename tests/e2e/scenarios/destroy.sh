# destroy: `xl destroy` of a running guest with a disk and a vif releases
# everything: backend directories, the backend's devices, every grant,
# channel and fd the daemon held of the domain (xenbackctl resources), the
# domain itself in the hypervisor (none left dying), loop device, vif.

guest() { :; }

dom0() {
	local d
	e2e_std_guest dst 20 </dev/null
	d=$(e2e_domid dst)
	e2e_guest_done dst 60
	e2e_std_ready "$d"
	e2e_destroy dst
	e2e_released "$d" /var/lib/e2e/dst.img
}
