#!/bin/bash
# demo.sh (`make demo`): xenbackd serving a guest on the simulated Xen host.
#
# A simulated host (real xenstored, simulated hypervisor) with one guest;
# the toolstack's part done with the real xenstore-* tools; the unchanged
# xenbackd binary as dom0 serving a disk and a network interface; the
# guest's block frontend writing and reading back its whole disk, then a
# short random-read load; the guest's network frontend pinging dom0 and
# sending it a verified TCP stream; xenbackctl showing the devices; the
# guest destroyed and everything cleaned up. Needs root (network
# namespaces, TAP devices), as `make check` does.
set -u
B=${B:-build}
X=$B/xensim/xensim
DAEMON=$B/xenbackd
CTL=$B/xenbackctl
BLKFRONT=$B/tests/blk/blk_sim_front
# The network tests' helpers: toolstack and hotplug steps for a vif, the
# guest's netfront in a namespace of its own (H, TMP, HNS set below).
. tests/net/lib.sh
tmp=$(mktemp -d /tmp/xb-demo.XXXX)
TMP=$tmp
H=$tmp/h
HNS=xbd-h${tmp##*.}  # dom0's network: xenbackd and its vif TAPs
GNS=xbd-g${tmp##*.}  # the guest's network: netfront's eth0
dpid=
cleanup() {
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	timeout 30 $X stop "$H" >/dev/null 2>&1
	ip netns del "$GNS" 2>/dev/null
	ip netns del "$HNS" 2>/dev/null
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

for f in "$X" "$DAEMON" "$CTL" "$BLKFRONT" "$NF" "$NT"; do
	[ -x "$f" ] || die "$f is not built (make demo builds it)"
done

say "simulated Xen host in $H: hypervisor, Debian's xenstored, dom0"
timeout 30 $X start "$H" || die "xensim start failed"
say "guest domain 1 (64 MiB), its xenstore ring introduced to xenstored"
timeout 30 $X create "$H" 1 --name demo-guest --mem 64 ||
	die "xensim create failed"
$X list "$H"

say "xenbackd as dom0, serving vbd and vif (logs in $tmp/daemon.log)"
ip netns add "$HNS" && ip -n "$HNS" link set lo up ||
	die "cannot make a network namespace (run as root)"
eval "$($X env "$H" 0)"
ip netns exec "$HNS" $X run "$H" 0 -- "$DAEMON" --foreground \
	--kinds vbd,vif --log-target stderr --log-level info \
	--control-socket "$tmp/ctl.sock" >"$tmp/daemon.log" 2>&1 &
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

say "toolstack: a network interface for the guest; hotplug gives vif1.0 an address"
net_add_vif 1 0 || die "toolstack writes for the vif failed"
net_hotplug 1 0 || die "vif1.0 did not appear in InitWait"
ip -n "$HNS" addr show vif1.0 | sed -n 's/^ *inet \([^ ]*\).*/vif1.0 (dom0): \1/p'

say "guest: netfront connects, its eth0 gets $(net_guest_ip 1 0)/24"
net_start_front 1 0 "$GNS"
net_wait_front 1 0 "$GNS" || { net_front_log 1 0; die "netfront did not connect"; }
net_wait 100 net_state_is 1 0 4 || die "the vif did not connect"
echo "backend state: Connected (4)"

say "guest pings dom0"
ip netns exec "$GNS" ping -c 3 -i 0.2 -W 2 "$(net_host_ip 1 0)" ||
	die "ping failed"

say "guest sends dom0 256 MiB over TCP, every byte checked"
ip netns exec "$HNS" $NT tcp-recv 5001 60 >"$tmp/recv.out" 2>&1 &
rpid=$!
sleep 0.3
ip netns exec "$GNS" $NT tcp-send "$(net_host_ip 1 0)" 5001 268435456 ||
	die "TCP send failed"
wait $rpid; cat "$tmp/recv.out"
grep -q ' ok ' "$tmp/recv.out" || die "the stream arrived corrupted"

say "xenbackctl"
$CTL --socket "$tmp/ctl.sock" list || true

say "guest destroyed: xenstored releases it, xenbackd lets go of its devices"
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
