#!/bin/sh
# resources.sh: what the daemon holds of a domain (xenbackctl resources)
# goes back to zero when its devices go, on the simulated host with the
# real xenbackd and blkfront guests (build/tests/blk/blk_sim_front):
#   - a guest with persistent grants mapped (map mode) and I/O in flight
#     is destroyed: ring pages, data grants, channels and the backing fd
#     are all released, and the hypervisor lets the domain go (no zombie
#     left dying, which is what a grant still mapped causes);
#   - a guest that closes its device: ring and channel released while the
#     backing stays open until the toolstack removes the device.
# PASS:/FAIL: lines.
set -u
tmp=$(mktemp -d /tmp/xb-core.XXXX)
H=$tmp/h
. tests/core/lib.sh
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	timeout 30 $X stop "$H" >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS: resources: $1"; }
fail() {
	echo "FAIL: resources: $1 ${2:-}"
	tail -n 20 "$tmp/daemon.log" 2>/dev/null | sed 's/^/   | /'
}
res() { timeout 10 "$CTL" -s "$tmp/ctl.sock" --json resources; }
# res_domain D: domain D's object, or nothing
res_domain() { res | grep -o "{\"domain\": $1, [^}]*}"; }
# field D NAME: a counter of domain D (0 when the domain is not listed)
field() {
	v=$(res_domain "$1" | sed -n "s/.*\"$2\": \\(-*[0-9]*\\).*/\\1/p")
	echo "${v:-0}"
}
del_vbd() {
	as0 xenstore-rm "/local/domain/0/backend/vbd/$1/$2" 2>/dev/null
	as0 xenstore-rm "/local/domain/$1/device/vbd/$2" 2>/dev/null
}
released() { [ -z "$(res_domain "$1")" ]; }
holds_grants() { [ "$(field "$1" grants)" -gt 0 ]; }
no_zombie() { ! $X list "$H" | awk -v d="$1" '$1 == d { f = 1 } END { exit !f }'; }

if ! timeout 30 $X start "$H" >"$tmp/start.log" 2>&1; then
	fail "simulated host starts" "($(tail -n 3 "$tmp/start.log"))"
	exit 1
fi
for d in 3 4; do
	timeout 30 $X create "$H" $d --mem 64 >/dev/null 2>&1 ||
		{ fail "create domain $d"; exit 1; }
done
truncate -s 16M "$tmp/a.img" "$tmp/b.img"
(eval "$($X env "$H" 0)" && XENBACKD_BLK_DATA=map exec $B/xenbackd \
	--foreground --kinds vbd --log-target stderr --log-level debug \
	--control-socket "$tmp/ctl.sock") >"$tmp/daemon.log" 2>&1 &
dpid=$!
wait_for 5 test -S "$tmp/ctl.sock" || { fail "daemon starts"; exit 1; }

# A guest vanishes with persistent grants mapped and I/O in flight.
add_vbd 3 51712 "$tmp/a.img"
timeout 60 $X run "$H" 3 -- $FRONT -n vanish -d 51712 -p vanish \
	>"$tmp/vanish.log" 2>&1
if wait_for 5 holds_grants 3 && [ "$(field 3 fds)" = 1 ] &&
	[ "$(field 3 channels)" -ge 1 ] && [ "$(field 3 ring_pages)" -ge 1 ]
then pass "a connected guest's ring, channel, data grants and backing are counted"
else fail "a connected guest's ring, channel, data grants and backing are counted" \
	"($(res))"; fi
timeout 30 $X destroy "$H" 3 >/dev/null 2>&1
if wait_for 10 released 3; then
	pass "destroyed guest: nothing of it held (grants, channels, fds 0)"
else fail "destroyed guest: nothing of it held (grants, channels, fds 0)" \
	"($(res))"; fi
if wait_for 10 no_zombie 3; then
	pass "destroyed guest: the hypervisor let the domain go (no dying domain)"
else fail "destroyed guest: the hypervisor let the domain go (no dying domain)" \
	"($($X list "$H"))"; fi
del_vbd 3 51712

# A guest closes its device: ring and channel go, the backing stays
# open until the toolstack removes the device.
add_vbd 4 51712 "$tmp/b.img"
timeout 60 $X run "$H" 4 -- $FRONT -n verify -d 51712 -p -S 32768 verify \
	>"$tmp/verify.log" 2>&1 || fail "guest I/O" "($(tail -n 3 "$tmp/verify.log"))"
closed() {
	[ "$(field 4 ring_pages)" = 0 ] && [ "$(field 4 channels)" = 0 ] &&
		[ "$(field 4 grants)" = 0 ] && [ "$(field 4 fds)" = 1 ]
}
if wait_for 10 closed; then
	pass "closed device: ring, channel and grants released, backing open"
else fail "closed device: ring, channel and grants released, backing open" \
	"($(res))"; fi
del_vbd 4 51712
if wait_for 10 released 4; then pass "removed device: its backing closed"
else fail "removed device: its backing closed" "($(res))"; fi
if res | grep -q '"total": {"ring_pages": 0, "grants": 0, "channels": 0, "fds": 0}'
then pass "daemon-wide totals back to 0"
else fail "daemon-wide totals back to 0" "($(res))"; fi
if timeout 10 "$CTL" -s "$tmp/ctl.sock" resources | grep -q '^total '
then pass "table form has a total row"
else fail "table form has a total row"; fi
kill "$dpid"; wait "$dpid"; dpid=
