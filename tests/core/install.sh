#!/bin/sh
# make install into a scratch DESTDIR: binaries, the unit with its path
# filled in (and accepted by systemd-analyze), the default configuration
# (accepted by the daemon, never overwritten).
cd "$(dirname "$0")/../.." || exit 1
d=$(mktemp -d /tmp/xb-core-inst.XXXXXX)
trap 'rm -rf "$d"' EXIT
check() { if eval "$2"; then echo "PASS: $1"; else echo "FAIL: $1"; fi; }

make --no-print-directory install DESTDIR="$d" PREFIX=/usr >"$d.log" 2>&1
check "make install succeeds" '[ $? -eq 0 ]'
rm -f "$d.log"
check "daemon and xenbackctl installed" \
	'[ -x "$d/usr/sbin/xenbackd" ] && [ -x "$d/usr/bin/xenbackctl" ]'
u="$d/lib/systemd/system/xenbackd.service"
check "unit installed with ExecStart filled in" \
	'grep -qx "ExecStart=/usr/sbin/xenbackd --foreground" "$u"'
check "unit is Type=notify with a watchdog and restart on failure" \
	'grep -qx "Type=notify" "$u" && grep -q "^WatchdogSec=" "$u" &&
	 grep -qx "Restart=on-failure" "$u"'
check "unit restarts a handed-over daemon (exit 75) as a success" \
	'grep -qx "SuccessExitStatus=75" "$u" &&
	 grep -qx "RestartForceExitStatus=75" "$u" &&
	 grep -q "^#define XB_EXIT_HANDOVER 75$" backend/service.h'
if command -v systemd-analyze >/dev/null; then
	v="$d/xenbackd.service"
	sed "s|/usr/sbin/xenbackd|$d/usr/sbin/xenbackd|" "$u" >"$v"
	out=$(systemd-analyze verify "$v" 2>&1)
	check "systemd-analyze verify accepts the unit" '[ -z "$out" ] || { echo "$out"; false; }'
fi
c="$d/etc/xenbackd.conf"
check "default configuration installed" '[ -f "$c" ]'
check "the daemon accepts the default configuration" \
	'build/tests/core/xenbackd-test -c "$c" --kinds nosuch 2>&1 |
	 grep -q "kinds: .nosuch. is not built in"'
echo "kinds = vbd" >"$c"
make --no-print-directory install DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
check "an existing configuration is kept" '[ "$(cat "$c")" = "kinds = vbd" ]'
