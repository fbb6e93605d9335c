#!/bin/sh
# sim-blk-nodes.sh: a frontend's bad nodes are reported by one log line
# (and the device's error node) that names the real problem:
#   event-channel = 0       the port is out of range (it is a canonical
#                           number: it must not be called malformed)
#   a ring that cannot be mapped: a one-page ring names its ref; a
#   multi-page ring, mapped as one set that fails as a whole, names every
#   ref of the set (not only the first, which may be a good one).
#   protocol with a newline: quoted in the log, it starts no line of
#   its own (control characters are logged as '?').
#   physical-device not in the hotplug script's exact "%x:%x" form, or
#   0:0: named as such (the toolstack's node, checked the same way).
# The frontend is played with xenstore-write as the guest. PASS:/FAIL:.
set -u
tmp=$(mktemp -d /tmp/xb-blknd.XXXX)
H=$tmp/h
BLK_CASE="nodes: "
. tests/blk/lib.sh
trap blk_cleanup EXIT INT TERM

as1() { timeout 20 $X run "$H" 1 -- "$@"; }
# add_vbd DEVID: a 4 MiB disk of domain 1
add_vbd() {
	truncate -s 4M "$tmp/$1.img"
	vbd_add 1 "$1" "$tmp/$1.img" w disk
}
be_node() { be_read 1 "$1" "$2"; }
# connect_with DEVID NODE=VALUE...: the frontend's nodes, then Initialised
connect_with() {
	v=$1
	shift
	wait_be 1 "$v" state 2 || { fail "vbd $v reaches InitWait"; return 1; }
	for kv in "$@"; do
		as1 xenstore-write "/local/domain/1/device/vbd/$v/${kv%%=*}" \
			"${kv#*=}" || return 1
	done
	as1 xenstore-write "/local/domain/1/device/vbd/$v/state" 3
}
# expect NAME DEVID MESSAGE: the device fails (Closed) with this error,
# in its error node and in the log line naming it
expect() {
	if ! wait_be 1 "$2" state 6; then
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

host_start 1
daemon_start "$tmp/ctl.sock"
daemon_started || { fail "daemon runs"; exit 1; }

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

# A frontend value quoted in the log (an unknown protocol) cannot start a
# line of the guest's making, with the journal's priority prefix.
add_vbd 51760 && connect_with 51760 ring-ref=8 event-channel=5 \
	"protocol=x
<0>FORGED by the guest" &&
	expect "protocol with a newline" 51760 "frontend node protocol 'x"
if grep -q "^<0>FORGED" "$tmp/daemon.log"; then
	fail "a newline in a frontend value starts no log line of its own"
else pass "a newline in a frontend value starts no log line of its own"; fi

# physical-device, as the block hotplug script writes it ("%x:%x"), in
# exactly that form: a sign, "0x" or a space is refused, not read past,
# and 0:0 names no block device.
pd_case() {
	add_vbd "$1" &&
	as0 xenstore-write "/local/domain/0/backend/vbd/1/$1/physical-device" \
		"$2" && connect_with "$1" ring-ref=8 event-channel=5 &&
	expect "physical-device '$2'" "$1" \
		"backend node physical-device '$2' is not a block device's hex major:minor$3"
}
pd_case 51776 "+7:0" ""
pd_case 51792 "0:0" " (major 1-fff, minor 0-fffff)"

kill -0 "$dpid" 2>/dev/null && pass "daemon carries on" ||
	fail "daemon carries on"
daemon_stops_cleanly
exit 0
