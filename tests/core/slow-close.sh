#!/bin/sh
# slow-close.sh: a device's close stuck behind a slow flush holds nothing
# but that device (docs/architecture.md, "Device lifecycle"). On the
# simulated host, with the real daemon built with ASan (LeakSanitizer at
# its exit) and simulated blkfront guests; the slow disks are files on
# refusefs (tests/blk/refusefs, FUSE) told `holdflush`: every fsync waits
# until `releaseflush`. A guest writes, pushes writes and a flush, and:
#   closed   closes while the flush is held: the backend answers Closing
#            at once and stays Closing (never Closed) until the flush is
#            released, then Closed, with every request answered once;
#            meanwhile xenbackctl answers promptly and shows the close in
#            progress, and another guest connects and verifies its disk;
#   restart  closes and starts over at once (Initialising): the backend
#            stays Closing, then InitWait once the I/O is done; the guest
#            connects again and reads back what it wrote;
#   domain destroyed during the slow close: the daemon keeps the pages
#            mapped until the I/O ends, then gives everything back;
#   directory removed during the slow close, and made again: the old
#            device stays until its I/O ends (logged once when that
#            takes over 5 s), the new one waits for it, then is served
#            (verified I/O);
#   the daemon stopped (SIGTERM) during a slow close: it waits for the
#            I/O in flight (logged), the guest gets Closed with every
#            request answered, and it exits 0 (no leak, no ASan report).
# PASS:/FAIL: lines.
set -u
REFUSEFS=${B:-build}/tests/blk/refusefs
tmp=$(mktemp -d /tmp/xb-core.XXXX)
shm=$(mktemp -d /dev/shm/xb-core.XXXX)
H=$tmp/h
BLK_CASE="slow close: "
BLK_LOG_TAIL=30
. tests/blk/lib.sh
DAEMON=$XSB/xenbackd-asan
BLK_DAEMON_ENV="ASAN_OPTIONS=detect_leaks=1:abort_on_error=0"
BOUND_MS=${SLOW_CLOSE_BOUND_MS:-1000}
mounts=
gpids=
cleanup() {
	for m in $mounts; do echo releaseflush >"$m/ctl" 2>/dev/null; done
	for p in $gpids; do kill "$p" 2>/dev/null; wait "$p"; done
	host_stop
	for m in $mounts; do umount "$m"; done
	rm -rf "$shm"
	[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }
check() { # NAME CONDITION-STATUS [WHY]
	if [ "$2" -eq 0 ]; then pass "$1"; else fail "$1" "${3:-}"; fi
}

# refusefs NAME: a refusefs over a 16 MiB image on tmpfs, on $tmp/NAME
refusefs() {
	truncate -s 16M "$shm/$1.img"
	mkdir "$tmp/$1"
	if timeout 20 "$REFUSEFS" "$shm/$1.img" "$tmp/$1" 2>"$tmp/$1.log"
	then
		mounts="$tmp/$1 $mounts"
	else
		fail "refusefs $1 mounted" "($(tail -n 2 "$tmp/$1.log"))"
		exit 1
	fi
}
# guest DOMID NAME ARGS...: the simulated blkfront, its lines in
# $tmp/NAME.out (run in the background by the caller if need be)
guest() {
	d=$1 n=$2
	shift 2
	timeout 150 $X run "$H" "$d" -- "$FRONT" -d 51712 \
		-n "slow close: $n" "$@" >"$tmp/$n.out" 2>&1
}
# until_line NAME LINE: until the guest's output has LINE (30 s)
until_line() {
	i=0
	until grep -q "^$2" "$tmp/$1.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 300 ] && return 1
		sleep 0.1
	done
}
guest_lines() { grep -E '^(PASS|FAIL):|^# ' "$tmp/$1.out"; }
# ctl WHAT: xenbackctl WHAT into $tmp/ctl.out; its time in ms in $ms
ctl() {
	t0=$(now_ms)
	timeout 20 "$CTL" -s "$tmp/ctl.sock" "$@" >"$tmp/ctl.out" 2>&1
	rc=$?
	ms=$(($(now_ms) - t0))
	return $rc
}
# answers NAME: xenbackctl list and resources, 5 times each, 0.2 s apart:
# every answer within BOUND_MS
answers() {
	worst=0 bad=0
	for i in 1 2 3 4 5; do
		for w in list resources; do
			ctl $w || bad=$((bad + 1))
			[ "$ms" -gt "$worst" ] && worst=$ms
		done
		sleep 0.2
	done
	[ $bad -eq 0 ] && [ "$worst" -le "$BOUND_MS" ]
	check "$1 (longest answer $worst ms)" $? "($bad failed)"
}
# row DOMID: the device's row of xenbackctl list
row() {
	ctl list >/dev/null
	awk -v d="$1" '$1 == d && $3 == 51712' "$tmp/ctl.out"
}
# held DOMID: the domain's resources line (0 when it holds nothing)
held() {
	ctl resources >/dev/null
	awk -v d="$1" '$1 == d' "$tmp/ctl.out"
}
state() { be_read "$1" 51712 state; }

host_start 1 2 3 4
daemon_start "$tmp/ctl.sock"
daemon_started || { fail "daemon runs"; exit 1; }
refusefs r1
vbd_add 1 51712 "$tmp/r1/disk.img" w disk
truncate -s 16M "$shm/d2.img"
vbd_add 2 51712 "$shm/d2.img" w disk

# ---- 1: the guest closes while its flush is held ----------------------
guest 1 closed -b 32k -Q 8 -w closed -C "echo holdflush >$tmp/r1/ctl" \
	slow-close &
gpid=$!
gpids="$gpids $gpid"
until_line closed "# closed" || fail "guest 1 closes" "($(tail -n 3 "$tmp/closed.out"))"
sleep 1
answers "while a close waits for a held flush, xenbackctl answers within $BOUND_MS ms"
s=$(state 1)
check "the closing backend is Closing, not Closed, while its flush is held" \
	"$([ "$s" = 5 ]; echo $?)" "(state $s)"
r=$(row 1)
echo "$r" | grep -q '^1 .* Closing .*closing=[1-9][0-9]* requests in flight'
check "xenbackctl list shows the close in progress" $? "($r)"
guest 2 other verify
guest_lines other
grep -q '^FAIL:' "$tmp/other.out"
check "another guest connects and verifies its disk during the slow close" \
	"$([ $? -ne 0 ] && grep -q '^PASS:' "$tmp/other.out"; echo $?)"
s=$(state 1)
check "still Closing after that (the flush still held)" \
	"$([ "$s" = 5 ]; echo $?)" "(state $s)"
echo releaseflush >"$tmp/r1/ctl"
wait "$gpid"
gpids=
guest_lines closed
grep -q "vbd/1/51712: closed after [0-9.]* s: waited for the I/O in flight" \
	"$tmp/daemon.log"
check "a close that waited is logged once done" $?

# ---- 2: the guest closes and starts over while its flush is held -------
guest 1 restart -b 32k -Q 8 -w restart -C "echo holdflush >$tmp/r1/ctl" \
	slow-close &
gpid=$!
gpids="$gpids $gpid"
until_line restart "# closed" || fail "guest 1 closes" "($(tail -n 3 "$tmp/restart.out"))"
sleep 1.5
s=$(state 1)
f=$(as0 xenstore-read /local/domain/1/device/vbd/51712/state)
check "a frontend starting over during the slow close waits: backend Closing" \
	"$([ "$s" = 5 ] && [ "$f" = 1 ]; echo $?)" "(backend $s, frontend $f)"
answers "meanwhile xenbackctl answers within $BOUND_MS ms"
echo releaseflush >"$tmp/r1/ctl"
wait "$gpid"
gpids=
guest_lines restart

# ---- 3: the domain is destroyed during the slow close ------------------
refusefs r3
vbd_add 3 51712 "$tmp/r3/disk.img" w disk
guest 3 dies -b 32k -Q 8 -w stay -C "echo holdflush >$tmp/r3/ctl" \
	-U "$tmp/never" slow-close &
gpids="$gpids $!"
until_line dies "# pushed" || fail "guest 3 pushes" "($(tail -n 3 "$tmp/dies.out"))"
timeout 30 $X destroy "$H" 3 >"$tmp/destroy.log" 2>&1
check "domain 3 destroyed with its flush held" $? "($(tail -n 2 "$tmp/destroy.log"))"
sleep 1
answers "xenbackctl answers while the dead domain's close waits"
h=$(held 3)
check "its guest pages stay mapped while its I/O is in flight" \
	"$([ -n "$h" ]; echo $?)" "(resources: nothing for domain 3)"
echo releaseflush >"$tmp/r3/ctl"
i=0
while [ -n "$(held 3)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
h=$(held 3)
check "then the daemon holds nothing of domain 3" \
	"$([ -z "$h" ]; echo $?)" "($h)"
s=$(state 3)
check "and its backend is Closed" "$([ "$s" = 6 ]; echo $?)" "(state $s)"
wait "$gpid"
gpids=
del_vbd 3 51712

# ---- 4: the directory is removed during the slow close, then made again
refusefs r4
vbd_add 4 51712 "$tmp/r4/disk.img" w disk
guest 4 removed -b 32k -Q 8 -w stay -C "echo holdflush >$tmp/r4/ctl" \
	-U "$tmp/go4" slow-close &
gpids="$gpids $!"
until_line removed "# pushed" || fail "guest 4 pushes" "($(tail -n 3 "$tmp/removed.out"))"
del_vbd 4 51712
sleep 1
answers "xenbackctl answers while a removed device's close waits"
r=$(row 4)
check "the removed device stays, closing, while its I/O is in flight" \
	"$(echo "$r" | grep -q 'closing='; echo $?)" "($r)"
vbd_add 4 51712 "$tmp/r4/disk.img" w disk
sleep 1
s=$(state 4)
check "a device made again in its place waits for it" \
	"$([ "$s" = 1 ]; echo $?)" "(state $s)"
# A close waiting long says so once, with what it waits for (the health
# timer looks every 5 s).
line="vbd/4/51712: closing for [0-9]* s: waiting for [1-9][0-9]* request(s) in flight before it is Closed"
i=0
until grep -q "$line" "$tmp/daemon.log" || [ $i -gt 120 ]; do
	sleep 0.1
	i=$((i + 1))
done
n=$(grep -c "$line" "$tmp/daemon.log")
check "a close waiting over 5 s is logged once, with its requests in flight" \
	"$([ "$n" = 1 ]; echo $?)" "($n lines)"
echo releaseflush >"$tmp/r4/ctl"
wait_be 4 51712 state 2
check "then the new device is picked up (InitWait)" $? "(state $(state 4))"
touch "$tmp/go4"
wait "$gpid"
gpids=
guest_lines removed
guest 4 again verify
guest_lines again
grep -q '^FAIL:' "$tmp/again.out"
check "and serves its guest (verified I/O)" \
	"$([ $? -ne 0 ] && grep -q '^PASS:' "$tmp/again.out"; echo $?)"

grep -q "AddressSanitizer\|LeakSanitizer" "$tmp/daemon.log"
check "no ASan report" "$([ $? -ne 0 ]; echo $?)"

# ---- 5: the daemon stops during a slow close ---------------------------
guest 1 stop -b 32k -Q 8 -w closed-only -C "echo holdflush >$tmp/r1/ctl" \
	slow-close &
gpid=$!
gpids="$gpids $gpid"
until_line stop "# closed" || fail "guest 1 closes" "($(tail -n 3 "$tmp/stop.out"))"
sleep 0.5
kill "$dpid"
sleep 1
kill -0 "$dpid" 2>/dev/null
check "a daemon stopping during a slow close waits for its I/O" $?
grep -q "vbd/1/51712: daemon stopping: waiting for the I/O in flight of its close" \
	"$tmp/daemon.log"
check "and says so" $?
echo releaseflush >"$tmp/r1/ctl"
wait "$dpid"
rc=$?
dpid=
check "then exits 0" "$rc" "(exit $rc)"
wait "$gpid"
gpids=
guest_lines stop
s=$(state 1)
check "its device is Closed" "$([ "$s" = 6 ]; echo $?)" "(state $s)"
grep -q "AddressSanitizer\|LeakSanitizer" "$tmp/daemon.log"
check "no leak at the daemon's exit" "$([ $? -ne 0 ]; echo $?)"
exit 0
