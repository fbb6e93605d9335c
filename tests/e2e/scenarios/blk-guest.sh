# blk-guest: one Linux guest (2 vCPUs, xen_blkfront.max_queues=2) with a
# disk served by xenbackd through the default `block` script:
#  - xvda has the image's size; blkfront reports flush, persistent grants
#    and indirect descriptors enabled (as with xen-blkback) and uses 2
#    queues;
#  - a pattern written through the page cache and fsync'd reads back
#    identical after the guest's caches are dropped, and dom0 finds it in
#    the image;
#  - blkdiscard goes through: the range reads as zeros, dom0 sees a hole;
#  - the image grows while the guest runs (`losetup -c`): xvda grows.
E2E_MODES="xenbackd kernel"

guest() {
	local line n want got i
	g_disk xvda 30
	[ "$(cat /sys/block/xvda/size)" = 131072 ] ||
		g_fail "xvda has $(cat /sys/block/xvda/size) sectors, want 131072"
	line=$(dmesg | grep "blkfront: xvda:" | tail -n 1)
	echo "$line"
	for f in "flush diskcache: enabled" "persistent grants: enabled" \
		"indirect descriptors: enabled"; do
		echo "$line" | grep -q "$f" || g_fail "blkfront: no '$f'"
	done
	n=$(ls /sys/block/xvda/mq | wc -l)
	[ "$n" = 2 ] || g_fail "xvda has $n hardware queues, want 2"

	dd if=/dev/urandom of=/tmp/pat bs=1M count=4 2>/dev/null
	want=$(md5sum </tmp/pat | cut -d' ' -f1)
	dd if=/tmp/pat of=/dev/xvda bs=1M seek=8 conv=fsync 2>/dev/null ||
		g_fail "write to xvda failed"
	rm -f /tmp/pat
	echo 3 >/proc/sys/vm/drop_caches
	got=$(dd if=/dev/xvda bs=1M skip=8 count=4 2>/dev/null | md5sum |
		cut -d' ' -f1)
	[ "$want" = "$got" ] || g_fail "read back after drop_caches: $got, wrote $want"
	echo "pattern-md5 $want"

	dd if=/dev/zero bs=1M count=4 2>/dev/null | tr '\000' x |
		dd of=/dev/xvda bs=1M seek=32 conv=fsync 2>/dev/null
	blkdiscard -o 33554432 -l 4194304 /dev/xvda || g_fail "blkdiscard failed"
	echo 3 >/proc/sys/vm/drop_caches
	got=$(dd if=/dev/xvda bs=1M skip=32 count=4 2>/dev/null | md5sum |
		cut -d' ' -f1)
	want=$(dd if=/dev/zero bs=1M count=4 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$want" = "$got" ] || g_fail "discarded range does not read as zeros"

	echo "resize-ready"
	i=0
	while [ "$(cat /sys/block/xvda/size)" != 196608 ]; do
		i=$((i + 1))
		[ $i -gt 240 ] &&
			g_fail "xvda still has $(cat /sys/block/xvda/size) sectors"
		# The backend looks at the size while it serves requests.
		dd if=/dev/xvda of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
		sleep 0.5
	done
	dd if=/dev/zero of=/dev/xvda bs=64k seek=1500 count=1 oflag=direct \
		2>/dev/null || g_fail "cannot write in the grown part"
}

dom0() {
	local img d fe want got blocks loop sampler
	img=$(e2e_disk bg 64)
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		GUEST_VCPUS=2 GUEST_EXTRA="xen_blkfront.max_queues=2" \
		e2e_guest_cfg bg
	# While the guest works: what dom0 spends its CPU on, every 10 s.
	(
		while sleep 10; do
			{ echo "-- top"; top -b -n 1 | head -n 12; } >/dev/console
		done
	) &
	sampler=$!
	e2e_create bg
	d=$(e2e_domid bg)
	e2e_wait 90 e2e_xs_is "$(e2e_be "$d" vbd 51712)/state" 4 ||
		fail "xvda never Connected"
	fe=$(e2e_fe "$d" vbd 51712)
	e2e_xs_is "$fe/multi-queue-num-queues" 2 ||
		fail "blkfront asked for $(xsr "$fe/multi-queue-num-queues") queues"
	e2e_wait 150 grep -q resize-ready "$(e2e_guest_log bg)" ||
		fail "the guest did not get to the resize step"
	truncate -s 96M "$img"
	loop=$(losetup -a | grep "$img" | cut -d: -f1)
	[ -n "$loop" ] || fail "no loop device for $img"
	losetup -c "$loop" || fail "losetup -c $loop failed"
	e2e_wait 60 e2e_xs_is "$(e2e_be "$d" vbd 51712)/sectors" 196608 ||
		fail "backend sectors: $(xsr "$(e2e_be "$d" vbd 51712)/sectors")"
	e2e_guest_done bg 120
	kill $sampler

	want=$(sed -n 's/.*pattern-md5 \([0-9a-f]*\).*/\1/p' "$(e2e_guest_log bg)")
	got=$(dd if="$img" bs=1M skip=8 count=4 2>/dev/null | md5sum | cut -d' ' -f1)
	[ -n "$want" ] && [ "$want" = "$got" ] ||
		fail "dom0 reads $got from the image, the guest wrote $want"
	blocks=$(stat -c %b "$img")
	echo "image blocks after discard: $blocks"
	[ "$blocks" -lt 12288 ] || fail "no hole punched: $blocks blocks allocated"
	e2e_destroy bg
}
