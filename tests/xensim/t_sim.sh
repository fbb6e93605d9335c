#!/bin/sh
# t_sim.sh: the simulated Xen host's own tests (suite, PASS:/FAIL: lines).
# The real xenstore-* tools as dom0 and as a guest through its bridge,
# @introduceDomain/@releaseDomain, grants, event channels, destruction
# releasing everything, two hosts side by side.
set -u
B=${B:-build}
X=$B/xensim/xensim
T=$B/xensim/tests
tmp=$(mktemp -d /tmp/xb-xensim.XXXX)
H1=$tmp/h1
H2=$tmp/h2
cleanup() {
	$X stop "$H1" 2>/dev/null
	$X stop "$H2" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1 ${2:-}"; }
check() { # check NAME CMD... : PASS if CMD succeeds
	name=$1; shift
	if "$@" >"$tmp/out" 2>&1; then pass "$name"; else
		fail "$name" "($(tr '\n' ' ' <"$tmp/out" | cut -c1-200))"; fi
}
expect() { # expect NAME WANT CMD... : PASS if CMD prints exactly WANT
	name=$1 want=$2; shift 2
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then pass "$name"; else
		fail "$name" "(want '$want', got '$got')"; fi
}
# none_alive PID...: none of them runs (a zombie has ended).
none_alive() {
	for p in "$@"; do
		s=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)
		[ -n "$s" ] && [ "$s" != Z ] && return 1
	done
	return 0
}
as0() { timeout 10 $X run "$H1" 0 -- "$@"; }
as5() { timeout 10 $X run "$H1" 5 -- "$@"; }

check "xensim start" timeout 20 $X start "$H1"
expect "dom0 domid node" "0" as0 xenstore-read /local/domain/0/domid
expect "dom0 name node" "Domain-0" as0 xenstore-read /local/domain/0/name

# @introduceDomain: watch, then create (the first event is the firing on
# registration, the second the introduction).
as0 xenstore-watch -n 2 @introduceDomain >"$tmp/intro" 2>&1 &
wpid=$!
sleep 0.3
check "xensim create 5" timeout 20 $X create "$H1" 5 --name vm5 --mem 32
wait $wpid
expect "@introduceDomain fires on create" "@introduceDomain
@introduceDomain" cat "$tmp/intro"

# dom0 with the tools over xenstored's socket.
check "dom0 xenstore-write" as0 xenstore-write /test/a 1 /test/b 2
expect "dom0 xenstore-read" "1" as0 xenstore-read /test/a
expect "dom0 xenstore-ls" "a = \"1\"
b = \"2\"" as0 xenstore-ls /test
check "dom0 xenstore-chmod" as0 xenstore-chmod /test/a n0 r5
expect "dom0 sees the permissions" "/test/a = \"1\"   (n0,r5)" \
	sh -c "$X run $H1 0 -- xenstore-ls -fp /test | grep /test/a"
check "dom0 xenstore-rm" as0 xenstore-rm /test/b
check "removed node is gone" sh -c "! $X run $H1 0 -- xenstore-read /test/b"

# The guest with the same tools through its bridge and ring.
expect "guest reads its domid (relative path)" "5" as5 xenstore-read domid
expect "guest reads its name" "vm5" as5 xenstore-read name
expect "guest reads a node dom0 let it read" "1" as5 xenstore-read /test/a
check "guest cannot read dom0's nodes" sh -c \
	"! $X run $H1 5 -- xenstore-read /local/domain/0/name"
check "guest cannot write outside its nodes" sh -c \
	"! $X run $H1 5 -- xenstore-write /test/c 1"
check "guest xenstore-write" as5 xenstore-write data/k v data/l w
expect "guest xenstore-ls" "k = \"v\"
l = \"w\"" as5 xenstore-ls data
check "guest xenstore-chmod" as5 xenstore-chmod data/k n5 r0
check "guest xenstore-rm" as5 xenstore-rm data/l
expect "dom0 sees the guest's nodes" "/local/domain/5/data/k = \"v\"   (n5,r0)" \
	as0 xenstore-ls -fp /local/domain/5/data
as5 xenstore-watch -n 2 data/k >"$tmp/gw" 2>&1 &
wpid=$!
sleep 0.3
as0 xenstore-write /local/domain/5/data/k changed
wait $wpid
expect "guest xenstore-watch sees dom0's write" "data/k
data/k" cat "$tmp/gw"

