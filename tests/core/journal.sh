#!/bin/sh
# journal.sh: the daemon's logging under systemd, without journald: in a
# mount namespace, a datagram socket (build/e2e/e2e-notify) stands in for
# /run/systemd/journal/socket, and JOURNAL_STREAM names the daemon's
# stderr as systemd sets it. The service with the test kind, on the
# simulated host:
#   - stderr is the journal stream: every message goes to the journal
#     socket as native fields (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, and
#     XENBACKD_DOMID/XENBACKD_DEVICE for a device), none to stderr;
#   - the journal refusing datagrams (no journald behind its socket):
#     messages go to stderr with the "<N>" priority prefix the stream
#     understands;
#   - JOURNAL_STREAM naming another file: plain stderr lines.
# PASS:/FAIL: lines.
set -u
B=${B:-build}
X=$B/xensim/xensim
D=$B/tests/core/xenbackd-test
LISTEN=$B/e2e/e2e-notify
tmp=$(mktemp -d /tmp/xb-core.XXXX)
H=$tmp/h
trap 'timeout 30 $X stop "$H" >/dev/null 2>&1; rm -rf "$tmp"' EXIT INT TERM
pass() { echo "PASS: journal: $1"; }
fail() { echo "FAIL: journal: $1 ${2:-}"; }
check() { if eval "$2"; then pass "$1"; else fail "$1" "$3"; fi; }

if ! timeout 30 $X start "$H" >"$tmp/start.log" 2>&1 ||
	! timeout 30 $X create "$H" 5 >/dev/null 2>&1; then
	fail "simulated host starts" "($(tail -n 3 "$tmp/start.log"))"
	exit 1
fi
be=/local/domain/0/backend/xbt/5/1

# Runs in the namespace: the stand-in journal, the daemon, a device whose
# frontend-id is bad (one err line about it), journald going away, SIGHUP
# (one notice line), SIGTERM.
cat >"$tmp/ns.sh" <<'NS'
set -u
mount -t tmpfs tmpfs /run || exit 3
mkdir -p /run/systemd/journal
"$LISTEN" /run/systemd/journal/socket >"$tmp/journal.out" 2>&1 &
lp=$!
i=0; while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1)); done
: >"$tmp/stderr"
JOURNAL_STREAM=$(stat -c %d:%i "$tmp/stderr") "$D" --foreground \
	--log-level info -s "$tmp/ctl.sock" 2>>"$tmp/stderr" &
dp=$!
i=0; while ! grep -q 'READY\|xenbackd' "$tmp/journal.out" && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1)); done
xenstore-write "$be/frontend" /local/domain/5/device/xbt/1 \
	"$be/frontend-id" 5x "$be/state" 1
i=0; while ! grep -q 'XENBACKD_DEVICE=xbt/5/1' "$tmp/journal.out" &&
	[ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
cp "$tmp/stderr" "$tmp/stderr.before"
# journald gone, its socket left behind (the datagrams are refused).
kill "$lp"; wait "$lp" 2>/dev/null
kill -HUP "$dp"
i=0; while ! grep -q 'reloaded' "$tmp/stderr" && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1)); done
kill -TERM "$dp"; wait "$dp"
# JOURNAL_STREAM naming another file: plain stderr.
: >"$tmp/other"
JOURNAL_STREAM=$(stat -c %d:%i "$tmp/other") timeout 5 "$D" --foreground \
	-s "$tmp/ctl2.sock" 2>"$tmp/plain" &
dp=$!
sleep 1; kill -TERM "$dp"; wait "$dp"
NS
(eval "$($X env "$H" 0)" && export tmp be D LISTEN &&
	timeout 60 unshare -m sh "$tmp/ns.sh") >"$tmp/ns.log" 2>&1
rc=$?
check "a mount namespace with a stand-in journal socket" '[ $rc = 0 ]' \
	"(rc $rc: $(tail -n 3 "$tmp/ns.log"))"
j=$tmp/journal.out
check "stderr is the journal stream: messages sent as journal fields" \
	'grep -q "^MESSAGE=xenbackd .* in domain 0$" "$j" &&
	 grep -q "^SYSLOG_IDENTIFIER=xenbackd$" "$j" && grep -q "^PRIORITY=6$" "$j"' \
	"($(head -c 600 "$j"))"
check "a device's line carries XENBACKD_DOMID and XENBACKD_DEVICE, priority err" \
	'grep -A4 "^MESSAGE=xbt/5/1: backend node frontend-id is not a canonical number" "$j" |
	 grep -q "^PRIORITY=3$" &&
	 grep -A4 "^MESSAGE=xbt/5/1: backend node frontend-id" "$j" |
	 grep -q "^XENBACKD_DOMID=5$" &&
	 grep -A4 "^MESSAGE=xbt/5/1: backend node frontend-id" "$j" |
	 grep -q "^XENBACKD_DEVICE=xbt/5/1$"' "($(grep -A4 xbt/5/1 "$j" | head -12))"
check "nothing on stderr while the journal takes the messages" \
	'[ ! -s "$tmp/stderr.before" ]' "($(head -3 "$tmp/stderr.before"))"
check "journal refusing datagrams: stderr lines with the <N> priority prefix" \
	'grep -q "^<5>configuration reloaded" "$tmp/stderr"' \
	"($(head -5 "$tmp/stderr"))"
check "JOURNAL_STREAM of another file: plain stderr lines" \
	'grep -q "^xenbackd: info: xenbackd .* in domain 0$" "$tmp/plain"' \
	"($(head -3 "$tmp/plain"))"
