# blk-destroy-io: `xl destroy` of a guest in the middle of disk I/O
# leaves nothing behind: no backend directory, no device in xenbackd, no
# loop device, no grant still mapped by the daemon and no fd left open
# (its gntdev mappings and fds, and its own counters: `xenbackctl
# resources` of the domain, and in total back to what they were before the
# guest), the domain gone from the hypervisor.
E2E_MODES="xenbackd"

guest() {
	g_disk xvda 30
	# Requests in flight all the time, without starving the emulator.
	while :; do
		dd if=/dev/zero of=/dev/xvda bs=64k count=16 oflag=direct \
			2>/dev/null &
		dd if=/dev/xvda of=/dev/null bs=64k count=16 iflag=direct \
			2>/dev/null
		wait
		sleep 0.1
	done
}

dom0() {
	local d before wr0 held
	before=$(e2e_daemon_state)
	echo "daemon before (gntdev maps, fds; ring pages, grants, channels, fds it counts): $before"
	e2e_disk_guest bdio 64
	d=$(e2e_domid bdio)
	# I/O is flowing: the daemon's write counter moves.
	wr0=$(e2e_blk_ctr "$d" 51712 wr_req)
	e2e_wait 60 eval '[ "$(e2e_blk_ctr "$d" 51712 wr_req)" -gt "$wr0" ]' ||
		fail "no write reached the daemon"
	echo "write requests seen before destroy: $(e2e_blk_ctr "$d" 51712 wr_req)"
	held=$(e2e_daemon_resources "$d")
	echo "the daemon holds of domain $d: $held"
	echo "$held" | jq -e '.ring_pages > 0 and .channels > 0 and .fds > 0' \
		>/dev/null || fail "xenbackd does not count what it holds of domain $d: $held"
	e2e_destroy bdio
	e2e_released "$d" /var/lib/e2e/bdio.img
	e2e_daemon_as_before "$before"
	e2e_daemon_idle
}
