#!/bin/sh
# sim-blk-config.sh: the block backend's settings in xenbackd.conf
# (vbd-data, vbd-poll-us: keys blk/ declares, the core parses and reloads;
# docs/blk.md "Settings") on the simulated Xen host, with the real daemon
# and a simulated blkfront. PASS:/FAIL: lines.
#
# - each key from the file is what the next connect uses (xenbackctl:
#   data, data-why, poll-us), and the start-up log line lists them;
# - SIGHUP: a device connected across the reload keeps what it connected
#   with, its next connect takes the new values;
# - bad values (at start and on reload): one warning naming the key, the
#   value, the file and line; the default is used; the daemon runs on;
# - an unknown key: refused as any other (start: exit 2; reload: the
#   running configuration kept);
# - precedence: XENBACKD_BLK_DATA over the file, --set over both.
set -u
tmp=$(mktemp -d /tmp/xb-bcfg.XXXX)
shm=$(mktemp -d /dev/shm/xb-bcfg.XXXX)
H=$tmp/h
BLK_CASE="blk config: "
. tests/blk/lib.sh
conf=$tmp/xb.conf
cleanup() {
	host_stop
	rm -rf "$tmp" "$shm"
}
trap cleanup EXIT INT TERM

ctl() { timeout 10 "$CTL" -s "$tmp/ctl.sock" "$@"; }
# start ARG...: the daemon with $conf and these options (BLK_DAEMON_ENV)
start() {
	daemon_start "$tmp/ctl.sock" -c "$conf" --log-level info "$@"
	daemon_started || { fail "daemon runs ($*)"; exit 1; }
}
stop() {
	kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	dpid=
}
# connect NAME DEVID [-W SECONDS]: a blkfront of domain 1 writes and
# reads back the disk DEVID (made on first use, a file on tmpfs: auto
# would pick map)
connect() {
	n=$1 v=$2
	shift 2
	[ -e "$shm/$v.img" ] || {
		truncate -s 4M "$shm/$v.img"
		vbd_add 1 "$v" "$shm/$v.img" w disk
	}
	if timeout 60 $X run "$H" 1 -- "$FRONT" -d "$v" -S 8192 -s "$v" \
		-n "blk config: $n" "$@" verify >"$tmp/$n.out" 2>&1 &&
		! grep -q "^FAIL" "$tmp/$n.out"; then
		pass "$n: served"
	else
		fail "$n: served" "($(grep FAIL "$tmp/$n.out" | head -n 2))"
	fi
}
# shows NAME DEVID WORDS...: xenbackctl's line of vbd 1/DEVID has each of
# WORDS ("data=grant-copy", "poll-us=0")
shows() {
	n=$1 v=$2
	shift 2
	line=$(ctl list | awk -v v="$v" '$1 == 1 && $2 == "vbd" && $3 == v')
	for w in "$@"; do
		case " $line " in
		*" $w "*) ;;
		*) fail "$n: xenbackctl shows $*" "($line)"; return ;;
		esac
	done
	pass "$n: xenbackctl shows $*"
}
# logged NAME COUNT PATTERN: the daemon's log has COUNT lines matching
logged() {
	c=$(grep -c -- "$3" "$tmp/daemon.log")
	if [ "$c" = "$2" ]; then pass "$1"
	else fail "$1" "($c lines match '$3', want $2)"; fi
}
reload() {
	r=$(grep -c "reload" "$tmp/daemon.log")
	kill -HUP "$dpid"
	i=0
	while [ "$(grep -c "reload" "$tmp/daemon.log")" = "$r" ] &&
		[ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

host_start 1

# ---- the file's values ---------------------------------------------------
printf '# test\nvbd-data = copy\nvbd-poll-us = 0\n' >"$conf"
start
logged "start-up lists the settings and where they come from" 1 \
	"settings: vbd-data = copy ($conf:2), vbd-poll-us = 0 ($conf:3)$"
connect "vbd-data = copy" 51712
shows "vbd-data = copy" 51712 data=grant-copy data-why=vbd-data=copy \
	poll-us=0

# ---- reload: the next connect --------------------------------------------
# 51728 stays connected (idle 4 s) across the reload.
connect "connected across the reload" 51728 -W 4 &
gpid=$!
i=0
while ! ctl list | awk '$1 == 1 && $3 == 51728' | grep -q ' Connected'; do
	i=$((i + 1))
	[ $i -gt 50 ] && break
	sleep 0.1
done
printf 'vbd-data = map\nvbd-poll-us = 200\n' >"$conf"
reload
logged "reload lists the new settings" 1 \
	"settings: vbd-data = map ($conf:1), vbd-poll-us = 200 ($conf:2)$"
shows "a device connected across the reload keeps its settings" 51728 \
	Connected data=grant-copy data-why=vbd-data=copy poll-us=0
wait $gpid
connect "after the reload" 51712
shows "after the reload, its next connect" 51712 data=grant-map \
	data-why=vbd-data=map poll-us=200

# ---- bad values on reload --------------------------------------------------
printf 'vbd-poll-us = 100\n\nvbd-data = fastest\nvbd-poll-us = 20us\n' >"$conf"
reload
logged "a bad vbd-data is one warning with file and line" 1 \
	"warning: $conf:3: vbd-data = 'fastest' is not auto, copy or map: ignored (the default is auto)$"
logged "a bad vbd-poll-us is one warning with file and line" 1 \
	"warning: $conf:4: vbd-poll-us = '20us' is not a number of microseconds from 0 to 1000: ignored (the default is 50)$"
logged "bad values: the reload goes on (an earlier line's value kept)" 1 \
	"settings: vbd-data = auto (default), vbd-poll-us = 100 ($conf:1)$"
connect "bad values" 51712
shows "bad values: the default data path (auto)" 51712 data=grant-map \
	data-why=file-on-tmpfs poll-us=100

# ---- an unknown key on reload ----------------------------------------------
printf 'vbd-data = copy\nvbd-dta = map\n' >"$conf"
reload
logged "an unknown key refuses the reload, naming the file and line" 1 \
	"reload: $conf:2: unknown key 'vbd-dta' (kinds, log-level, log-target, control-socket, vbd-data, vbd-poll-us); keeping the running configuration$"
connect "after a refused reload" 51712
shows "a refused reload keeps the running settings" 51712 data=grant-map \
	data-why=file-on-tmpfs poll-us=100
stop

# ---- bad values at start: logged, the daemon serves --------------------------
printf 'vbd-data = quick\n' >"$conf"
start
logged "a bad value at start is one warning" 1 \
	"warning: $conf:1: vbd-data = 'quick' is not auto, copy or map: ignored (the default is auto)$"
connect "bad value at start" 51712
shows "bad value at start: the default" 51712 data=grant-map \
	data-why=file-on-tmpfs poll-us=50
stop

# ---- an unknown key at start: exit 2, one line ---------------------------------
printf 'vbd-dat = copy\n' >"$conf"
out=$(eval "$($X env "$H" 0)" && timeout 10 "$DAEMON" --foreground \
	--kinds vbd -c "$conf" --control-socket "$tmp/ctl.sock" 2>&1)
rc=$?
if [ $rc = 2 ] && [ "$out" = "xenbackd: $conf:1: unknown key 'vbd-dat' (kinds, log-level, log-target, control-socket, vbd-data, vbd-poll-us)" ]; then
	pass "an unknown key at start: exit 2 and one line"
else
	fail "an unknown key at start: exit 2 and one line" "(exit $rc: $out)"
fi

# ---- precedence: environment over the file, --set over both -----------------------
printf 'vbd-data = map\nvbd-poll-us = 200\n' >"$conf"
BLK_DAEMON_ENV="XENBACKD_BLK_DATA=copy XENBACKD_BLK_POLL_US=10"
start
logged "the environment over the file (start-up line)" 1 \
	"settings: vbd-data = copy (environment XENBACKD_BLK_DATA), vbd-poll-us = 10 (environment XENBACKD_BLK_POLL_US)$"
connect "environment" 51712
shows "XENBACKD_BLK_DATA over the file" 51712 data=grant-copy \
	data-why=XENBACKD_BLK_DATA=copy poll-us=10
stop
BLK_DAEMON_ENV="XENBACKD_BLK_DATA=copy XENBACKD_BLK_POLL_US=1ms"
start --set vbd-data=map
logged "a bad XENBACKD_BLK_POLL_US is one warning" 1 \
	"warning: environment: XENBACKD_BLK_POLL_US='1ms' (vbd-poll-us) is not a number of microseconds from 0 to 1000: ignored (the default is 50)$"
connect "command line" 51712
shows "--set over the environment; a bad variable leaves the file's value" \
	51712 data=grant-map data-why=vbd-data=map poll-us=200
daemon_stops_cleanly
exit 0
