# create-disk-vif: `xl create` of a guest with a disk (default `block`
# script on a file) and a vif (`vif-bridge` onto xenbr0) succeeds: both
# backends reached InitWait within libxl's 10 s and the hotplug scripts
# ran (a loop device for the file, the vif enslaved to the bridge).

guest() {
	echo "frontends: vbd $(g_xenbus_state vbd-51712) vif $(g_xenbus_state vif-0)"
}

dom0() {
	local img d vbd vif st
	img=$(e2e_disk cdv 64)
	e2e_guest_cfg cdv <<-EOF2
	disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]
	vif = [ 'mac=00:16:3e:e2:00:01,bridge=xenbr0' ]
	EOF2
	e2e_create cdv
	d=$(e2e_domid cdv)
	vbd=$(e2e_be "$d" vbd 51712)
	vif=$(e2e_be "$d" vif 0)
	for p in "$vbd" "$vif"; do
		st=$(xsr "$p/state")
		[ -n "$st" ] && [ "$st" -ge 2 ] && [ "$st" -le 4 ] ||
			fail "$p/state is '$st' after xl create"
	done
	# block script: a loop device on the image, its numbers in xenstore
	loop=$(xsr "$vbd/physical-device-path")
	case "$loop" in /dev/loop*) ;; *) fail "physical-device-path is '$loop'" ;; esac
	losetup "$loop" | grep -q "$img" || fail "$loop is not bound to $img"
	[ -n "$(xsr "$vbd/physical-device")" ] || fail "no physical-device"
	# vif-bridge: the vif in the bridge, hotplug-status connected
	e2e_xs_is "$vif/hotplug-status" connected ||
		fail "vif hotplug-status is '$(xsr "$vif/hotplug-status")'"
	[ -e "/sys/class/net/xenbr0/brif/vif$d.0" ] ||
		fail "vif$d.0 is not in xenbr0"
	e2e_guest_done cdv 60
	grep '^frontends:' "$(e2e_guest_log cdv)"
}
