#!/bin/sh
# sim-blk.sh: the block backend on the simulated Xen host, with the real
# xenbackd binary and simulated guests running tests/xensim/front's
# blkfront (build/tests/blk/blk_sim_front). PASS:/FAIL: lines.
#
# The toolstack's part (backend and frontend directories, as libxl writes
# them, without a hotplug script: params names the backing) is done here
# with the real xenstore-* tools as dom0. At the end a small guest runs
# its frontend again and again, and one that reconnects 40 times: a
# closing frontend gives its pages back.
set -u
tmp=$(mktemp -d /tmp/xb-blk.XXXX)
H=$tmp/h
# BLK_SIM_DATA=map runs everything with the daemon mapping grants.
DATA=${BLK_SIM_DATA:-copy}
P=; [ "$DATA" = copy ] || P="$DATA: "
BLK_CASE=$P
BLK_LOG_TAIL=30
. tests/blk/lib.sh
mounted=
loops=
cleanup() {
	host_stop
	[ -n "$mounted" ] && umount "$mounted"
	for l in $loops; do losetup -d "$l"; done
	if [ -n "${BLK_SIM_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT INT TERM

# guest DOMID ARGS... : run the frontend as that domain, bounded in time
guest() {
	d=$1; shift
	timeout 120 $X run "$H" "$d" -- "$FRONT" "$@"
}

# add_vbd DOMID DEVID PARAMS MODE [TYPE]: what libxl writes for a disk
add_vbd() { vbd_add "$1" "$2" "$3" "$4" "${5:-disk}"; }
be_state() { be_read "$1" "$2" state; }
wait_be_state() { wait_be "$1" "$2" state "$3"; }
# run_guest NAME DOMID ARGS...: a scenario; its lines are passed through
run_guest() {
	n=$1; shift
	t0=$(date +%s.%N)
	if ! guest "$@" -n "$P$n" >"$tmp/$n.out" 2>&1; then
		cat "$tmp/$n.out"
		grep -q '^FAIL:' "$tmp/$n.out" ||
			fail "$n" "(frontend exited non-zero)"
		return 1
	fi
	cat "$tmp/$n.out"
	[ -n "${BLK_SIM_TIMES:-}" ] && echo "time $n: $(echo "$(date +%s.%N) - $t0" | bc)"
	return 0
}
nfds() { ls /proc/"$dpid"/fd 2>/dev/null | wc -l; }

# ---- host, guests, daemon ----------------------------------------------
host_start 1 2 3

SIZE_MB=16
SECTORS=$((SIZE_MB * 2048))
for f in d1 d2 d3 d4 ro cd disc hostile rogue v1 v2; do
	truncate -s ${SIZE_MB}M "$tmp/$f.img"
done
head -c 1048576 /dev/urandom >"$tmp/seed" && dd if="$tmp/seed" \
	of="$tmp/ro.img" conv=notrunc status=none

BLK_DAEMON_ENV=XENBACKD_BLK_DATA=$DATA
daemon_start "$tmp/ctl.sock" --log-level debug
if daemon_started; then pass "daemon runs on the simulated host"
else fail "daemon runs on the simulated host"; exit 1; fi

# ---- InitWait at once, features advertised ---------------------------
add_vbd 1 51712 "$tmp/d1.img" w
if wait_be_state 1 51712 2; then pass "vbd reaches InitWait"
else fail "vbd reaches InitWait" "(state $(be_state 1 51712))"; fi
ok=1
for n in feature-max-indirect-segments max-ring-page-order \
	multi-queue-max-queues; do
	as0 xenstore-read /local/domain/0/backend/vbd/1/51712/$n \
		>/dev/null 2>&1 || ok=0
done
[ $ok = 1 ] && pass "probe advertises indirect, ring order, queues" ||
	fail "probe advertises indirect, ring order, queues"

# ---- data integrity across ABIs, rings, queues -------------------------
run_guest verify-native-q1 1 -d 51712 -S $SECTORS -i 32 -s 1 verify
# The operator's XENBACKD_BLK_DATA wins over the daemon's own choice.
line=$(timeout 10 "$CTL" -s "$tmp/ctl.sock" list | awk '$1 == 1 && $3 == 51712')
case "$line" in
*" data=grant-$DATA data-why=XENBACKD_BLK_DATA=$DATA "*)
	pass "XENBACKD_BLK_DATA=$DATA chooses grant $DATA (xenbackctl)" ;;
*) fail "XENBACKD_BLK_DATA=$DATA chooses grant $DATA (xenbackctl)" "($line)" ;;
esac
add_vbd 1 51728 "$tmp/d2.img" w
run_guest verify-x86_32-order2-q2 1 -d 51728 -a 32 -o 2 -q 2 -s 2 verify
# The same disk again with a one-page ring and one queue: nothing of the
# previous connect (ring-page-order, queue-N/) is taken for this one.
run_guest reconnect-order0-q1 1 -d 51728 -s 9 discard
add_vbd 2 51712 "$tmp/d3.img" w
run_guest verify-x86_64-order4-q4-indirect256 2 -d 51712 -a 64 -o 4 -q 4 \
	-i 256 -s 3 verify
