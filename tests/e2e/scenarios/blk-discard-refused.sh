# blk-discard-refused: a backing that offers discard at connect and
# refuses it later, on real Xen. The guest's disk (xl's `block` script: a
# loop device over the image) connects with feature-discard; then dom0
# turns discard off on that loop device (its queue's discard_max_bytes
# written 0, as an operator or a device-mapper reload can). The guest
# discards 1 MiB every 0.2 s until one fails: the daemon's BLKDISCARD is
# refused (EOPNOTSUPP) and it answers BLKIF_RSP_EOPNOTSUPP (counted
# `unsupported`, not `io_errors`; one log line). The guest's xen-blkfront
# then turns discard off as it does for blkback ("discard op failed",
# discard_max_bytes 0), so its next blkdiscard fails without reaching
# the daemon. Reads and writes carry on: O_DIRECT patterns written before
# and after read back, the first still intact. After `xl destroy`
# nothing is left.
E2E_MODES="xenbackd"

guest() {
	local first n=0
	g_disk xvda 30
	[ "$(cat /sys/block/xvda/queue/discard_max_bytes)" != 0 ] ||
		g_fail "xvda offers no discard"
	g_pattern /dev/xvda 8 4 direct
	first=$G_PATTERN_MD5
	while blkdiscard -o 1048576 -l 1048576 /dev/xvda 2>/tmp/bd.err; do
		n=$((n + 1))
		[ $n -lt 300 ] || g_fail "300 blkdiscards went through"
		sleep 0.2
	done
	echo "blkdiscard refused after $n that went through: $(cat /tmp/bd.err)"
	dmesg | grep -q 'blkfront: xvda: discard op failed' ||
		g_fail "blkfront did not say the discard failed"
	[ "$(cat /sys/block/xvda/queue/discard_max_bytes)" = 0 ] ||
		g_fail "blkfront still offers discard on xvda"
	! blkdiscard -o 2097152 -l 1048576 /dev/xvda 2>/tmp/bd.err ||
		g_fail "a blkdiscard went through after the refusal"
	echo "next blkdiscard: $(cat /tmp/bd.err)"
	g_pattern /dev/xvda 16 4 direct
	[ "$(g_md5 /dev/xvda 8 4)" = "$first" ] ||
		g_fail "the first pattern differs at the end"
	echo "discard refused, then off; I/O carries on"
}

dom0() {
	local img d be loop n
	img=$(e2e_disk bdr 32)
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		e2e_guest_cfg bdr
	e2e_create bdr
	d=$(e2e_domid bdr)
	be=$(e2e_be "$d" vbd 51712)
	e2e_wait 60 e2e_xs_is "$be/feature-discard" 1 ||
		fail "feature-discard is '$(xsr "$be/feature-discard")', want 1"
	loop=$(xsr "$be/physical-device-path")
	echo 0 >"/sys/block/${loop#/dev/}/queue/discard_max_bytes" ||
		fail "cannot turn discard off on $loop"
	echo "discard turned off on $loop"
	e2e_guest_done bdr 120
	grep -a 'blkdiscard' "$(e2e_guest_log bdr)" | sed 's/^/guest: /'
	for n in "unsupported 1" "io_errors 0"; do
		# shellcheck disable=SC2086
		set -- $n
		[ "$(e2e_blk_ctr "$d" 51712 "$1")" = "$2" ] ||
			fail "xenbackctl: $1 is $(e2e_blk_ctr "$d" 51712 "$1"), want $2"
	done
	n=$(e2e_blk_ctr "$d" 51712 discard_req)
	[ "$n" -ge 1 ] && [ "$(e2e_blk_ctr "$d" 51712 err_req)" = 0 ] ||
		fail "xenbackctl: $n discards, $(e2e_blk_ctr "$d" 51712 err_req) errors"
	echo "xenbackctl: discard_req $n, unsupported 1, err_req 0, io_errors 0"
	n=$(grep -c "vbd/$d/51712: queue 0: discard refused by the backing: Operation not supported" "$E2E_DAEMON_LOG")
	[ "$n" = 1 ] || fail "$n log lines of the refused discard, want 1"
	e2e_destroy bdr
	e2e_released "$d" "$img"
}
