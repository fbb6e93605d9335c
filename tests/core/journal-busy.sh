#!/bin/sh
# journal-busy.sh: the daemon keeps serving while the journal is stuck.
# The real xenbackd on the simulated host logs (--log-target journal,
# --log-level debug) to a stand-in journal: in a mount namespace of the
# daemon's own, /run/systemd/journal is a folder of the test's where
# build/e2e/e2e-notify is bound to `socket`. That listener is stopped
# (SIGSTOP: journald stalled, its queue full) while
#   - a guest writes its whole disk and reads it back, verified
#     (blk_sim_front verify), and its request counters keep going up;
#   - a hostile guest sends one malformed request of each class: each is
#     answered (its queue's worker logs them, rate-limited);
#   - the daemon logs thousands of lines: reloads (SIGHUP, again and
#     again) of a configuration with bad settings (a warning each), and
#     toolstack churn (bogus devices with a bad frontend-id appearing and
#     going: an error line each, debug lines);
#   - xenbackctl is asked every 0.1 s: every answer within the bound;
# then, the listener running again (SIGCONT):
#   - the daemon reports "N log messages dropped (journal busy)" (with
#     XENBACKD_LOG_DROPPED=N, N in the thousands) within 10 s, and logs
#     as before;
#   - nothing went to stderr (a busy journal is not a missing one);
#   - SIGTERM stops it cleanly.
# XENBACKD=path runs another binary (to show an old one hangs).
# PASS:/FAIL: lines.
set -u
tmp=$(mktemp -d /tmp/xb-core.XXXX)
H=$tmp/h
. tests/core/lib.sh
DAEMON=${XENBACKD:-$B/xenbackd}
LISTEN=$B/e2e/e2e-notify
BOUND_MS=${JOURNAL_BUSY_BOUND_MS:-1000}
CHURN_MS=${JOURNAL_BUSY_CHURN_MS:-3000}
lp= dp= guest= probe= hostile=
cleanup() {
	touch "$tmp/stop"
	[ -n "$lp" ] && kill -CONT "$lp" 2>/dev/null
	for p in $guest $probe $hostile $lp; do kill "$p" 2>/dev/null; done
	[ -n "$dp" ] && kill -KILL "$dp" 2>/dev/null
	wait 2>/dev/null
	timeout 30 $X stop "$H" >/dev/null 2>&1
	[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS: journal-busy: $1"; }
fail() {
	echo "FAIL: journal-busy: $1 ${2:-}"
	grep '^MESSAGE=' "$tmp/journal.out" 2>/dev/null | tail -n 15 |
		sed 's/^/   | /'
}
check() { if eval "$2"; then pass "$1"; else fail "$1" "$3"; fi; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
journal_has() { grep -q "$1" "$tmp/journal.out"; }
counter() { # the guest disk's request counter $1 (rd_req, wr_req)
	timeout 5 "$CTL" -s "$tmp/ctl.sock" 2>/dev/null |
		sed -n "s/.*vbd.*51712.* $1=\([0-9]*\).*/\1/p" | head -n 1
}

# probe: xenbackctl list and resources every 0.1 s until $tmp/stop;
# one line "MS what" per call in $tmp/probe.
probe() {
	while [ ! -e "$tmp/stop" ]; do
		for what in list resources; do
			t0=$(now_ms)
			if timeout 20 "$CTL" -s "$tmp/ctl.sock" $what \
				>/dev/null 2>&1; then
				echo "$(($(now_ms) - t0)) $what"
			else
				echo "99999 $what (no answer)"
			fi
		done
		sleep 0.1
	done >"$tmp/probe"
}

# churn: 20 devices of domain 6 whose frontend-id is not a number (an
# error line each, and debug lines as they are found and removed),
# written at once, then removed, every 0.2 s for CHURN_MS; meanwhile
# SIGHUP every 5 ms (about a dozen lines per reload). Sets rounds, hups.
hups() {
	n=0
	while [ ! -e "$tmp/churned" ]; do
		kill -HUP "$dp" || break
		n=$((n + 1))
		sleep 0.005
	done
	echo $n >"$tmp/hups"
}
churn() {
	rounds=0 end=$(($(now_ms) + CHURN_MS))
	hups &
	hp=$!
	while [ "$(now_ms)" -lt $end ]; do
		set --
		for v in $(seq 1 20); do
			be=/local/domain/0/backend/vbd/6/$v
			set -- "$@" "$be/frontend" /local/domain/6/device/vbd/$v \
				"$be/frontend-id" 6x "$be/state" 1
		done
		as0 xenstore-write "$@" || return 1
		as0 xenstore-rm /local/domain/0/backend/vbd/6 || return 1
		rounds=$((rounds + 1))
		sleep 0.2
	done
	touch "$tmp/churned"
	wait $hp
}

if ! timeout 30 $X start "$H" >"$tmp/start.log" 2>&1 ||
	! timeout 30 $X create "$H" 5 --mem 64 >/dev/null 2>&1 ||
	! timeout 30 $X create "$H" 6 --mem 64 >/dev/null 2>&1 ||
	! timeout 30 $X create "$H" 7 --mem 64 >/dev/null 2>&1; then
	fail "simulated host starts" "($(tail -n 3 "$tmp/start.log"))"
	exit 1
fi

mkdir "$tmp/j"
"$LISTEN" "$tmp/j/socket" >"$tmp/journal.out" 2>&1 &
lp=$!
wait_for 5 test -S "$tmp/j/socket" ||
	{ fail "stand-in journal listens"; exit 1; }
for i in 1 2 3 4 5 6 7 8 9; do echo "vbd-data = bogus$i"; done >"$tmp/conf"
cat >"$tmp/ns.sh" <<'NS'
mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal &&
	mount --bind "$tmp/j" /run/systemd/journal || exit 3
exec "$DAEMON" -c "$tmp/conf" --foreground --kinds vbd --log-target journal \
	--log-level debug --control-socket "$tmp/ctl.sock"
NS
(eval "$($X env "$H" 0)" && export tmp DAEMON &&
	exec unshare -m sh "$tmp/ns.sh") 2>"$tmp/stderr" &
dp=$!
answers() { timeout 5 "$CTL" -s "$tmp/ctl.sock" >/dev/null 2>&1; }
if wait_for 10 answers && wait_for 5 journal_has '^MESSAGE=xenbackd .* in domain 0$'
then pass "the daemon logs to the stand-in journal"
else fail "the daemon logs to the stand-in journal" "($(head -c 300 "$tmp/stderr"))"
	exit 1; fi

truncate -s 1G "$tmp/5.img"
truncate -s 64M "$tmp/7.img"
add_vbd 5 51712 "$tmp/5.img"
add_vbd 7 51712 "$tmp/7.img"
timeout 300 $X run "$H" 5 -- $FRONT -n busy -d 51712 -q 2 -i 32 \
	-S $((1024 * 2048)) -s 5 verify >"$tmp/guest.log" 2>&1 &
guest=$!
wait_for 10 journal_has 'vbd/5/51712: Connected' ||
	{ fail "the guest's disk connects"; exit 1; }

# journald stalls.
[ -n "${JOURNAL_BUSY_NOSTALL:-}" ] || kill -STOP "$lp"
probe &
probe=$!
sleep 0.5
rd0=$(counter rd_req) wr0=$(counter wr_req)
timeout 60 $X run "$H" 7 -- $FRONT -n hostile -d 51712 -a 64 hostile \
	>"$tmp/hostile.log" 2>&1 &
hostile=$!
t0=$(now_ms)
churn
crc=$?
churn_ms=$(($(now_ms) - t0))
hups=$(cat "$tmp/hups")
rd1=$(counter rd_req) wr1=$(counter wr_req)
kill -0 "$guest" 2>/dev/null
running=$?
touch "$tmp/stop"
wait "$probe"
probe=
wait "$hostile"
hrc=$?
n=$(wc -l <"$tmp/probe")
slow=$(awk -v b="$BOUND_MS" '$1 > b' "$tmp/probe" | wc -l)
max=$(sort -n "$tmp/probe" | tail -n 1)
check "SIGHUP and toolstack churn while the journal is stuck ($hups reloads, $rounds rounds of 20 devices, ${churn_ms} ms)" \
	'[ $crc = 0 ]' "(xenstore-write or -rm failed)"
check "xenbackctl answers within $BOUND_MS ms while the journal is stuck ($n calls, longest: $max ms)" \
	'[ "$n" -ge 10 ] && [ "$slow" = 0 ]' \
	"($slow slower: $(awk -v b="$BOUND_MS" '$1 > b' "$tmp/probe" | head -5 | tr '\n' ' '))"
check "the guest's I/O goes on all the while (requests read $rd0 -> $rd1, written $wr0 -> $wr1; still running at the end)" \
	'[ -n "$rd0$wr0" ] && [ $running = 0 ] &&
	 [ $((${rd1:-0} + ${wr1:-0})) -gt $((${rd0:-0} + ${wr0:-0})) ]' ""
check "a hostile guest connects meanwhile, its malformed requests each answered" \
	'[ $hrc = 0 ] && ! grep -q "^FAIL" "$tmp/hostile.log" &&
	 grep -q "^PASS" "$tmp/hostile.log"' \
	"(rc $hrc: $(grep -v '^PASS' "$tmp/hostile.log" | head -5))"

# journald back.
kill -CONT "$lp"
wait_for 10 journal_has 'log messages dropped (journal busy)'
dropped=$(sed -n 's/^XENBACKD_LOG_DROPPED=//p' "$tmp/journal.out" | head -n 1)
report=$(grep '^MESSAGE=.*log messages dropped' "$tmp/journal.out" | head -n 1)
check "journal back: the daemon reports what it dropped ($report)" \
	'[ "${dropped:-0}" -ge 1000 ] &&
	 echo "$report" | grep -q "^MESSAGE=$dropped log messages dropped (journal busy): .*debug"' \
	"(XENBACKD_LOG_DROPPED=${dropped:-none})"
check "the report has MESSAGE_ID and PRIORITY err (errors were among the lost)" \
	'grep -A6 "^MESSAGE=.*log messages dropped" "$tmp/journal.out" |
	 grep -q "^MESSAGE_ID=90c038e4feaf4e3dbaff1fa11998e281$" &&
	 grep -A1 "^MESSAGE=.*log messages dropped" "$tmp/journal.out" |
	 grep -q "^PRIORITY=3$"' \
	"($(grep -A6 '^MESSAGE=.*log messages dropped' "$tmp/journal.out" | tr '\n' ' '))"

wait "$guest"
grc=$?
guest=
check "the guest's whole-disk write and read-back verified" \
	'[ $grc = 0 ] && ! grep -q "^FAIL" "$tmp/guest.log" &&
	 grep -q "PASS: .*whole-disk write then read-verify" "$tmp/guest.log"' \
	"(rc $grc: $(grep -v '^PASS' "$tmp/guest.log" | head -5))"
as0 xenstore-write /local/domain/0/backend/vbd/6/1/frontend \
	/local/domain/6/device/vbd/1 \
	/local/domain/0/backend/vbd/6/1/frontend-id 6y \
	/local/domain/0/backend/vbd/6/1/state 1
check "and logs as before (a new bad device's error line arrives)" \
	'wait_for 10 journal_has "^MESSAGE=vbd/6/1: backend node frontend-id is not a canonical number"' ""
check "nothing on stderr: a busy journal is not a missing one" \
	'[ ! -s "$tmp/stderr" ]' "($(head -c 300 "$tmp/stderr"))"
kill -TERM "$dp"
i=0; while kill -0 "$dp" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.1; i=$((i + 1)); done
wait "$dp"
rc=$?
dp=
check "SIGTERM: the daemon stops cleanly" '[ $rc = 0 ]' "(exit $rc)"
