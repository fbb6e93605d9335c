#!/bin/sh
# sim-blk-mapbatch.sh: map mode's batches (blk/pgrant.c: a request's new
# grants mapped in one call at adjacent addresses, kept or released
# whole) on the simulated host, with guests placing their grants by hand
# (build/tests/blk/blk_map_front) and the usual blkfront: 1 MiB and random
# sizes written and read back, with and without persistent grants, both
# ABIs, indirect descriptors; grants reused in other positions, given
# twice, a bad one in the middle of a batch; the persistent-grant bound; a
# guest dying with 1 MiB requests in flight leaves nothing mapped.
# PASS:/FAIL: lines.
set -u
tmp=$(mktemp -d /tmp/xb-blk.XXXX)
H=$tmp/h
BLK_CASE="mapbatch: "
BLK_LOG_TAIL=30
. tests/blk/lib.sh
MAPF=$B/tests/blk/blk_map_front
trap blk_cleanup EXIT INT TERM

# run PROGRAM NAME DOMID ARGS...: a guest's scenario, its lines passed on
run() {
	prog=$1 n=$2 d=$3
	shift 3
	if ! timeout 120 $X run "$H" "$d" -- "$prog" "$@" -n "mapbatch: $n" \
		>"$tmp/$n.out" 2>&1; then
		cat "$tmp/$n.out"
		grep -q '^FAIL:' "$tmp/$n.out" ||
			fail "$n" "(guest exited non-zero)"
		return 1
	fi
	cat "$tmp/$n.out"
}
# held DOMID: what the daemon holds of that domain (xenbackctl resources)
held() {
	timeout 10 "$CTL" -s "$tmp/ctl.sock" resources | awk -v d="$1" '$1 == d'
}

host_start 1 2 3
BLK_DAEMON_ENV=XENBACKD_BLK_DATA=map
daemon_start "$tmp/ctl.sock" --log-level info
if daemon_started; then pass "daemon runs, grant map"
else fail "daemon runs, grant map"; exit 1; fi

SIZE_MB=32
devid=51712
# disk DOMID: a new disk of that guest, its devid in $devid
disk() {
	devid=$((devid + 16))
	truncate -s ${SIZE_MB}M "$tmp/d$devid.img"
	vbd_add "$1" $devid "$tmp/d$devid.img" w disk
}

# ---- batches, by hand: both ABIs, with and without persistent grants ----
for abi in 64 32 native; do
	for p in "" -p; do
		disk 1
		run "$MAPF" "batch-$abi${p:+-persistent}" 1 -d $devid -a $abi \
			$p -s $devid batch
		del_vbd 1 $devid
	done
done

# ---- the usual frontend: random sizes up to 1 MiB, indirect -------------
disk 2
run "$FRONT" verify-64-indirect256-persistent 2 -d $devid -a 64 -i 256 -p \
	-s 1 -S $((SIZE_MB * 2048)) verify
disk 2
run "$FRONT" verify-32-indirect256 2 -d $devid -a 32 -i 256 -s 2 verify
disk 2
run "$FRONT" verify-32-order2-q2-indirect256-persistent 2 -d $devid -a 32 \
	-o 2 -q 2 -i 256 -p -s 3 verify
# Only what the connected disks keep (persistent ones) may stay mapped:
# none of guest 1's disks is connected any more.
if [ -z "$(held 1)" ]; then pass "guest 1's disks gone: nothing of it held"
else fail "guest 1's disks gone: nothing of it held" "($(held 1))"; fi

# ---- how a request's pages lay (xenbackctl's map_* counters) --------------
# What tells on a real guest whether grants come back reversed
# (docs/perf.md), and the reversed twins (blk/pgrant.c): 64 grants S in
# order, reversed (S's twin: one iovec), in order; T and U in order;
# T's and U's last 32 reversed in one request (T's twin made, one iovec;
# U's waits: 32 iovecs, 31 pages below the one before); each half read
# back (U's twin made then). 448 segments, 40 iovecs, 256 found mapped,
# 192 mapped, 3 twins serving 160 segments, 384 pages at most.
# map_* in the order xenbackctl lists them.
ctr_line() {
	timeout 10 "$CTL" -s "$tmp/ctl.sock" list |
		awk -v d="$1" -v v="$2" '$1 == d && $3 == v' | tr ' ' '\n' |
		grep -E '^map_[a-z_]+=' | tr '\n' ' '
}
disk 1
run "$MAPF" layout 1 -d $devid -p layout
got=$(ctr_line 1 $devid)
want="map_segs=448 map_iovs=40 map_rev_segs=31 map_hits=256 \
map_misses=192 map_evictions=0 map_own=0 map_peak=384 map_twins=3 \
map_twin_segs=160 "
if [ "$got" = "$want" ]; then
	pass "layout: segments, iovecs, reversed pages and twins counted"
else
	fail "layout: segments, iovecs, reversed pages and twins counted" \
		"($got; want $want)"
fi
del_vbd 1 $devid

# The usual frontend reuses its persistent grants as Linux blkfront does
# (a completed request's grants at the head of its free list, one by one
# in segment order): 20 requests of 8 segments one at a time on one
# queue; every other one gets its grants reversed. 8 grants mapped once,
# then found: 152 hits; the first reversed request makes the batch's
# twin (16 pages then), and from then on the 10 reversed requests take
# their pages there: every request one iovec, data read back.
disk 2
run "$FRONT" reuse-persistent 2 -d $devid -p reuse
got=$(ctr_line 2 $devid)
want="map_segs=160 map_iovs=20 map_rev_segs=0 map_hits=152 map_misses=8 \
map_evictions=0 map_own=0 map_peak=16 map_twins=1 map_twin_segs=80 "
if [ "$got" = "$want" ]; then
	pass "reuse: grants come back reversed every other request, as Linux's"
else
	fail "reuse: grants come back reversed every other request, as Linux's" \
		"($got; want $want)"
fi
del_vbd 2 $devid

# ---- a guest dying with 1 MiB requests in flight --------------------------
for p in "" -p; do
	disk 3
	run "$MAPF" "vanish${p:+-persistent}" 3 -d $devid $p vanish
done
timeout 30 $X destroy "$H" 3 >/dev/null 2>&1
for d in $(seq 51712 16 $devid); do del_vbd 3 "$d"; done
i=0
while [ -n "$(held 3)" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
if [ -z "$(held 3)" ]; then
	pass "guest destroyed with 1 MiB requests in flight: nothing held"
else
	fail "guest destroyed with 1 MiB requests in flight: nothing held" \
		"($(held 3))"
fi
# A zombie would stay listed while the daemon maps its pages.
i=0
while $X list "$H" | awk '$1 == 3' | grep -q . && [ $i -lt 50 ]; do
	sleep 0.2; i=$((i + 1))
done
if $X list "$H" | awk '$1 == 3' | grep -q .; then
	fail "the destroyed guest is gone, no zombie" "($($X list "$H" | awk '$1 == 3'))"
else pass "the destroyed guest is gone, no zombie"; fi
if kill -0 "$dpid" 2>/dev/null; then pass "daemon survives"
else fail "daemon survives"; fi
daemon_stops_cleanly
exit 0
