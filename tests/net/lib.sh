# tests/net/lib.sh - a simulated Xen host whose dom0 runs xenbackd serving
# vifs, with guests played by netfront (sourced by the network tests and
# the network benchmark; bash).
#
# Networks live in namespaces of ours only: the daemon, and so every vif
# TAP it creates, runs in the "host" namespace $HNS; each guest's netfront
# and its eth<devid> TAP run in a guest namespace. Addresses: vif<D>.<N>
# is 10.<D+60>.<N>.1/24 in $HNS, the guest's eth<N> is 10.<D+60>.<N>.2/24.
#
#   net_setup                  host, daemon (call net_cleanup at exit;
#                              NET_DAEMON overrides build/xenbackd)
#   net_create_dom D           a guest domain
#   net_add_vif D N [k=v..]    toolstack: backend/frontend nodes of vif D/N
#   net_hotplug D N            the hotplug script's part: address, up,
#                              hotplug-status=connected
#   net_start_front D N NS [netfront options]   guest D's netfront
#   net_wait_front D N         wait for its "connected"
#   net_unplug D N             toolstack detach (online=0, Closing, wait
#                              for Closed, remove the directories)
#
# A suite's frame (t_net_*.sh):
#   net_watchdog NAME SECONDS, net_watchdog_stop
#                              a FAIL line and SIGTERM after SECONDS
#   net_suite NAME SECONDS     the whole run bounded (a FAIL line and
#                              SIGTERM after SECONDS); at exit, the daemon
#                              log's last lines if a case failed, then
#                              net_cleanup
#   pass NAME, fail NAME [WHY], check NAME CMD...   result lines

X=build/xensim/xensim
NF=build/tests/net/netfront
NT=build/tests/net/nettool
CTL=build/xenbackctl

net_log() { echo "# $*"; }

# net_watchdog NAME SECONDS: after SECONDS, "FAIL: NAME timed out" and
# SIGTERM to this shell; net_watchdog_stop ends it, its sleep too (not left
# holding our stdout, nor going on to the FAIL line).
net_watchdog() {
	( sleep "$2" && echo "FAIL: $1 timed out" && kill -TERM $$ ) \
		2>/dev/null &
	NET_WATCHDOG=$!
}
net_watchdog_stop() {
	pkill -P "$NET_WATCHDOG" sleep 2>/dev/null
	kill "$NET_WATCHDOG" 2>/dev/null
}

net_suite() {
	net_watchdog "$1" "$2"
	trap net_finish EXIT
}

net_finish() {
	net_watchdog_stop
	if [ -n "${FAILED:-}" ] && [ -n "${TMP:-}" ]; then
		echo "-- daemon log (last 60 lines):"
		tail -n 60 "$TMP/daemon.log" | sed 's/^/   | /'
	fi
	net_cleanup
}

pass() {
	echo "PASS: $1"
	[ -z "${NET_TIMING:-}" ] || date +%T >&2
}
fail() { echo "FAIL: $1 ${2:-}"; FAILED=1; }
# check NAME CMD...: PASS if CMD succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$TMP/last.out" 2>&1; then pass "$name"; else
		fail "$name" "($(tail -n 3 "$TMP/last.out" | tr '\n' ' '))"
	fi
}

# Wait up to $1 tenths of a second for the command in "$@" to succeed.
net_wait() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

net_xs() { xenstore-read "$1" 2>/dev/null; }

