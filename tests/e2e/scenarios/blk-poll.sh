# blk-poll: polling (vbd-poll-us) on real Xen, seen in the notifications
# the guest's xen-blkfront sends. xvda connects with `vbd-poll-us = 0`,
# xvdb (attached after a reload) with `vbd-poll-us = 1000`; the guest
# reads 2000 4 KiB blocks one at a time with O_DIRECT from each. dom0
# counts the notifications each disk's event channel brought to the
# daemon (its own "evtchn:xenbackd" line in dom0's /proc/interrupts)
# against the reads served (xenbackctl rd_req): without polling about
# one a request (the ring is re-armed before each sleep), with polling
# fewer (the worker finds the next request while it polls). Not in
# `make check` (two runs by hand: 1934 and 1993 notifications for 2003
# reads without polling, 585 and 280 with).
E2E_MODES="xenbackd"

guest() {
	g_disk xvda 30
	g_disk xvdb 90
	sleep 3
	dd if=/dev/xvda of=/dev/null bs=4k count=2000 iflag=direct 2>/dev/null ||
		g_fail "reading xvda failed"
	dd if=/dev/xvdb of=/dev/null bs=4k count=2000 iflag=direct 2>/dev/null ||
		g_fail "reading xvdb failed"
	echo "read both"
}

# bp_irqs: "IRQ COUNT" of every event channel the daemon bound.
bp_irqs() {
	awk '/evtchn:xenbackd/ { s = 0; for (i = 2; i <= NF; i++)
		if ($i ~ /^[0-9]+$/) s += $i; else break;
		sub(":", "", $1); print $1, s }' /proc/interrupts
}

# bp_new BEFORE AFTER: the IRQ that is in AFTER and not in BEFORE.
bp_new() {
	awk -v before="$1" 'FILENAME == before { seen[$1] = 1; next }
		!seen[$1] { print $1 }' "$1" "$2"
}

dom0() {
	local s img2 d irqa irqb ca cb ra rb
	s=$(e2e_conf_set "vbd-poll-us = 0") || fail "reload: $s"
	bp_irqs >"$E2E_DIR/bp.0"
	e2e_disk_guest bp 64
	d=$(e2e_domid bp)
	bp_irqs >"$E2E_DIR/bp.1"
	irqa=$(bp_new "$E2E_DIR/bp.0" "$E2E_DIR/bp.1")
	s=$(e2e_conf_set "vbd-poll-us = 1000") || fail "reload: $s"
	img2=$(e2e_disk bp2 64)
	timeout "$E2E_XL_TIMEOUT" xl block-attach bp \
		"format=raw,vdev=xvdb,access=rw,target=$img2" ||
		fail "xl block-attach of xvdb failed"
	e2e_wait 60 e2e_xs_is "$(e2e_be "$d" vbd 51728)/state" 4 ||
		fail "xvdb never Connected"
	bp_irqs >"$E2E_DIR/bp.2"
	irqb=$(bp_new "$E2E_DIR/bp.1" "$E2E_DIR/bp.2")
	echo "irq of xvda: $irqa, of xvdb: $irqb"
	echo "xvda: $(e2e_blk_data "$d" 51712); xvdb: $(e2e_blk_data "$d" 51728)"
	e2e_guest_done bp 120
	bp_irqs >"$E2E_DIR/bp.3"
	ca=$(awk -v i="$irqa" '$1 == i { print $2 }' "$E2E_DIR/bp.3")
	cb=$(awk -v i="$irqb" '$1 == i { print $2 }' "$E2E_DIR/bp.3")
	ra=$(e2e_blk_ctr "$d" 51712 rd_req)
	rb=$(e2e_blk_ctr "$d" 51728 rd_req)
	echo "xvda (poll 0): $ca notifications for $ra reads"
	echo "xvdb (poll 1000): $cb notifications for $rb reads"
	[ -n "$ca" ] && [ -n "$cb" ] && [ "$ra" -ge 2000 ] && [ "$rb" -ge 2000 ] ||
		fail "no count for a disk (irqs '$irqa' '$irqb', reads $ra $rb)"
	[ "$cb" -lt "$ca" ] ||
		fail "polling did not spare notifications: $cb with, $ca without"
}
