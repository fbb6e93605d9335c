#!/bin/sh
# sim-blk-nodes.sh: a frontend's bad nodes are reported by one log line
# (and the device's error node) that names the real problem:
#   event-channel = 0       the port is out of range (it is a canonical
#                           number: it must not be called malformed)
#   a ring that cannot be mapped: a one-page ring names its ref; a
#   multi-page ring, mapped as one set that fails as a whole, names every
#   ref of the set (not only the first, which may be a good one).
# The frontend is played with xenstore-write as the guest. PASS:/FAIL:.
set -u
B=${B:-build}
XSB=${XENSIM_BUILD:-$B/xensim}
X=$XSB/xensim
DAEMON=$B/xenbackd
tmp=$(mktemp -d /tmp/xb-blknd.XXXX)
H=$tmp/h
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	timeout 30 $X stop "$H" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS: nodes: $1"; }
fail() {
	echo "FAIL: nodes: $1 ${2:-}"
	echo "--- daemon log (tail)"
	tail -n 20 "$tmp/daemon.log" 2>/dev/null | sed 's/^/   | /'
}
as0() { timeout 20 $X run "$H" 0 -- "$@"; }
as1() { timeout 20 $X run "$H" 1 -- "$@"; }

# add_vbd DEVID: what libxl writes for a disk of domain 1
add_vbd() {
	be=/local/domain/0/backend/vbd/1/$1
	fe=/local/domain/1/device/vbd/$1
	truncate -s 4M "$tmp/$1.img"
	as0 xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 \
		"$fe/state" 1 "$fe/virtual-device" "$1" \
		"$fe/device-type" disk &&
	as0 xenstore-chmod -r "$fe" n1 r0 &&
	as0 xenstore-write "$be/frontend" "$fe" "$be/frontend-id" 1 \
		"$be/online" 1 "$be/params" "$tmp/$1.img" "$be/mode" w \
		"$be/device-type" disk "$be/removable" 0 "$be/state" 1 &&
	as0 xenstore-chmod -r "$be" n0 r1
}
be_node() { as0 xenstore-read "/local/domain/0/backend/vbd/1/$1/$2" 2>/dev/null; }
# wait_be DEVID NODE VALUE: up to 10 s
wait_be() {
	i=0
	while [ "$(be_node "$1" "$2")" != "$3" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}
# connect_with DEVID NODE=VALUE...: the frontend's nodes, then Initialised
connect_with() {
	v=$1
	shift
	wait_be "$v" state 2 || { fail "vbd $v reaches InitWait"; return 1; }
	for kv in "$@"; do
		as1 xenstore-write "/local/domain/1/device/vbd/$v/${kv%%=*}" \
			"${kv#*=}" || return 1
	done
	as1 xenstore-write "/local/domain/1/device/vbd/$v/state" 3
}
# expect NAME DEVID MESSAGE: the device fails (Closed) with this error,
# in its error node and in the log line naming it
expect() {
	if ! wait_be "$2" state 6; then
		fail "$1: device closed" "(state $(be_node "$2" state))"
		return
	fi
	err=$(be_node "$2" error)
	case "$err" in
	*"$3"*) pass "$1: error node says: $3" ;;
	*) fail "$1: error node says: $3" "(error: $err)" ;;
	esac
	if grep -q "vbd/1/$2: $3" "$tmp/daemon.log"; then
		pass "$1: logged with the device's name"
	else fail "$1: logged with the device's name"; fi
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

add_vbd 51712 && connect_with 51712 ring-ref=8 event-channel=0 &&
	expect "event-channel 0" 51712 "frontend node event-channel: is out of range"
if grep -q "event-channel.*canonical" "$tmp/daemon.log"; then
	fail "event-channel 0 is not called malformed"
else pass "event-channel 0 is not called malformed"; fi

# No grant of domain 1 has these references.
add_vbd 51728 && connect_with 51728 ring-ref=1000 event-channel=5 &&
	expect "unmappable one-page ring" 51728 "cannot map the ring (ref 1000)"
add_vbd 51744 && connect_with 51744 ring-page-order=2 ring-ref0=1000 \
	ring-ref1=1001 ring-ref2=1002 ring-ref3=1003 event-channel=5 &&
	expect "unmappable four-page ring" 51744 \
		"cannot map the ring's 4 pages as a set (refs 1000,1001,1002,1003)"

kill -0 "$dpid" 2>/dev/null && pass "daemon carries on" ||
	fail "daemon carries on"
kill "$dpid"
wait "$dpid"
rc=$?
dpid=
if [ $rc -eq 0 ]; then pass "daemon stops cleanly"
else fail "daemon stops cleanly" "(exit $rc)"; fi
exit 0
