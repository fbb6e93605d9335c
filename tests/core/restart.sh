#!/bin/sh
# restart.sh: the daemon restarted under a guest doing verified disk I/O,
# on the simulated host with the real xenbackd and a blkfront guest
# (build/tests/blk/blk_sim_front verify: the whole disk written, then read
# back and compared, with 2 queues and indirect requests):
#   - killed outright (SIGKILL) and started again, and handed over
#     (`xenbackctl restart`: in-flight I/O answered, exit 75, the devices
#     left Connected), in turns, several times during the run;
#   - each successor adopts the device without the guest noticing (no
#     InitWait, "Connected (resumed)"), no request is lost (the guest
#     waits for every answer) and the data read back is what was written;
#   - then 32 random writes in flight all the time while the daemon is
#     killed again and again: the successor serves again what its
#     predecessor took and never answered (its journal), none is lost or
#     answered twice; a clean stop leaves no journal behind.
# A supervisor loop stands in for systemd (Restart=on-failure,
# RestartForceExitStatus=75). Both data paths: copy and map (persistent
# grants). PASS:/FAIL: lines.
set -u
tmp=$(mktemp -d /tmp/xb-core.XXXX)
H=$tmp/h
. tests/core/lib.sh
sup=
cleanup() {
	if [ -n "$sup" ]; then
		touch "$tmp/stop"
		kill "$sup" 2>/dev/null
		p=$(cat "$tmp/dpid" 2>/dev/null) && kill -KILL "$p" 2>/dev/null
		wait "$sup" 2>/dev/null
	fi
	timeout 30 $X stop "$H" >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS: restart: $1"; }
fail() {
	echo "FAIL: restart: $1 ${2:-}"
	tail -n 30 "$tmp/daemon.log" 2>/dev/null | sed 's/^/   | /'
}
answers() { timeout 5 "$CTL" -s "$tmp/ctl.sock" >/dev/null 2>&1; }
running() { [ -s "$tmp/dpid" ] && kill -0 "$(cat "$tmp/dpid")" 2>/dev/null; }

# The supervisor: starts the daemon again after a failure or a handover,
# as the unit makes systemd do; ends when it exits 0 (SIGTERM).
supervise() {
	while :; do
		(eval "$($X env "$H" 0)" && XENBACKD_BLK_DATA=$DATA \
			exec $B/xenbackd --foreground --kinds vbd \
			--log-target stderr --log-level info \
			--control-socket "$tmp/ctl.sock") >>"$tmp/daemon.log" 2>&1 &
		echo $! >"$tmp/dpid"
		wait $!
		rc=$?
		echo "exit $rc" >>"$tmp/exits"
		[ $rc = 0 ] || [ -e "$tmp/stop" ] && break
		sleep 0.1
	done
}

if ! timeout 30 $X start "$H" >"$tmp/start.log" 2>&1; then
	fail "simulated host starts" "($(tail -n 3 "$tmp/start.log"))"
	exit 1
fi
dom=3
for DATA in copy map; do
	P="$DATA: "
	: >"$tmp/daemon.log"; : >"$tmp/exits"; : >"$tmp/dpid"
	timeout 30 $X create "$H" $dom --mem 64 >/dev/null 2>&1 ||
		{ fail "${P}create domain $dom"; exit 1; }
	truncate -s 1G "$tmp/$dom.img"
	supervise 2>/dev/null &
	sup=$!
	wait_for 5 answers || { fail "${P}daemon starts"; exit 1; }
	add_vbd $dom 51712 "$tmp/$dom.img"
	flags="-q 2 -i 32"; [ $DATA = map ] && flags="$flags -p"
	timeout 200 $X run "$H" $dom -- $FRONT -n "$DATA" -d 51712 $flags \
		-S $((1024 * 2048)) -s $dom verify >"$tmp/guest.log" 2>&1 &
	guest=$!
	# Restarts in turns while the guest's I/O runs.
	kills=0 handovers=0 ok=1
	for i in 1 2 3 4 5 6; do
		sleep 0.6
		kill -0 $guest 2>/dev/null || break
		if [ $((i % 2)) = 1 ]; then
			kill -KILL "$(cat "$tmp/dpid")"
			kills=$((kills + 1))
		else
			timeout 60 "$CTL" -s "$tmp/ctl.sock" restart \
				>>"$tmp/ctl.log" 2>&1 || ok=0
			handovers=$((handovers + 1))
		fi
		wait_for 10 answers || ok=0
	done
	wait $guest
	grc=$?
	if [ $grc = 0 ] && ! grep -q '^FAIL' "$tmp/guest.log" &&
		grep -q 'PASS: .*whole-disk write then read-verify' "$tmp/guest.log"
	then pass "${P}guest's verified I/O intact across $kills kills and $handovers handovers"
	else fail "${P}guest's verified I/O intact across $kills kills and $handovers handovers" \
		"(rc $grc: $(grep -v '^PASS' "$tmp/guest.log" | head -5))"; fi
	if [ $ok = 1 ] && [ $handovers -ge 1 ] &&
		[ "$(grep -c 'exit 75' "$tmp/exits")" = $handovers ]
	then pass "${P}xenbackctl restart: exit 75, a successor answers"
	else fail "${P}xenbackctl restart: exit 75, a successor answers" \
		"($(cat "$tmp/exits" "$tmp/ctl.log" | tr '\n' ' '))"; fi
	r=$(grep -c "vbd/$dom/51712: Connected (resumed)" "$tmp/daemon.log")
	iw=$(grep -c "vbd/$dom/51712: InitWait" "$tmp/daemon.log")
	if [ "$r" -ge $((kills + handovers)) ] && [ "$iw" = 1 ]
	then pass "${P}each successor adopted the device in use (no InitWait)"
	else fail "${P}each successor adopted the device in use (no InitWait)" \
		"($r resumed for $((kills + handovers)) restarts, InitWait $iw times)"; fi
	if grep -q 'handed over: devices left connected' "$tmp/daemon.log"
	then pass "${P}handover logged"
	else fail "${P}handover logged"; fi
	# 32 random writes in flight all the time, killed outright: what
	# was taken and not answered is served again from the journal (no
	# request lost: the guest waits 10 s for each; none answered twice:
	# an unknown id fails it).
	add_vbd $dom 51728 "$tmp/$dom.img"
	timeout 120 $X run "$H" $dom -- $FRONT -n "$DATA-qd32" -d 51728 \
		-w randwrite -b 4096 -Q 32 -t 6 bench >"$tmp/bench.log" 2>&1 &
	guest=$!
	kills=0
	for i in 1 2 3 4 5 6; do
		sleep 0.7
		kill -0 $guest 2>/dev/null || break
		kill -KILL "$(cat "$tmp/dpid")"
		kills=$((kills + 1))
		wait_for 10 answers || break
	done
	wait $guest
	grc=$?
	served=$(grep -c 'request(s) to serve again' "$tmp/daemon.log")
	if [ $grc = 0 ] && grep -q 'PASS: .*bench run' "$tmp/bench.log" &&
		! grep -q '^FAIL' "$tmp/bench.log" && [ $kills -ge 3 ]
	then pass "${P}32 requests in flight, $kills kills: none lost or answered twice"
	else fail "${P}32 requests in flight, $kills kills: none lost or answered twice" \
		"(rc $grc: $(grep -v '^PASS' "$tmp/bench.log" | head -3))"; fi
	# The stop, bounded: SIGKILL if SIGTERM is not done in 20 s.
	touch "$tmp/stop"
	kill -TERM "$(cat "$tmp/dpid")"
	if ! wait_for 20 eval '! running'; then
		fail "${P}SIGTERM stops the daemon within 20 s"
		kill -KILL "$(cat "$tmp/dpid")"
	fi
	wait $sup
	sup=
	rm -f "$tmp/stop"
	if ls "$tmp"/vbd-*.journal >/dev/null 2>&1
	then fail "${P}no journal left after the stop" "($(ls "$tmp"))"
	else pass "${P}no journal left after the stop"; fi
	timeout 30 $X destroy "$H" $dom >/dev/null 2>&1
	as0 xenstore-rm "/local/domain/0/backend/vbd/$dom" 2>/dev/null
	rm -f "$tmp/$dom.img"
	dom=$((dom + 1))
done
