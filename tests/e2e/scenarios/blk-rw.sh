# blk-rw: the guest's own xen-blkfront uses the disk: /dev/xvda appears
# with the image's size, a pattern written over 16 MiB with O_DIRECT reads
# back identical, and dom0 sees the same bytes in the image file. The
# daemon chose grant map by itself: the block script's loop device is over
# a file on dom0's tmpfs, known local (docs/blk.md, data path).

guest() {
	local sz
	g_disk xvda 30
	sz=$(cat /sys/block/xvda/size)
	[ "$sz" = 131072 ] || g_fail "xvda has $sz sectors, want 131072"
	dd if=/dev/urandom of=/tmp/pat bs=1M count=16 2>/dev/null
	dd if=/tmp/pat of=/dev/xvda bs=1M oflag=direct 2>/dev/null ||
		g_fail "write to xvda failed"
	sync
	dd if=/dev/xvda of=/tmp/back bs=1M count=16 iflag=direct 2>/dev/null ||
		g_fail "read from xvda failed"
	cmp /tmp/pat /tmp/back || g_fail "data read back differs"
	echo "pattern-md5 $(md5sum </tmp/pat | cut -d' ' -f1)"
}

dom0() {
	local want got
	e2e_std_guest blkrw 50 </dev/null
	e2e_guest_done blkrw 90
	want=$(sed -n 's/.*pattern-md5 \([0-9a-f]*\).*/\1/p' "$(e2e_guest_log blkrw)")
	got=$(dd if=/var/lib/e2e/blkrw.img bs=1M count=16 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$want" = "$got" ] || fail "dom0 reads $got from the image, the guest wrote $want"
	[ -n "${XENBACKD_BLK_DATA:-}" ] && return 0
	d=$(e2e_domid blkrw)
	dp=$(e2e_ctl --json | jq -r ".[] | select(.domain == $d and
		.kind == \"vbd\") | \"\\(.info.data) \\(.info[\"data-why\"])\"")
	echo "blkrw data path: $dp"
	case "$dp" in
	"grant-map loop"*"-over-file-on-tmpfs") ;;
	*) fail "data path '$dp', want grant-map (loop device over a file on tmpfs)" ;;
	esac
}
