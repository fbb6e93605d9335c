# disk-lifecycle: a guest with one disk (default `block` script on a file):
# `xl create` succeeds (the backend reached InitWait within libxl's 10 s
# and the script made a loop device); the daemon lists the device;
# `xl block-detach`: the backend reaches Closed by itself (no forced
# removal), the script's remove released the loop device; `xl
# block-attach` of the same disk works again; `xl destroy` releases
# everything.

guest() { :; }

# detach_disk NAME DOMID IMAGE
detach_disk() {
	e2e_xl_detach block-detach "$1" xvda
	xenstore-exists "$(e2e_be "$2" vbd 51712)" &&
		fail "vbd backend directory remains"
	e2e_wait 10 eval "! losetup -a | grep -q '$3'" ||
		fail "loop device still bound (block remove did not run)"
	e2e_wait 10 eval "! e2e_backend_holds $2" ||
		fail "the backend still holds a device of domain $2"
}

dom0() {
	local img d
	img=$(e2e_disk dlc 64)
	e2e_guest_cfg dlc <<-EOF2
	disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]
	EOF2
	e2e_create dlc
	d=$(e2e_domid dlc)
	e2e_backend_ready "$d" vbd 51712
	e2e_wait 10 e2e_backend_holds "$d" ||
		fail "the backend does not list domain $d's disk"
	e2e_guest_done dlc 60
	detach_disk dlc "$d" "$img"

	timeout 30 xl block-attach dlc "format=raw,vdev=xvda,access=rw,target=$img" ||
		fail "xl block-attach failed"
	e2e_backend_ready "$d" vbd 51712
	e2e_wait 10 e2e_backend_holds "$d" ||
		fail "the backend does not list the re-attached disk"
	e2e_destroy dlc
	e2e_released "$d" "$img"
}
