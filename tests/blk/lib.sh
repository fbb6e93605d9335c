# tests/blk/lib.sh: what the block backend's suites on the simulated host
# share (sourced by a POSIX sh script run from the repository root, after
# it set tmp, its temporary folder, H, the simulated host's folder in it,
# and BLK_CASE, the prefix of its case names).
#
#   pass NAME, fail NAME [WHY]  a case's line; fail adds the daemon log's
#                               last BLK_LOG_TAIL (20) lines
#   as0 CMD...                  run CMD as dom0 of the simulated host
#   vbd_add DOMID DEVID PARAMS MODE TYPE [DIRECT_IO_SAFE]
#                               what libxl writes for a disk (sets be, fe)
#   del_vbd DOMID DEVID         the toolstack removes both directories
#   be_read DOMID DEVID NODE    a backend node's value
#   wait_be DOMID DEVID NODE VALUE
#                               until the node has VALUE (false after 10 s)
#   host_start DOMID...         the simulated host and these domains
#                               (a FAIL line and exit 1 if not)
#   daemon_start SOCKET [ARG...]
#                               xenbackd as dom0 serving vbd, its log in
#                               $tmp/daemon.log, its environment plus
#                               BLK_DAEMON_ENV (VAR=VALUE words); sets dpid
#   daemon_started              after 0.3 s, whether it still runs
#   daemon_stops_cleanly        SIGTERM; PASS if it exits 0
#   host_stop                   kill the daemon, stop the host (cleanup)
#   release_backings            unmount $mounts, detach the loop devices
#                               $loops (cleanup; both start empty)
#   blk_cleanup                 a suite's trap: host_stop,
#                               release_backings, $tmp and $shm removed
#   ctl ARG...                  xenbackctl on the daemon's $tmp/ctl.sock
#   list_line DEVID             vbd 1/DEVID's line of `xenbackctl list`,
#                               in $line; word KEY: KEY's value in it
#   front_ok OUT ARG...         a blkfront in domain 1 (ARG: its options
#                               and scenario) ends well, no FAIL line in
#                               its output, which is in OUT
#   front_fails OUT             its first FAIL lines, for a fail's WHY
#   json_has NAME DEVID TEXT    case "NAME: the same in xenbackctl --json":
#                               vbd 1/DEVID's JSON object holds TEXT (a
#                               shell pattern)
#   logged_at_connect NAME DEVID TEXT
#                               case "NAME: logged at connect": the
#                               daemon's connect line of vbd/1/DEVID
#                               ends in something matching TEXT (grep)
B=${B:-build}
XSB=${XENSIM_BUILD:-$B/xensim}
X=$XSB/xensim
FRONT=$B/tests/blk/blk_sim_front
DAEMON=$B/xenbackd
CTL=$B/xenbackctl
BLK_LOG_TAIL=${BLK_LOG_TAIL:-20}
BLK_DAEMON_ENV=
dpid=
mounts=
loops=

pass() { echo "PASS: $BLK_CASE$1"; }
fail() {
	echo "FAIL: $BLK_CASE$1 ${2:-}"
	echo "--- daemon log (tail)"
	tail -n "$BLK_LOG_TAIL" "$tmp/daemon.log" 2>/dev/null |
		sed 's/^/   | /'
}
as0() { timeout 20 $X run "$H" 0 -- "$@"; }

vbd_add() {
	be=/local/domain/0/backend/vbd/$1/$2
	fe=/local/domain/$1/device/vbd/$2
	as0 xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 \
		"$fe/state" 1 "$fe/virtual-device" "$2" \
		"$fe/device-type" "$5" &&
	as0 xenstore-chmod -r "$fe" "n$1" r0 &&
	if [ $# -gt 5 ]; then
		as0 xenstore-write "$be/direct-io-safe" "$6"
	fi &&
	as0 xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$1" \
		"$be/online" 1 "$be/params" "$3" "$be/mode" "$4" \
		"$be/device-type" "$5" "$be/removable" 0 "$be/state" 1 &&
	as0 xenstore-chmod -r "$be" n0 "r$1"
}
del_vbd() {
	as0 xenstore-rm "/local/domain/0/backend/vbd/$1/$2" 2>/dev/null
	as0 xenstore-rm "/local/domain/$1/device/vbd/$2" 2>/dev/null
}
be_read() {
	as0 xenstore-read "/local/domain/0/backend/vbd/$1/$2/$3" 2>/dev/null
}
wait_be() {
	i=0
	while [ "$(be_read "$1" "$2" "$3")" != "$4" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}

host_start() {
	if ! timeout 30 $X start "$H" >"$tmp/start.log" 2>&1; then
		fail "simulated host starts" "($(tail -n 3 "$tmp/start.log"))"
		exit 1
	fi
	for d in "$@"; do
		timeout 30 $X create "$H" "$d" --mem 64 >/dev/null 2>&1 ||
			{ fail "create domain $d"; exit 1; }
	done
}
host_stop() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	timeout 30 $X stop "$H" >/dev/null 2>&1
}
release_backings() {
	for m in $mounts; do umount "$m"; done
	for l in $loops; do losetup -d "$l"; done
}
blk_cleanup() {
	host_stop
	release_backings
	rm -rf "$tmp" ${shm:+"$shm"}
}

daemon_start() {
	# shellcheck disable=SC2086 # BLK_DAEMON_ENV is a list of words
	(eval "$($X env "$H" 0)" && exec env $BLK_DAEMON_ENV "$DAEMON" \
		--foreground --kinds vbd --log-target stderr \
		--control-socket "$@") >"$tmp/daemon.log" 2>&1 &
	dpid=$!
}
daemon_started() {
	sleep 0.3
	kill -0 "$dpid" 2>/dev/null
}
daemon_stops_cleanly() {
	kill "$dpid"
	wait "$dpid"
	rc=$?
	dpid=
	if [ $rc -eq 0 ]; then pass "daemon stops cleanly"
	else fail "daemon stops cleanly" "(exit $rc)"; fi
}

ctl() { timeout 10 "$CTL" -s "$tmp/ctl.sock" "$@"; }
list_line() {
	line=$(ctl list | awk -v v="$1" '$1 == 1 && $2 == "vbd" && $3 == v')
}
word() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

front_ok() {
	front_out=$1
	shift
	timeout 120 $X run "$H" 1 -- "$FRONT" "$@" >"$front_out" 2>&1 &&
		! grep -q "^FAIL" "$front_out"
}
front_fails() { echo "($(grep FAIL "$1" | head -n 2))"; }

json_has() {
	json=$(ctl --json list | grep "\"name\": \"vbd/1/$2\"")
	# shellcheck disable=SC2254 # TEXT is a pattern
	case "$json" in
	$3) pass "$1: the same in xenbackctl --json" ;;
	*) fail "$1: the same in xenbackctl --json" "($json)" ;;
	esac
}
logged_at_connect() {
	if grep -q "vbd/1/$2.*connected: .*$3" "$tmp/daemon.log"; then
		pass "$1: logged at connect"
	else
		fail "$1: logged at connect"
	fi
}
