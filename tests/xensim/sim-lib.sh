# tests/xensim/sim-lib.sh - a simulated host whose dom0 runs xenbackd
# serving vbd and vif, for the suites that play hostile guests against it
# (sourced by t_xsa.sh and t_memcheck.sh; bash, from the repository root).
# Builds on tests/net/lib.sh (vifs, netfront, namespaces).
#
#   sim_setup SECONDS           host, host namespace, domains "$@" after it;
#                               the whole run bounded; cleanup at exit
#   start_daemon DATA [WRAP..]  xenbackd as dom0 (XENBACKD_BLK_DATA=DATA),
#                               run under WRAP (e.g. valgrind) if given
#   stop_daemon                 SIGTERM; its exit status
#   add_vbd D N FILE            the toolstack's part of a 16 MiB disk
#   unplug_vbd D N              toolstack detach (online=0, Closing, Closed)
#   unplug_vbd_forced D N       toolstack detach by force (online=0,
#                               Closing, directories removed)
#   check NAME CMD..., pass, fail, guest_lines NAME FILE
#
# XSA_DAEMON overrides the daemon binary (an instrumented build) and
# SIM_PREFIX is put before every case name (so two runs differ).
. tests/net/lib.sh

SIM_DAEMON=${XSA_DAEMON:-build/xenbackd}
DPID=

sim_cleanup() {
	local p
	net_watchdog_stop
	for p in $(jobs -p); do
		pkill -P "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	timeout 30 $X stop "$H" >/dev/null 2>&1
	for p in $(ip netns list | awk '{print $1}' |
		grep -E "^xbx-[a-z0-9]+$TAG\$"); do
		ip netns del "$p"
	done
	if [ -n "${XSA_KEEP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}

# sim_setup SECONDS DOMID...
sim_setup() {
	local limit=$1 d
	shift
	TMP=$(mktemp -d /tmp/xb-xsim.XXXX)
	H=$TMP/h
	TAG=${TMP##*.}
	HNS=xbx-h$TAG
	net_watchdog "$0" "$limit"
	trap sim_cleanup EXIT INT TERM
	ip netns add "$HNS" && ip -n "$HNS" link set lo up || return 1
	$X start "$H" >"$TMP/xensim.log" 2>&1 || return 1
	eval "$($X env "$H" 0)"
	for d in "$@"; do
		$X create "$H" "$d" --mem 64 >>"$TMP/xensim.log" 2>&1 || return 1
	done
}

FAILED=
SIM_PREFIX=${SIM_PREFIX:-}
pass() { echo "PASS: $SIM_PREFIX$1"; }
fail() {
	echo "FAIL: $SIM_PREFIX$1 ${2:-}"
	[ -n "$FAILED" ] && return
	FAILED=1
	echo "--- daemon log (tail)"
	tail -n 30 "$TMP/daemon.log" | sed 's/^/   | /'
}
# check NAME CMD...: PASS if CMD succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$TMP/last.out" 2>&1; then pass "$name"; else
		fail "$name" "($(tail -n 4 "$TMP/last.out" | tr '\n' ' '))"
	fi
}
# guest_lines NAME OUT: a guest program's PASS/FAIL lines, renamed.
guest_lines() {
	grep -E '^(PASS|FAIL):' "$2" |
		sed "s/^\(PASS\|FAIL\): [^:]*: /\1: $SIM_PREFIX$1: /"
	grep -q '^FAIL:' "$2" && FAILED=1
	grep -q '^PASS:' "$2" || fail "$1" "(no result: $(tail -n 2 "$2" | tr '\n' ' '))"
}

daemon_pid() { pgrep -P "$DPID" | head -n 1; }
daemon_alive() { kill -0 "$(daemon_pid)" 2>/dev/null && net_ctl >/dev/null; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$(daemon_pid)/status" 2>/dev/null || echo 0; }

# start_daemon DATA [WRAPPER...]: in the host namespace, vbd and vif.
start_daemon() {
	local data=$1
	shift
	rm -f "$TMP/ctl.sock"
	ip netns exec "$HNS" env XENBACKD_BLK_DATA="$data" \
		$X run "$H" 0 -- "$@" $SIM_DAEMON -f -k vbd,vif -l debug \
		--log-target stderr -s "$TMP/ctl.sock" >>"$TMP/daemon.log" 2>&1 &
	DPID=$!
	net_wait "${SIM_START_TENTHS:-150}" test -S "$TMP/ctl.sock"
}
stop_daemon() {
	kill "$DPID" && wait "$DPID"
	local rc=$?
	DPID=
	return $rc
}

vbd_be() { echo "/local/domain/0/backend/vbd/$1/$2"; }
# add_vbd D N FILE: a 16 MiB disk as libxl writes it, without a hotplug
# script (params names the backing).
add_vbd() {
	local be fe=/local/domain/$1/device/vbd/$2
	be=$(vbd_be "$1" "$2")
	truncate -s 16M "$3" &&
	xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 "$fe/state" 1 \
		"$fe/virtual-device" "$2" "$fe/device-type" disk &&
	xenstore-chmod -r "$fe" "n$1" r0 &&
	xenstore-write "$be/params" "$3" "$be/mode" w "$be/device-type" disk \
		"$be/online" 1 "$be/removable" 0 &&
	xenstore-chmod -r "$be" n0 "r$1" &&
	xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$1" "$be/state" 1
}
vbd_listed() { net_ctl | grep -qE "^$1 +vbd +$2 ${3:-}"; }
# unplug_vbd D N: as libxl detaches: online=0, Closing, Closed within
# libxl's 10 s, then both directories removed.
unplug_vbd() {
	local be
	be=$(vbd_be "$1" "$2")
	xenstore-write "$be/online" 0 "$be/state" 5 &&
		net_wait 100 net_state_is_path "$be" 6 &&
		xenstore-rm "$be" && xenstore-rm "/local/domain/$1/device/vbd/$2"
}
net_state_is_path() { test "$(net_xs "$1/state")" = "$2"; }
# unplug_vbd_forced D N: as libxl detaches by force: online=0 and Closing
# (the backend waits in Closing for a connected frontend), then both
# directories removed at once; the daemon lets the device go.
unplug_vbd_forced() {
	local be
	be=$(vbd_be "$1" "$2")
	xenstore-write "$be/online" 0 "$be/state" 5 &&
		net_wait 150 vbd_listed "$1" "$2" "+Closing" &&
		xenstore-rm "$be" && xenstore-rm "/local/domain/$1/device/vbd/$2" &&
		net_wait 150 eval "! vbd_listed $1 $2"
}