# libxenstore API details, grants and event channels (C programs).
XENSIM_HOST=$H1 XENSIM_DOMID=0 LD_LIBRARY_PATH=$B/xensim/lib $T/t_xs 5
XENSIM_HOST=$H1 XENSIM_DOMID=0 LD_LIBRARY_PATH=$B/xensim/lib $T/t_grant 5
XENSIM_HOST=$H1 XENSIM_DOMID=0 LD_LIBRARY_PATH=$B/xensim/lib $T/t_evtchn 5

# libxenctrl's view, a guest that shuts down, a zombie.
ctrl() { XENSIM_HOST=$H1 LD_LIBRARY_PATH=$B/xensim/lib $T/t_ctrl "$@"; }
expect "xc_domain_getinfo lists dom0 and the guest" "0 0 0
5 0 0" ctrl list
as0 xenstore-watch -n 2 @releaseDomain >"$tmp/sd" 2>&1 &
wpid=$!
sleep 0.3
check "xensim shutdown 6" sh -c "$X create $H1 6 && $X shutdown $H1 6"
wait $wpid
expect "@releaseDomain fires on shutdown" "@releaseDomain
@releaseDomain" cat "$tmp/sd"
ctrl list >"$tmp/list"
expect "getinfo shows the shutdown" "6 0 1" grep '^6 ' "$tmp/list"
ctrl zombie "$X" "$H1" 6

# Two hosts side by side: separate xenstores, same domain ids.
check "second host starts" timeout 20 $X start "$H2"
check "second host creates its own domain 5" timeout 20 $X create "$H2" 5
timeout 10 $X run "$H2" 5 -- xenstore-write data/k other
expect "hosts do not share xenstore" "changed" as5 xenstore-read data/k
expect "nor domains" "other" timeout 10 $X run "$H2" 5 -- xenstore-read data/k
check "second host stops" timeout 20 $X stop "$H2"
check "second host's folder is gone" test ! -e "$H2"

# A test that crashed: everything killed, nothing cleaned; stop copes.
H3=$tmp/h3
$X start "$H3" && $X create "$H3" 5 && \
	{ timeout 10 $X run "$H3" 5 -- sleep 30 & sleep 0.3; }
shm3=$(readlink "$H3/shm")
kill -9 $(ls "$H3"/pids/*/ | grep -E '^[0-9]+$') 2>/dev/null
check "start refuses a crashed host's folder" sh -c "! $X start $H3 2>/dev/null"
check "stop cleans up after a crash" sh -c \
	"$X stop $H3 && test ! -e $H3 && test ! -e $shm3"

# Destruction: the guest's processes end, xenstored releases it,
# @releaseDomain fires, nothing of it is left.
as5 sleep 60 &
sleep 0.3
gpids=$(ls "$H1/pids/5/" | tr '\n' ' ') # the bridge and sleep
as0 xenstore-watch -n 2 @releaseDomain >"$tmp/rel" 2>&1 &
wpid=$!
sleep 0.3
check "xensim destroy 5" timeout 20 $X destroy "$H1" 5
wait $wpid
expect "@releaseDomain fires on destroy" "@releaseDomain
@releaseDomain" cat "$tmp/rel"
check "the guest's processes were ended" none_alive $gpids
check "xenstored forgot the domain" sh -c \
	"! $X run $H1 0 -- xenstore-read /local/domain/5/domid"
expect "no domain, grant or channel of it left" "0 Domain-0 running 3 0" \
	sh -c "$X list $H1 | awk 'NR > 1 { print \$1, \$2, \$3, \$6, \$7 }'"
check "a new domain 5 can be created" timeout 20 $X create "$H1" 5
expect "and it is a fresh one" "" sh -c \
	"$X run $H1 5 -- xenstore-ls data 2>&1"

shm=$(readlink "$H1/shm")
pids=$(ls "$H1"/pids/*/ | grep -E '^[0-9]+$' | tr '\n' ' ')
check "xensim stop" timeout 20 $X stop "$H1"
check "no process of the host is left" none_alive $pids
check "nothing of the host is left" sh -c "test ! -e $H1 && test ! -e $shm"