add_vbd 2 51728 "$tmp/d4.img" w
run_guest verify-order1-q3-indirect64-persistent 2 -d 51728 -o 1 -q 3 -i 64 \
	-p -s 4 verify

# The data is really in the backing file.
if cmp -s -n 4096 "$tmp/d1.img" /dev/zero; then
	fail "data reached the backing file" "(first block still zero)"
else pass "data reached the backing file"; fi

# ---- read-only, cdrom ------------------------------------------------------
add_vbd 1 51744 "$tmp/ro.img" r
run_guest readonly 1 -d 51744 readonly
if cmp -s -n 1048576 "$tmp/ro.img" "$tmp/seed"; then
	pass "read-only backing unchanged"
else fail "read-only backing unchanged"; fi
add_vbd 1 51760 "$tmp/cd.img" r cdrom
run_guest cdrom 1 -d 51760 cdrom

# ---- online resize ------------------------------------------------------
truncate -s ${SIZE_MB}M "$tmp/rs.img"
add_vbd 1 51776 "$tmp/rs.img" w
run_guest resize 1 -d 51776 -T "$tmp/rs.img" -R $(((SIZE_MB + 8) * 1048576)) \
	-C "$CTL -s $tmp/ctl.sock resize 1 51776" resize
# Grown while no frontend is connected (the backing stays open): the next
# connect publishes the new size.
truncate -s $((SIZE_MB + 4))M "$tmp/rs.img"
run_guest resized-while-closed 1 -d 51776 -S $(((SIZE_MB + 4) * 2048)) \
	-s 10 verify
out=$(timeout 10 "$CTL" -s "$tmp/ctl.sock" resize 1 9 2>&1)
rc=$?
case "$rc $out" in
"1 error: no resizable device 1/9"*) pass "xenbackctl resize of no device: an error" ;;
*) fail "xenbackctl resize of no device: an error" "(rc $rc: $out)" ;;
esac

# ---- discard punches a hole -----------------------------------------------
add_vbd 2 51744 "$tmp/disc.img" w
run_guest discard 2 -d 51744 discard
blocks=$(stat -c %b "$tmp/disc.img")
if [ "$blocks" -lt 2048 ]; then pass "discard punched a hole in the file"
else fail "discard punched a hole in the file" "($blocks blocks left)"; fi

# ---- the backing fails ------------------------------------------------
# A 16 MiB sparse image on a full 1 MiB tmpfs: writes into its holes fail
# with ENOSPC; then the image is cut short under the daemon.
mkdir "$tmp/small"
if mount -t tmpfs -o size=1m xb-blk "$tmp/small" 2>/dev/null; then
	mounted="$tmp/small"
	truncate -s 16M "$tmp/small/eio.img"
	dd if=/dev/zero of="$tmp/small/eio.img" bs=64k count=1 conv=notrunc \
		status=none
	dd if=/dev/zero of="$tmp/small/filler" bs=64k status=none 2>/dev/null
	add_vbd 2 51776 "$tmp/small/eio.img" w
	run_guest eio 2 -d 51776 -B 8192 -T "$tmp/small/eio.img" eio
else
	echo "SKIP: eio: cannot mount a small tmpfs here"
fi

