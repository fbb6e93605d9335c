#!/bin/sh
# sim-blk-refuse.sh: backings that refuse, at run time, what the backend
# offered at connect (docs/blk.md, Requests). On the simulated host, with
# the real daemon and the simulated blkfront:
#   - a file whose filesystem punched holes at the connect and refuses
#     them afterwards (tests/blk/refusefs, FUSE, told `nodiscard`): a
#     discard is answered BLKIF_RSP_EOPNOTSUPP, everything else carries on;
#   - a file whose filesystem refuses fsync (refusefs told `noflush`): a
#     flush is answered BLKIF_RSP_EOPNOTSUPP, feature-flush-cache and
#     feature-barrier go to 0 (as blkback) and stay 0 after a reconnect;
#     reads and writes carry on; one log line.
# (Not a loop device with discard_max_bytes set to 0: on Linux 6.18 that
# setting outlives the loop device's detach and cannot be undone.)
# PASS:/FAIL: lines.
set -u
B=${B:-build}
XSB=${XENSIM_BUILD:-$B/xensim}
X=$XSB/xensim
FRONT=$B/tests/blk/blk_sim_front
DAEMON=$B/xenbackd
CTL=$B/xenbackctl
REFUSEFS=$B/tests/blk/refusefs
tmp=$(mktemp -d /tmp/xb-blkrf.XXXX)
shm=$(mktemp -d /dev/shm/xb-blkrf.XXXX)
H=$tmp/h
dpid=
mounts=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	timeout 30 $X stop "$H" >/dev/null 2>&1
	for m in $mounts; do umount "$m"; done
	rm -rf "$tmp" "$shm"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS: refuse: $1"; }
fail() {
	echo "FAIL: refuse: $1 ${2:-}"
	echo "--- daemon log (tail)"
	tail -n 20 "$tmp/daemon.log" 2>/dev/null | sed 's/^/   | /'
}
as0() { timeout 20 $X run "$H" 0 -- "$@"; }

# add_vbd DEVID PARAMS: what libxl writes for a disk of domain 1
add_vbd() {
	be=/local/domain/0/backend/vbd/1/$1
	fe=/local/domain/1/device/vbd/$1
	as0 xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 \
		"$fe/state" 1 "$fe/virtual-device" "$1" \
		"$fe/device-type" disk &&
	as0 xenstore-chmod -r "$fe" n1 r0 &&
	as0 xenstore-write "$be/frontend" "$fe" "$be/frontend-id" 1 \
		"$be/online" 1 "$be/params" "$2" "$be/mode" w \
		"$be/device-type" disk "$be/removable" 0 "$be/state" 1 &&
	as0 xenstore-chmod -r "$be" n0 r1
}
# guest NAME DEVID ARGS...: the simulated blkfront; its lines passed on
guest() {
	n=$1 v=$2
	shift 2
	if ! timeout 120 $X run "$H" 1 -- "$FRONT" -d "$v" -n "refuse: $n" \
		"$@" >"$tmp/$n.out" 2>&1; then
		cat "$tmp/$n.out"
		grep -q '^FAIL:' "$tmp/$n.out" ||
			fail "$n" "(frontend exited non-zero)"
		return
	fi
	cat "$tmp/$n.out"
}
counter() {
	timeout 10 "$CTL" -s "$tmp/ctl.sock" list |
		awk -v v="$1" '$1 == 1 && $3 == v' | tr ' ' '\n' |
		sed -n "s/^$2=//p"
}

if ! timeout 30 $X start "$H" >"$tmp/start.log" 2>&1; then
	fail "simulated host starts" "($(tail -n 3 "$tmp/start.log"))"
	exit 1
fi
timeout 30 $X create "$H" 1 --mem 64 >/dev/null 2>&1 ||
	{ fail "create domain 1"; exit 1; }
(eval "$($X env "$H" 0)" && exec "$DAEMON" --foreground --kinds vbd \
	--log-target stderr --control-socket "$tmp/ctl.sock") \
	>"$tmp/daemon.log" 2>&1 &
dpid=$!
sleep 0.3
kill -0 "$dpid" 2>/dev/null || { fail "daemon runs"; exit 1; }

# refusefs NAME: a refusefs over a 16 MiB image on tmpfs, on $tmp/NAME
refusefs() {
	truncate -s 16M "$shm/$1.img"
	mkdir "$tmp/$1"
	if timeout 20 "$REFUSEFS" "$shm/$1.img" "$tmp/$1" 2>"$tmp/$1.log"; then
		mounts="$tmp/$1 $mounts"
		pass "refusefs $1 mounted"
	else
		fail "refusefs $1 mounted" "($(tail -n 2 "$tmp/$1.log"))"
		return 1
	fi
}

# ---- discard refused at run time --------------------------------------
if refusefs disc; then
	add_vbd 51712 "$tmp/disc/disk.img"
	guest nodiscard 51712 -C "echo nodiscard >$tmp/disc/ctl" nodiscard
	n=$(counter 51712 unsupported)
	if [ "$n" = 2 ]; then pass "the refused discards are counted unsupported"
	else fail "the refused discards are counted unsupported" "($n)"; fi
	n=$(counter 51712 io_errors)
	if [ "$n" = 0 ]; then pass "a refused discard is no I/O error"
	else fail "a refused discard is no I/O error" "(io_errors $n)"; fi
	if grep -q "vbd/1/51712: queue 0: discard refused by the backing: Operation not supported" \
		"$tmp/daemon.log"; then pass "a refused discard is logged"
	else fail "a refused discard is logged"; fi
fi

# ---- flush refused ---------------------------------------------------
if refusefs flush; then
	add_vbd 51728 "$tmp/flush/disk.img"
	echo noflush >"$tmp/flush/ctl"
	guest noflush 51728 noflush
	guest noflush-again 51728 noflush-again
	n=$(grep -c "vbd/1/51728: queue 0: the backing refuses flushes (Operation not supported): answered EOPNOTSUPP, flush and barrier no longer offered" \
		"$tmp/daemon.log")
	if [ "$n" = 1 ]; then pass "a refused flush is logged once"
	else fail "a refused flush is logged once" "($n times)"; fi
fi

kill "$dpid"
wait "$dpid"
rc=$?
dpid=
if [ $rc -eq 0 ]; then pass "daemon stops cleanly"
else fail "daemon stops cleanly" "(exit $rc)"; fi
exit 0