net_setup() {
	TMP=$(mktemp -d /tmp/xb-net.XXXX)
	H=$TMP/h
	local tag=${TMP##*.}
	HNS=xbn-h$tag
	ip netns add "$HNS" || return 1
	ip -n "$HNS" link set lo up
	$X start "$H" >"$TMP/xensim.log" 2>&1 || return 1
	eval "$($X env "$H" 0)"
	net_daemon_start
}

# The daemon in $HNS (its runtime directory, and so its TAP records, is
# $TMP: the folder of its control socket). DAEMON is `xensim run`'s pid.
net_daemon_start() {
	rm -f "$TMP/ctl.sock"
	ip netns exec "$HNS" $X run "$H" 0 -- "${NET_DAEMON:-build/xenbackd}" -f -k vif \
		-l debug --log-target stderr -s "$TMP/ctl.sock" \
		>>"$TMP/daemon.log" 2>&1 &
	DAEMON=$!
	net_wait 100 test -S "$TMP/ctl.sock"
}

# The xenbackd process itself (xensim run's child).
net_daemon_pid() { pgrep -P "$DAEMON" xenbackd; }

# net_daemon_kill SIGNAL: signal the daemon and wait for it to end (not
# in a subshell: it waits for a job); its exit status in DAEMON_RC.
net_daemon_kill() {
	local pid
	DAEMON_RC=
	pid=$(net_daemon_pid) || return 1
	kill "-$1" "$pid" || return 1
	wait "$DAEMON"
	DAEMON_RC=$?
	DAEMON=
}

net_ctl() { $CTL -s "$TMP/ctl.sock" "$@"; }

net_cleanup() {
	local p
	# A job is often a subshell running `ip netns exec`: end its
	# children too, or they outlive the run in a namespace of ours.
	for p in $(jobs -p); do
		pkill -P "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	[ -n "${DAEMON:-}" ] && kill "$DAEMON" 2>/dev/null
	sleep 0.3
	[ -n "${H:-}" ] && $X stop "$H" >/dev/null 2>&1
	for p in $(ip netns list | awk '{print $1}' |
		grep -E "^xbn-[a-z]+[0-9]*${TMP##*.}\$"); do
		ip netns del "$p"
	done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}

# net_create_dom D: a guest domain on the host.
net_create_dom() { $X create "$H" "$1" >>"$TMP/xensim.log" 2>&1; }

be_path() { echo "/local/domain/0/backend/vif/$1/$2"; }
fe_path() { echo "/local/domain/$1/device/vif/$2"; }
net_host_ip() { echo "10.$(($1 + 60)).$2.1"; }
net_guest_ip() { echo "10.$(($1 + 60)).$2.2"; }

# net_add_vif D N [node=value ...]: as libxl writes a vif (frontend first,
# then the backend, each owned by its side and readable by the other).
net_add_vif() {
	local d=$1 n=$2 be fe mac kv
	shift 2
	be=$(be_path "$d" "$n")
	fe=$(fe_path "$d" "$n")
	mac=$(printf '00:16:3e:%02x:%02x:%02x' "$d" "$n" 1)
	xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 "$fe/state" 1 \
		"$fe/handle" "$n" "$fe/mac" "$mac" || return 1
	xenstore-chmod -r "$fe" "n$d" r0 || return 1
	# The daemon takes the device once state/frontend/frontend-id exist:
	# everything else first (libxl writes it all in one transaction).
	for kv in "$@"; do
		xenstore-write "$be/${kv%%=*}" "${kv#*=}" || return 1
	done
	xenstore-write "$be/online" 1 "$be/handle" "$n" "$be/mac" "$mac" \
		"$be/type" vif "$be/hotplug-status" "" \
		"$be/script" /etc/xen/scripts/vif-bridge || return 1
	xenstore-chmod -r "$be" n0 "r$d" || return 1
	xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$d" \
		"$be/state" 1
}

net_be_state() { net_xs "$(be_path "$1" "$2")/state"; }
# net_state_is D N STATE (a command, so that net_wait re-reads it)
net_state_is() { test "$(net_be_state "$1" "$2")" = "$3"; }

# The vif hotplug script's part, once the backend is in InitWait.
net_hotplug() {
	local d=$1 n=$2 ifname
	ifname=${3:-vif$d.$n}
	net_wait 100 net_state_is "$d" "$n" 2 || return 1
	ip -n "$HNS" link show "$ifname" >/dev/null 2>&1 || return 1
	ip -n "$HNS" addr add "$(net_host_ip "$d" "$n")/24" dev "$ifname" &&
		ip -n "$HNS" link set "$ifname" up &&
		xenstore-write "$(be_path "$d" "$n")/hotplug-status" connected
}

# net_start_front D N NS [options]: guest D's netfront for vif N, its TAP
# eth<N> in namespace NS (made if missing), log in $TMP/nf.D.N.log.
net_start_front() {
	local d=$1 n=$2 ns=$3
	shift 3
	ip netns list | grep -qw "$ns" || {
		ip netns add "$ns" && ip -n "$ns" link set lo up
	} || return 1
	ip netns exec "$ns" $X run "$H" "$d" -- $NF --tap "eth$n" --devid "$n" \
		"$@" >"$TMP/nf.$d.$n.log" 2>&1 &
}

net_front_log() { cat "$TMP/nf.$1.$2.log"; }

# Wait for netfront's "connected", then give its TAP the guest address.
net_wait_front() {
	local d=$1 n=$2 ns=$3
	net_wait 150 grep -q '^connected' "$TMP/nf.$d.$n.log" || return 1
	ip -n "$ns" addr add "$(net_guest_ip "$d" "$n")/24" dev "eth$n" &&
		ip -n "$ns" link set "eth$n" up
}

# Toolstack detach, as libxl does: online=0, Closing, wait for Closed.
net_unplug() {
	local d=$1 n=$2 be
	be=$(be_path "$d" "$n")
	xenstore-write "$be/online" 0 "$be/state" 5 || return 1
	net_wait 100 net_state_is "$d" "$n" 6 || return 1
	xenstore-rm "$be" && xenstore-rm "$(fe_path "$d" "$n")"
}

# A device's counter from xenbackctl --json (each device is one line).
net_counter() {
	net_ctl --json 2>/dev/null | grep "\"name\": \"vif/$1/$2\"" |
		grep -o "\"$3\": [0-9]*" | grep -o '[0-9]*$' || echo 0
}
