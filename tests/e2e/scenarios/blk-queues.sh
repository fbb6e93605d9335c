# blk-queues: a guest with xen_blkfront.max_queues=2 and 2 vCPUs uses 2
# queues (queue-0/ and queue-1/ in xenstore, 2 hardware queues in sysfs),
# and I/O goes through both.
E2E_MODES="xenbackd kernel"

guest() {
	local n
	g_disk xvda 30
	n=$(ls /sys/block/xvda/mq | wc -l)
	[ "$n" = 2 ] || g_fail "xvda has $n hardware queues, want 2"
	dd if=/dev/urandom of=/tmp/p bs=1M count=2 2>/dev/null
	taskset 1 dd if=/tmp/p of=/dev/xvda bs=64k oflag=direct 2>/dev/null &
	taskset 2 dd if=/dev/xvda of=/dev/null bs=64k count=32 skip=64 \
		iflag=direct 2>/dev/null || g_fail "read on the second CPU failed"
	wait || g_fail "write failed"
	dd if=/dev/xvda of=/tmp/b bs=1M count=2 iflag=direct 2>/dev/null
	cmp /tmp/p /tmp/b || g_fail "data differs"
}

dom0() {
	local img d fe
	img=$(e2e_disk bq 64)
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		GUEST_VCPUS=2 GUEST_EXTRA="xen_blkfront.max_queues=2" \
		e2e_guest_cfg bq
	e2e_create bq
	d=$(e2e_domid bq)
	e2e_guest_done bq 90
	fe=$(e2e_fe "$d" vbd 51712)
	e2e_xs_is "$fe/multi-queue-num-queues" 2 ||
		fail "frontend asked for $(xsr "$fe/multi-queue-num-queues") queues"
	xsr "$fe/queue-1/event-channel" >/dev/null ||
		fail "no queue-1/event-channel"
	e2e_ctl | grep -q . || fail "xenbackctl answers nothing"
	e2e_destroy bq
}
