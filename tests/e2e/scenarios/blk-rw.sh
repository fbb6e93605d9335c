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
	g_pattern /dev/xvda 0 16 direct
}

dom0() {
	local want got d dp
	e2e_std_guest blkrw 50 </dev/null
	e2e_guest_done blkrw 90
	want=$(e2e_guest_value blkrw pattern-md5)
	got=$(e2e_md5 /var/lib/e2e/blkrw.img 0 16)
	[ -n "$want" ] && [ "$want" = "$got" ] || fail "dom0 reads $got from the image, the guest wrote $want"
	[ -n "${XENBACKD_BLK_DATA:-}" ] && return 0
	d=$(e2e_domid blkrw)
	dp=$(e2e_blk_data "$d" 51712)
	echo "blkrw data path: $dp"
	case "$dp" in
	"grant-map loop"*"-over-file-on-tmpfs "*) ;;
	*) fail "data path '$dp', want grant-map (loop device over a file on tmpfs)" ;;
	esac
	# Large reads stay mapped in a PV dom0 (docs/blk.md "Large reads
	# through the pool": no huge pages, merging by machine frames).
	lr=$(e2e_ctl --json | jq -r ".[] | select(.domain == $d and
		.kind == \"vbd\" and .devid == 51712) |
		\"\\(.info[\"large-reads\"]) \\(.info[\"large-reads-why\"]) \\(.stats.copy_reads)\"")
	echo "blkrw large reads: $lr"
	case "$lr" in
	"grant-map "*" 0") ;;
	*) fail "large reads '$lr', want grant-map and 0 copy_reads in dom0" ;;
	esac
}
