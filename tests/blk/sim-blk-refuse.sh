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
#     reads and writes carry on; one log line;
#   - a file slow to punch holes (refusefs told `slowdiscard`): a guest
#     pushes 16 discards and closes at once; the backend stops taking
#     them (Closed within 5 s) and its control socket answers meanwhile;
#   - a 4 GiB file slow in proportion to the hole (refusefs told
#     `slowdiscard-per-mib 4`: 16 s for the whole disk in one call): one
#     discard of the whole disk in flight, then the guest closes; the
#     backend cuts it short between two calls (Closed within 5 s, control
#     socket answers, logged);
#   - one discard of a whole 1 GiB file on tmpfs (done in several calls)
#     reads back zeros and leaves no block allocated in the file.
# (Not a loop device with discard_max_bytes set to 0: on Linux 6.18 that
# setting outlives the loop device's detach and cannot be undone.)
# PASS:/FAIL: lines.
set -u
REFUSEFS=${B:-build}/tests/blk/refusefs
tmp=$(mktemp -d /tmp/xb-blkrf.XXXX)
shm=$(mktemp -d /dev/shm/xb-blkrf.XXXX)
H=$tmp/h
BLK_CASE="refuse: "
. tests/blk/lib.sh
trap blk_cleanup EXIT INT TERM

# add_vbd DEVID PARAMS: a disk of domain 1
add_vbd() { vbd_add 1 "$1" "$2" w disk; }
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

host_start 1
daemon_start "$tmp/ctl.sock"
daemon_started || { fail "daemon runs"; exit 1; }

# refusefs NAME [SIZE]: a refusefs over an image on tmpfs (16 MiB), on
# $tmp/NAME
refusefs() {
	truncate -s "${2:-16M}" "$shm/$1.img"
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

# ---- slow discards, then the guest closes -----------------------------
# The backend's main thread waits for a closing queue to drain: a queue
# that went on taking a ring of slow discards held it (other devices, the
# control socket and the watchdog) for all of them, and one discard of a
# whole disk done in one call held it until the call returned.

# close_in_discard NAME DEVID SCENARIO CMD: the guest runs SCENARIO (CMD
# makes the backing slow) and closes while the backend discards; the
# control socket is asked then.
close_in_discard() {
	guest "$1" "$2" -C "$4" "$3" &
	gpid=$!
	i=0
	until grep -q '^# closing' "$tmp/$1.out" 2>/dev/null ||
		[ $i -ge 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.5
	t0=$(date +%s%N)
	if timeout 4 "$CTL" -s "$tmp/ctl.sock" list >/dev/null; then
		echo "# control socket answered in $((($(date +%s%N) - t0) / 1000000)) ms"
		pass "$1: while the queue closes, the control socket answers"
	else
		fail "$1: while the queue closes, the control socket answers" "(not within 4 s)"
	fi
	wait $gpid
}

if refusefs slow; then
	add_vbd 51744 "$tmp/slow/disk.img"
	close_in_discard discard-close 51744 discard-close \
		"echo slowdiscard >$tmp/slow/ctl"
fi

if refusefs slowbig 4G; then
	add_vbd 51760 "$tmp/slowbig/disk.img"
	close_in_discard discard-whole-close 51760 discard-whole-close \
		"echo slowdiscard-per-mib 4 >$tmp/slowbig/ctl"
	if grep -q "vbd/1/51760: queue 0: discard of sectors 0+8388608 cut short at sector [0-9]* by the queue stopping: answered error" \
		"$tmp/daemon.log"; then
		pass "a discard cut short by the stop is logged"
	else
		fail "a discard cut short by the stop is logged"
	fi
fi

# ---- one discard of a whole disk, done in several calls ----------------
truncate -s 1G "$shm/big.img"
add_vbd 51776 "$shm/big.img"
guest discard-whole 51776 -C "test \$(stat -c %b $shm/big.img) -gt 0" \
	discard-whole
n=$(stat -c %b "$shm/big.img")
if [ "$n" = 0 ]; then pass "the whole 1 GiB file is a hole after the discard"
else fail "the whole 1 GiB file is a hole after the discard" "($n blocks)"; fi

daemon_stops_cleanly
exit 0