# ---- a block device as backing (a loop device) -----------------------
truncate -s ${SIZE_MB}M "$tmp/loop.img"
if loopdev=$(losetup -f --show "$tmp/loop.img" 2>/dev/null); then
	loops="$loopdev"
	add_vbd 1 51792 "$loopdev" w
	run_guest bdev-verify 1 -d 51792 -i 32 -S $SECTORS -s 7 verify
	add_vbd 1 51808 "$loopdev" w
	run_guest bdev-discard 1 -d 51808 discard
else
	echo "SKIP: bdev: cannot set up a loop device here"
fi

# ---- hostile requests answered; rogue frontend contained --------------
add_vbd 3 51712 "$tmp/hostile.img" w
run_guest hostile 3 -d 51712 -a 64 hostile
add_vbd 3 51728 "$tmp/rogue.img" w
# Another guest works through the rogue's shutdown.
run_guest verify-during-rogue 2 -d 51712 -a 64 -o 4 -q 4 -i 256 -s 5 verify &
other=$!
run_guest rogue 3 -d 51728 rogue
if as0 xenstore-read /local/domain/0/backend/vbd/3/51728/error \
	>/dev/null 2>&1; then pass "rogue device has an error node"
else fail "rogue device has an error node"; fi
wait $other
if kill -0 "$dpid" 2>/dev/null; then pass "daemon survives hostile guests"
else fail "daemon survives hostile guests"; fi

# ---- a guest dying with I/O in flight -------------------------------------
fds_before=$(nfds)
add_vbd 3 51744 "$tmp/v1.img" w
run_guest vanish 3 -d 51744 vanish
timeout 30 $X destroy "$H" 3 >/dev/null 2>&1
del_vbd 3 51744
del_vbd 3 51728
del_vbd 3 51712
sleep 1
fds_after=$(nfds)
if [ "$fds_after" -le "$fds_before" ]; then
	pass "guest destroyed with I/O in flight: no fd left open"
else
	fail "guest destroyed with I/O in flight: no fd left open" \
		"($fds_before before, $fds_after after)"
fi
if kill -0 "$dpid" 2>/dev/null; then pass "daemon survives a dying guest"
else fail "daemon survives a dying guest"; fi
add_vbd 2 51760 "$tmp/v2.img" w
run_guest verify-after-death 2 -d 51760 -s 6 verify
# Every device of guest 2 is closed: none of its grants is mapped by the
# daemon any more (only xenstored's map of its xenstore ring remains).
maps=$($X list "$H" | awk '$1 == 2 { print $5 }')
if [ "$maps" = 1 ]; then pass "no grant of a closed device stays mapped"
else fail "no grant of a closed device stays mapped" "(maps $maps)"; fi

# A closing frontend gives its pages back (pool, indirect pages, rings):
# a 12 MiB guest, room for two frontends' ~4.3 MiB at once, runs one six
# times over (bench/blk.sh runs many in one guest).
if timeout 30 $X create "$H" 4 --mem 12 >/dev/null 2>&1; then
	truncate -s 1M "$tmp/small.img"
	add_vbd 4 51712 "$tmp/small.img" w
	k=0 ok=0
	while [ $k -lt 6 ]; do
		k=$((k + 1))
		guest 4 -d 51712 -S 2048 -s $k -n "$P""small guest $k" \
			verify >"$tmp/small.out" 2>&1 && ok=$((ok + 1))
	done
	if [ $ok = 6 ]; then
		pass "a 12 MiB guest runs its frontend six times over"
	else
		fail "a 12 MiB guest runs its frontend six times over" \
			"($ok ran; the last: $(grep FAIL "$tmp/small.out" | head -n 2))"
	fi
	# Its frontend closing and connecting again 40 times in one run
	# (4 queues of 16-page rings, persistent grants): each connect's
	# rings replace the last's (a leak of 64 pages a round fills the
	# guest by round 20).
	run_guest "small guest reconnects" 4 -d 51712 -S 2048 -o 4 -q 4 -p \
		reconnects
else
	fail "create a 12 MiB guest"
fi

daemon_stops_cleanly
if grep -q 'AddressSanitizer\|runtime error' "$tmp/daemon.log"; then
	fail "no sanitizer report"
fi
exit 0
