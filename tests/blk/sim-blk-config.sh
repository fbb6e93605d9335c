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
# - precedence: XENBACKD_BLK_DATA over the file, --set over both;
# - xenbackctl restart (and a crash): an adopted disk keeps what it
#   connected with, one line says so; the successor's settings are in
#   force for new disks and reconnects; no record of a device's settings
#   is left after a stop, nor of a device gone while no daemon ran.
set -u
tmp=$(mktemp -d /tmp/xb-bcfg.XXXX)
shm=$(mktemp -d /dev/shm/xb-bcfg.XXXX)
H=$tmp/h
BLK_CASE="blk config: "
. tests/blk/lib.sh
conf=$tmp/xb.conf
trap blk_cleanup EXIT INT TERM

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
	if front_ok "$tmp/$n.out" -d "$v" -S 8192 -s "$v" \
		-n "blk config: $n" "$@" verify; then
		pass "$n: served"
	else
		fail "$n: served" "$(front_fails "$tmp/$n.out")"
	fi
}
# shows NAME DEVID WORDS...: xenbackctl's line of vbd 1/DEVID has each of
# WORDS ("data=grant-copy", "poll-us=0")
shows() {
	n=$1 v=$2
	shift 2
	list_line "$v"
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
# connected DEVID: until xenbackctl lists vbd 1/DEVID Connected (5 s)
connected() {
	i=0
	while ! ctl list | awk -v v="$1" '$1 == 1 && $3 == v' |
		grep -q ' Connected'; do
		i=$((i + 1))
		[ $i -gt 50 ] && return 1
		sleep 0.1
	done
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
connected 51728
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

# ---- xenbackctl restart: an adopted disk keeps its settings ----------------
# The successor (started here as systemd would) reads the changed file: it
# is in force for new disks and reconnects; the adopted disk keeps what it
# connected with (as across a reload), and one line says so. The same
# after a crash (SIGKILL). The record is <run dir>/vbd-1-51744.settings.
rec=$tmp/vbd-1-51744.settings
handover() {
	ctl restart >/dev/null 2>&1
	wait "$dpid"
	rc=$?
	dpid=
	if [ $rc = 75 ]; then pass "xenbackctl restart: exit 75"
	else fail "xenbackctl restart: exit 75" "(exit $rc)"; fi
}
crash() {
	kill -KILL "$dpid"
	wait "$dpid" 2>/dev/null
	dpid=
}
lost() {
	handover
	rm -f "$rec"
}
# release: the adopted disk's guest is let go (it closes the disk)
release() {
	touch "$tmp/done"
	wait $gpid
}
keeps="vbd/1/51744: keeps the settings it was connected with until it reconnects"
# across NAME STOP DATA POLL NEWDATA NEWPOLL: 51744 connected with DATA and
# POLL from the file, the daemon stopped by STOP, the file changed to
# NEWDATA and NEWPOLL, the successor started
across() {
	printf 'vbd-data = %s\nvbd-poll-us = %s\n' "$3" "$4" >"$conf"
	start
	rm -f "$tmp/done"
	connect "$1: the adopted disk's guest" 51744 -W 50 -U "$tmp/done" &
	gpid=$!
	connected 51744 || fail "$1: vbd 51744 connected"
	if [ -f "$rec" ]; then pass "$1: the disk's settings recorded"
	else fail "$1: the disk's settings recorded" "($(ls "$tmp"))"; fi
	printf 'vbd-data = %s\nvbd-poll-us = %s\n' "$5" "$6" >"$conf"
	$2
	start
}
# after NAME DATA POLL: a new disk takes the settings in force, and so does
# the adopted one when its guest connects again
after() {
	connect "$1: a new disk" 51760
	shows "$1: a new disk takes the new settings" 51760 \
		"data=grant-$2" "data-why=vbd-data=$2" "poll-us=$3"
	release
	connect "$1: the adopted disk reconnects" 51744
	shows "$1: a reconnect takes the new settings" 51744 \
		"data=grant-$2" "data-why=vbd-data=$2" "poll-us=$3"
}

across "handover" handover copy 0 map 200
logged "handover: the successor's start line shows the new settings" 1 \
	"settings: vbd-data = map ($conf:1), vbd-poll-us = 200 ($conf:2)$"
logged "handover: one line says what the adopted disk keeps" 1 \
	"$keeps: vbd-data = copy ($conf:1; now map), vbd-poll-us = 0 ($conf:2; now 200)$"
shows "handover: the adopted disk keeps its settings" 51744 Connected \
	data=grant-copy data-why=vbd-data=copy poll-us=0
after "handover" map 200
stop

across "crash" crash map 200 copy 10
logged "crash: one line says what the adopted disk keeps" 1 \
	"$keeps: vbd-data = map ($conf:1; now copy), vbd-poll-us = 200 ($conf:2; now 10)$"
shows "crash: the adopted disk keeps its settings" 51744 Connected \
	data=grant-map data-why=vbd-data=map poll-us=200
# A second handover: still kept (the successor recorded them again).
handover
start
logged "a second handover: still kept, said again" 1 \
	"$keeps: vbd-data = map ($conf:1; now copy)"
shows "a second handover: still kept" 51744 Connected \
	data=grant-map data-why=vbd-data=map poll-us=200
after "crash" copy 10
stop

# Without a record (a daemon of an earlier version kept none) the settings
# in force apply, and a line says so.
across "no record" lost copy 0 map 200
logged "no record: one line says the settings in force apply" 1 \
	"vbd/1/51744: no record of the settings it was connected with (No such file or directory): it takes those in force$"
shows "no record: the settings in force" 51744 Connected \
	data=grant-map data-why=vbd-data=map poll-us=200
release
# A stop closes the disks: no record is left; nor is one of a device that
# went while no daemon ran.
rm -f "$tmp/done"
connect "a disk connected at the stop" 51744 -W 50 -U "$tmp/done" &
gpid=$!
connected 51744
# Its guest done with its I/O (idle now): the stop closes the disk, it
# does not cut the guest's verify short.
i=0
while ! grep -q "flush and barrier data read back" \
	"$tmp/a disk connected at the stop.out" \
	2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
stop
release
printf 'vbd-data\tcopy\t\tdefault\n' >"$tmp/vbd-1-4000.settings"
start
stop
left=$(cd "$tmp" && ls -- *.settings 2>/dev/null)
if [ -z "$left" ]; then pass "no record left after a stop, nor of a device gone"
else fail "no record left after a stop, nor of a device gone" "($left)"; fi

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
