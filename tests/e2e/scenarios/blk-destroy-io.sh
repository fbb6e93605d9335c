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

# Grant mappings and fds of the daemon.
bdi_maps() { grep -c gntdev "/proc/$(e2e_xenbackd_pid)/maps"; }
bdi_fds() { ls "/proc/$(e2e_xenbackd_pid)/fd" | wc -l; }
# The daemon's resource counters in total (xenbackctl resources), as
# "ring_pages grants channels fds".
bdi_total() {
	e2e_ctl --json resources |
		jq -r '.total | "\(.ring_pages) \(.grants) \(.channels) \(.fds)"'
}
# The daemon's CPU time in clock ticks.
bdi_cpu() { awk '{ print $14 + $15 }' "/proc/$(e2e_xenbackd_pid)/stat"; }
# Write requests the daemon served, over all its devices.
bdi_wr() {
	e2e_ctl --json | grep -o '"wr_req": *[0-9]*' |
		awk -F: '{ s += $2 } END { print s + 0 }'
}

dom0() {
	local img d fds0 maps0 wr0 wr1 c0 c1 tot0 held
	fds0=$(bdi_fds)
	maps0=$(bdi_maps)
	tot0=$(bdi_total)
	echo "daemon resources before (ring pages, grants, channels, fds): $tot0"
	e2e_disk_guest bdio 64
	img=/var/lib/e2e/bdio.img
	d=$(e2e_domid bdio)
	# I/O is flowing: the daemon's write counter moves.
	wr0=$(bdi_wr)
	e2e_wait 60 eval '[ "$(bdi_wr)" -gt "$wr0" ]' ||
		fail "no write reached the daemon"
	wr1=$(bdi_wr)
	echo "write requests seen before destroy: $wr1"
	held=$(e2e_daemon_resources "$d")
	echo "the daemon holds of domain $d: $held"
	echo "$held" | jq -e '.ring_pages > 0 and .channels > 0 and .fds > 0' \
		>/dev/null || fail "xenbackd does not count what it holds of domain $d: $held"
	e2e_destroy bdio
	e2e_released "$d" "$img"
	e2e_wait 10 eval '[ "$(bdi_maps)" -le "$maps0" ]' ||
		fail "the daemon still maps $(bdi_maps) grant pages (had $maps0)"
	e2e_wait 10 eval '[ "$(bdi_fds)" -le "$fds0" ]' ||
		fail "the daemon has $(bdi_fds) fds open (had $fds0)"
	e2e_wait 10 eval '[ "$(bdi_total)" = "$tot0" ]' ||
		fail "daemon resources after destroy: $(bdi_total), before: $tot0"
	# And it is idle again: under 0.5 s of CPU in the next 5 s.
	c0=$(bdi_cpu)
	sleep 5
	c1=$(bdi_cpu)
	echo "daemon CPU ticks in 5 s after destroy: $((c1 - c0))"
	[ $((c1 - c0)) -lt 50 ] || fail "the daemon keeps busy: $((c1 - c0)) ticks in 5 s"
}
