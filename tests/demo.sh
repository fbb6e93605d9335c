#!/bin/sh
# demo.sh (`make demo`): xenbackd serving a guest on the simulated Xen host.
#
# A simulated host (real xenstored, simulated hypervisor) with one guest;
# the toolstack's part done with the real xenstore-* tools; the unchanged
# xenbackd binary as dom0; the guest's block frontend writing and reading
# back its whole disk, then a short random-read load; xenbackctl showing
# the device; the guest destroyed and everything cleaned up.
set -u
B=${B:-build}
X=$B/xensim/xensim
DAEMON=$B/xenbackd
CTL=$B/xenbackctl
BLKFRONT=$B/tests/blk/blk_sim_front
tmp=$(mktemp -d /tmp/xb-demo.XXXX)
H=$tmp/h
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	timeout 30 $X stop "$H" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; [ -f "$tmp/daemon.log" ] &&
	tail -n 20 "$tmp/daemon.log" >&2; exit 1; }
as0() { timeout 20 $X run "$H" 0 -- "$@"; }
wait_state() { # wait_state PATH STATE: up to 10 s
	i=0
	while [ "$(as0 xenstore-read "$1" 2>/dev/null)" != "$2" ]; do
		i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.1
	done
}

for f in "$X" "$DAEMON" "$CTL" "$BLKFRONT"; do
	[ -x "$f" ] || die "$f is not built (make demo builds it)"
done

say "simulated Xen host in $H: hypervisor, Debian's xenstored, dom0"
timeout 30 $X start "$H" || die "xensim start failed"
say "guest domain 1 (64 MiB), its xenstore ring introduced to xenstored"
timeout 30 $X create "$H" 1 --name demo-guest --mem 64 ||
	die "xensim create failed"
$X list "$H"

say "xenbackd as dom0 (foreground, logs in $tmp/daemon.log)"
(eval "$($X env "$H" 0)" && exec "$DAEMON" --foreground --kinds vbd \
	--log-target stderr --log-level info \
	--control-socket "$tmp/ctl.sock") >"$tmp/daemon.log" 2>&1 &
dpid=$!
sleep 0.3
kill -0 "$dpid" 2>/dev/null || die "xenbackd did not start"

say "toolstack: a 32 MiB disk for the guest, as libxl writes it"
truncate -s 32M "$tmp/disk.img"
be=/local/domain/0/backend/vbd/1/51712
fe=/local/domain/1/device/vbd/51712
as0 xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 "$fe/state" 1 \
	"$fe/virtual-device" 51712 "$fe/device-type" disk &&
	as0 xenstore-chmod -r "$fe" n1 r0 &&
	as0 xenstore-write "$be/frontend" "$fe" "$be/frontend-id" 1 \
		"$be/online" 1 "$be/params" "$tmp/disk.img" "$be/mode" w \
		"$be/device-type" disk "$be/removable" 0 "$be/state" 1 &&
	as0 xenstore-chmod -r "$be" n0 r1 || die "toolstack writes failed"
wait_state "$be/state" 2 || die "the backend did not reach InitWait"
echo "backend state: InitWait (2)"

say "guest: blkfront connects, writes the whole disk, reads it back"
timeout 120 $X run "$H" 1 -- "$BLKFRONT" -d 51712 -S 65536 -q 2 -o 1 \
	-i 32 -s 7 -n demo verify || die "the guest's disk I/O failed"

say "guest reconnects: 3 s of 4 KiB random reads, 32 in flight"
timeout 60 $X run "$H" 1 -- "$BLKFRONT" -d 51712 -q 2 -o 1 -n demo \
	-w randread -b 4096 -Q 32 -t 3 bench >"$tmp/bench.out" 2>&1 &
bpid=$!
sleep 1.5
say "xenbackctl while the guest runs"
$CTL --socket "$tmp/ctl.sock" list || true
wait $bpid || { cat "$tmp/bench.out"; die "the guest's load failed"; }
cat "$tmp/bench.out"

say "guest destroyed: xenstored releases it, xenbackd lets go of its disk"
timeout 30 $X destroy "$H" 1 || die "xensim destroy failed"
sleep 0.5
$CTL --socket "$tmp/ctl.sock" list || true

say "xenbackd stops (SIGTERM), host stopped"
kill "$dpid" && wait "$dpid"
echo "xenbackd exited $?"
dpid=
tail -n 5 "$tmp/daemon.log"
echo
echo "demo done"
