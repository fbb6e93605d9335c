#!/bin/sh
# bench/blk.sh: the block backend against native I/O on the same backing,
# in the same run (`make bench`).
#
# For each medium (a file on the machine's disk, a file on tmpfs) and each
# workload, fio with libaio and O_DIRECT runs natively on the backing file,
# and a simulated guest (build/tests/blk/blk_sim_front, bench scenario)
# runs the same workload through xenbackd on the simulated Xen host, onto
# the same file. One line per result:
#   bench blk <workload>: xenbackd <v> <unit>, native <v> <unit>, ratio <x>
# The workloads: 4 KiB random at depth 1 and 32 (IOPS), 128 KiB random
# at depth 8 (MB/s; Linux blkfront's usual request, 32 segments in an
# indirect one; on disk only), 1 MiB sequential at depth 4 (MB/s).
# Throughput ratios are xenbackd/native (1 is native speed); the "-cpu"
# lines give CPU time per I/O (the daemon's own, from /proc; fio's usr+sys
# for native) and their ratio xenbackd/native (lower is better).
#
# Rounds: a single run says little on a shared or virtual machine (native
# fio alone ranged 10-21K IOPS at depth 1 on this disk from one 3 s run to
# the next). So each workload runs in rounds, each round a native run and
# a xenbackd run back to back (the order alternating: N X, X N, N X...).
# The line gives the median of each side's values and the median of the
# rounds' ratios: a ratio is taken within a round, whose two runs share
# the machine's state, so a slow moment for both cancels out, and the
# median ignores a round that one side lost to a disturbance. (So the
# ratio is not exactly the quotient of the two medians.) Each round is
# also printed on stderr, starting with '#'.
#
# BENCH_BLK_ROUNDS rounds per workload (default 5 on disk, where the device
# is the noise, 3 on tmpfs, where only CPU counts); BENCH_BLK_SECONDS
# (default 2) per run; BENCH_BLK_MB (default 256) file size;
# BENCH_BLK_DATA=copy|map to choose the daemon's data path (default: its
# own default); a list ("copy map") runs one xenbackd arm per data path in
# every round (each vbd gets direct-io-safe 0 or 1, the daemon stays on
# auto), each arm's lines named WORKLOAD@ARM; the daemon's other settings
# come from the environment (e.g. XENBACKD_BLK_POLL_US=0 to compare
# without polling).
# BENCH_BLK_CPU_DAEMON, BENCH_BLK_CPU_FRONT, BENCH_BLK_CPU_NATIVE: CPU
# lists (taskset -c) for placement experiments; unset, unpinned.
# BENCH_BLK_RELAY: polling budgets (us) of extra arms running blk_relay,
# the floor of any two-process backend (tests/blk/blk_relay.c); their
# rounds and medians on stderr.
# BENCH_BLK_DAEMONS="LABEL=PATH ...": an A/B of daemon binaries (e.g. the
# previous build against this one): one xenbackd arm per binary in every
# round, each run on a daemon of its own started for it, lines named
# WORKLOAD@LABEL (labels: letters, digits, _); not with a BENCH_BLK_DATA
# list.
# BENCH_BLK_ONLY: a grep -E pattern of the workloads to run (e.g.
# 'randread-4k-qd1-tmpfs'); BENCH_BLK_MEDIA: disk, tmpfs or both.
set -eu
B=${B:-build}
X=$B/xensim/xensim
FRONT=$B/tests/blk/blk_sim_front
DAEMON=$B/xenbackd
RELAY=$B/tests/blk/blk_relay
# Placement experiments: BENCH_BLK_CPU_{DAEMON,FRONT,NATIVE}, a CPU list
# for taskset each (default: the scheduler's choice).
pin() { [ -n "$1" ] && echo "taskset -c $1"; }
PIN_DAEMON=$(pin "${BENCH_BLK_CPU_DAEMON:-}") || true
PIN_FRONT=$(pin "${BENCH_BLK_CPU_FRONT:-}") || true
PIN_NATIVE=$(pin "${BENCH_BLK_CPU_NATIVE:-}") || true
SECS=${BENCH_BLK_SECONDS:-2}
MB=${BENCH_BLK_MB:-256}
HZ=$(getconf CLK_TCK)

tmp=$(mktemp -d /tmp/xb-blk.XXXX)
shm=$(mktemp -d /dev/shm/xb-blk.XXXX)
H=$tmp/h
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	timeout 30 $X stop "$H" >/dev/null 2>&1 || true
	rm -rf "$tmp" "$shm"
}
trap cleanup EXIT INT TERM

as0() { timeout 20 $X run "$H" 0 -- "$@"; }
add_vbd() {
	d=$1 v=$2 params=$3 dio=${4:-}
	be=/local/domain/0/backend/vbd/$d/$v
	fe=/local/domain/$d/device/vbd/$v
	as0 xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 \
		"$fe/state" 1 "$fe/virtual-device" "$v" "$fe/device-type" disk
	as0 xenstore-chmod -r "$fe" "n$d" r0
	as0 xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$d" \
		"$be/online" 1 "$be/params" "$params" "$be/mode" w \
		"$be/device-type" disk "$be/state" 1
	[ -z "$dio" ] || as0 xenstore-write "$be/direct-io-safe" "$dio"
	as0 xenstore-chmod -r "$be" n0 "r$d"
}
del_vbd() {
	as0 xenstore-rm "/local/domain/0/backend/vbd/$1/$2" 2>/dev/null || true
	as0 xenstore-rm "/local/domain/$1/device/vbd/$2" 2>/dev/null || true
}
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$dpid"/stat; }

timeout 30 $X start "$H" >/dev/null
# The guest asks for persistent grants, as Linux's blkfront does by default.
FRONT_OPTS=-p
# Data path arms: one xenbackd run per arm and round.
ARMS=-
case ${BENCH_BLK_DATA:-} in
'') ;;
*' '*) ARMS=$BENCH_BLK_DATA ;;
*) export XENBACKD_BLK_DATA="$BENCH_BLK_DATA" ;;
esac
arm_dio() { case $1 in copy) echo 0 ;; map) echo 1 ;; esac; }
# Daemon arms: ARMS are their labels, daemon_<label> their binaries.
DAEMON_ARMS=
if [ -n "${BENCH_BLK_DAEMONS:-}" ]; then
	[ "$ARMS" = - ] || {
		echo "bench blk: BENCH_BLK_DAEMONS with a BENCH_BLK_DATA list" >&2
		exit 2
	}
	ARMS=
	for d in $BENCH_BLK_DAEMONS; do
		l=${d%%=*} p=${d#*=}
		case $l in '' | *[!A-Za-z0-9_]*)
			echo "bench blk: bad daemon label in '$d'" >&2; exit 2 ;;
		esac
		[ -x "$p" ] || { echo "bench blk: $p: not executable" >&2; exit 2; }
		eval "daemon_$l=\$p"
		ARMS="$ARMS $l"
	done
	DAEMON_ARMS=1
fi
# start_daemon BINARY: the daemon serving vbd on the simulated host.
start_daemon() {
	rm -f "$tmp/ctl.sock"
	(eval "$($X env "$H" 0)" && exec $PIN_DAEMON "$1" --foreground --kinds vbd --log-target stderr \
		--log-level warning --control-socket "$tmp/ctl.sock") \
		>>"$tmp/daemon.log" 2>&1 &
	dpid=$!
	i=0
	while [ ! -S "$tmp/ctl.sock" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
stop_daemon() {
	kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null || true
	dpid=
}
[ -n "$DAEMON_ARMS" ] || start_daemon "$DAEMON"

devid=51712
dom=0
# Sets n_iops, n_kbs (KiB/s) and n_us (CPU us per I/O) from one fio run.
run_native() {
	file=$1 rw=$2 bs=$3 qd=$4
	d0=$(dev_snap)
	out=$($PIN_NATIVE fio --name=n --filename="$file" --direct=1 --ioengine=libaio \
		--rw="$rw" --bs="$bs" --iodepth="$qd" --runtime="$SECS" \
		--time_based --size="${MB}M" --norandommap --randrepeat=0 \
		--output-format=terse --terse-version=3 2>/dev/null)
	n_iops=$(echo "$out" | awk -F';' '{ print $8 + $49 }')
	n_kbs=$(echo "$out" | awk -F';' '{ print $7 + $48 }')
	n_cpu=$(echo "$out" | awk -F';' '{ u = $88; s = $89; sub("%", "", u);
		sub("%", "", s); print u + s }')
	n_us=$(awk -v c="$n_cpu" -v i="$n_iops" \
		'BEGIN { printf "%.2f", (i > 0) ? c / 100 * 1000000 / i : 0 }')
	dev_report native "$d0" "$(dev_snap)" \
		"$(echo "$out" | awk -F';' '{ print ($8 * $9 + $49 * $50) / 1000 }')"
}

# Sets x_iops and x_us (the daemon's CPU us per I/O) from one run of the
# simulated guest, on a vbd of its own.
run_xenbackd() {
	file=$1 rw=$2 bs=$3 qd=$4
	devid=$((devid + 16))
	if [ -n "$DAEMON_ARMS" ]; then
		eval "start_daemon \"\$daemon_$arm\""
	fi
	add_vbd $dom $devid "$file" "$(arm_dio "$arm")"
	t0=$(cpu_ticks)
	d0=$(dev_snap)
	res=$(timeout $((SECS + 60)) $X run "$H" $dom -- $PIN_FRONT "$FRONT" -d $devid \
		-i 256 $FRONT_OPTS -w "$rw" -b "$bs" -Q "$qd" -t "$SECS" -n bench bench 2>&1) || true
	t1=$(cpu_ticks)
	d1=$(dev_snap)
	del_vbd $dom $devid
	[ -z "$DAEMON_ARMS" ] || stop_daemon
	line=$(echo "$res" | grep '^BENCH') || {
		echo "bench blk $name: failed: $(echo "$res" | grep FAIL)" >&2
		return 1
	}
	ios=$(echo "$line" | sed 's/.*ios=\([0-9]*\).*/\1/')
	secs=$(echo "$line" | sed 's/.*secs=\([0-9.]*\).*/\1/')
	x_iops=$(awk -v i="$ios" -v s="$secs" 'BEGIN { printf "%.0f", i / s }')
	x_us=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v i="$ios" \
		'BEGIN { printf "%.2f", (i > 0) ? t / hz * 1000000 / i : 0 }')
	dev_report "xenbackd$(arm_at "$arm")" "$d0" "$d1" "$ios"
}

# BENCH_BLK_DEVSTAT=DISK (e.g. vda): for each run, what the disk under the
# file saw (/sys/block/DISK/stat, the whole disk, so only meaningful on an
# idle machine), on stderr: device requests per I/O, their mean latency
# (await, ms), the mean number in the device's queue (aqu), its busy
# fraction (util).
# With BENCH_BLK_SYSCPU=1 also the whole machine's CPU per I/O (every
# process, user + system + interrupts, from /proc/stat) and its idle
# share: what native fio or the daemon and its guest together take of
# the vCPUs (also only meaningful on an idle machine).
dev_snap() {
	[ -n "${BENCH_BLK_DEVSTAT:-}${BENCH_BLK_SYSCPU:-}" ] || return 0
	echo "$(date +%s%N) $(cat "/sys/block/${BENCH_BLK_DEVSTAT:-vda}/stat" 2>/dev/null ||
		echo 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0) $(head -1 /proc/stat | cut -d' ' -f2-)"
}
dev_report() { # WHO BEFORE AFTER IOS
	[ -n "${BENCH_BLK_SYSCPU:-}" ] && echo "$2 $3" | awk -v who="$1" \
		-v ios="$4" -v n="$name" -v hz="$HZ" '{
		k = NF / 2; c = 19;
		b = 0; for (f = c; f <= c + 6; f++) if (f != c + 3 && f != c + 4)
			b += $(k + f) - $f;
		i = ($(k + c + 3) - $(c + 3)) + ($(k + c + 4) - $(c + 4));
		printf "# blk %s %s machine: %.2f us CPU/IO, idle %.0f%%\n",
			n, who, (ios > 0) ? b / hz * 1e6 / ios : 0,
			(b + i > 0) ? i * 100 / (b + i) : 0 }' >&2
	[ -n "${BENCH_BLK_DEVSTAT:-}" ] || return 0
	echo "$2 $3" | awk -v who="$1" -v ios="$4" -v n="$name" '{
		k = NF / 2; t = ($(k + 1) - $1) / 1e6;
		rq = ($(k + 2) - $2) + ($(k + 6) - $6);
		tk = ($(k + 5) - $5) + ($(k + 9) - $9);
		printf "# blk %s %s dev: %.2f requests/IO, await %.3f ms, aqu %.1f, util %.0f%%\n",
			n, who, (ios > 0) ? rq / ios : 0, (rq > 0) ? tk / rq : 0,
			($(k + 12) - $12) / t, ($(k + 11) - $11) * 100 / t }' >&2
}

# The median of the numbers given as arguments (the mean of the middle two
# for an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# BENCH_BLK_RELAY: a list of polling budgets (us) for blk_relay, the floor
# of any two-process backend (tests/blk/blk_relay.c): each is one more
# arm of every round, its ratio to the round's native run on stderr.
run_relays() {
	for p in ${BENCH_BLK_RELAY:-}; do
		out=$($PIN_NATIVE "$RELAY" ${BENCH_BLK_CPU_FRONT:+-F $BENCH_BLK_CPU_FRONT} \
			${BENCH_BLK_CPU_DAEMON:+-B $BENCH_BLK_CPU_DAEMON} -f "$1" -m relay -w "${2#rand}" -b "$(bs_bytes "$3")" \
			-Q "$4" -t "$SECS" -p "$p") || out=
		eval "relay_v_$p=\$(echo \"\$out\" | sed -n 's/.* iops=\([0-9.]*\).*/\1/p')"
		eval "relay_c_$p=\$(echo \"\$out\" | sed -n 's/.* cpu_us=\([0-9.]*\).*/\1/p')"
	done
}
bs_bytes() { case $1 in 4k) echo 4096 ;; 128k) echo 131072 ;; 1m) echo 1048576 ;; esac; }
# mbs IOS_PER_S: the throughput of I/Os of $bs, in MB/s.
mbs() { awk -v i="$1" -v b="$(bs_bytes "$bs")" 'BEGIN { printf "%.1f", i * b / 1e6 }'; }
# relay_ratios NATIVE: the relay arms' values of this round, as the line's
# unit (IOPS or MB/s), against native.
relay_ratios() {
	for p in ${BENCH_BLK_RELAY:-}; do
		c='' v=''
		eval "v=\$relay_v_$p c=\$relay_c_$p"
		[ "$bs" = 4k ] || v=$(mbs "$v")
		rr=$(awk -v x="$v" -v b="$1" 'BEGIN { printf "%.3f", (b > 0) ? x / b : 0 }')
		eval "relay_$p=\"\$relay_$p $rr\""
		echo "# blk $name round $((r + 1))/$rounds relay-p$p: $v ratio $rr; cpu us/IO $c" >&2
	done
}

# run_one NAME FILE RW BS QD ROUNDS
run_xenbackd_arms() {
	for arm in $arm_order; do
		run_xenbackd "$@"
		eval "x_iops_$(arm_id "$arm")=\$x_iops x_us_$(arm_id "$arm")=\$x_us"
	done
}
arm_id() { case $1 in -) echo d ;; *) echo "$1" ;; esac; }
reverse() { rev=''; for w in "$@"; do rev="$w $rev"; done; echo "$rev"; }
arm_at() { case $1 in -) ;; *) echo "@$1" ;; esac; }

# run_one NAME FILE RW BS QD ROUNDS
run_one() {
	name=$1 file=$2 rw=$3 bs=$4 qd=$5 rounds=$6
	if [ -n "${BENCH_BLK_ONLY:-}" ] &&
		! echo "$name" | grep -Eqx -- "$BENCH_BLK_ONLY"; then
		return 0
	fi
	# A guest of its own per workload, so workloads do not share one:
	# each run's simulated blkfront holds ~4.1 MiB of the guest's
	# memory (its pool) while it runs (given back at close since
	# session 5; the size below still allows one pool per run).
	dom=$((dom + 1))
	narms=$(echo $ARMS | wc -w)
	timeout 30 $X create "$H" $dom --mem $((8 + 5 * rounds * narms)) >/dev/null
	ns='' ncs=''
	for arm in $ARMS; do
		a=$(arm_id "$arm")
		eval "xs_$a='' rs_$a='' xcs_$a='' rcs_$a=''"
	done
	for p in ${BENCH_BLK_RELAY:-}; do eval "relay_$p=''"; done
	r=0
	while [ $r -lt "$rounds" ]; do
		# Native and xenbackd back to back, the order alternating
		# (N X, X N, N X...): a pair shares the machine's moment,
		# and neither side is always first.
		if [ $((r % 2)) -eq 0 ]; then
			arm_order=$ARMS
			run_native "$file" "$rw" "$bs" "$qd"
			run_xenbackd_arms "$file" "$rw" "$bs" "$qd"
			run_relays "$file" "$rw" "$bs" "$qd"
		else
			# shellcheck disable=SC2086 # one word per arm
			arm_order=$(reverse $ARMS)
			run_relays "$file" "$rw" "$bs" "$qd"
			run_xenbackd_arms "$file" "$rw" "$bs" "$qd"
			run_native "$file" "$rw" "$bs" "$qd"
		fi
		if [ "$bs" = 4k ]; then
			n=$n_iops
		else
			n=$(awk -v k="$n_kbs" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
		fi
		ns="$ns $n" ncs="$ncs $n_us"
		r=$((r + 1))
		for arm in $ARMS; do
			a=$(arm_id "$arm")
			eval "x=\$x_iops_$a x_us=\$x_us_$a"
			[ "$bs" = 4k ] || x=$(mbs "$x")
			ratio=$(awk -v x="$x" -v b="$n" 'BEGIN { printf "%.3f", (b > 0) ? x / b : 0 }')
			rcpu=$(awk -v x="$x_us" -v b="$n_us" 'BEGIN { printf "%.3f", (b > 0) ? x / b : 0 }')
			eval "xs_$a=\"\$xs_$a $x\" rs_$a=\"\$rs_$a $ratio\""
			eval "xcs_$a=\"\$xcs_$a $x_us\" rcs_$a=\"\$rcs_$a $rcpu\""
			[ "$rounds" -gt 1 ] &&
				echo "# blk $name$(arm_at "$arm") round $r/$rounds: xenbackd $x native $n ratio $ratio; cpu us/IO $x_us $n_us" >&2
		done
		r=$((r - 1))
		relay_ratios "$n"
		r=$((r + 1))
	done
	# shellcheck disable=SC2086 # word splitting wanted: one value each
	mn=$(median $ns) mnc=$(median $ncs)
	for arm in $ARMS; do
		a=$(arm_id "$arm")
		lname=$name$(arm_at "$arm")
		eval "xs=\$xs_$a rs=\$rs_$a xcs=\$xcs_$a rcs=\$rcs_$a"
		# shellcheck disable=SC2086,SC2154
		mx=$(median $xs) mr=$(median $rs) mxc=$(median $xcs) mrc=$(median $rcs)
		if [ "$bs" = 4k ]; then
			printf 'bench blk %s: xenbackd %.0f IOPS, native %.0f IOPS, ratio %.3f\n' \
				"$lname" "$mx" "$mn" "$mr"
		else
			printf 'bench blk %s: xenbackd %.1f MB/s, native %.1f MB/s, ratio %.3f\n' \
				"$lname" "$mx" "$mn" "$mr"
		fi
		printf 'bench blk %s-cpu: xenbackd %.2f us/IO, native %.2f us/IO, ratio %.3f\n' \
			"$lname" "$mxc" "$mnc" "$mrc"
	done
	timeout 30 $X destroy "$H" $dom >/dev/null 2>&1 || true
	for p in ${BENCH_BLK_RELAY:-}; do
		eval "v=\$relay_$p"
		# shellcheck disable=SC2086,SC2154
		echo "# blk $name relay-p$p (median of rounds): ratio to native $(median $v)" >&2
	done
}

for medium in ${BENCH_BLK_MEDIA:-disk tmpfs}; do
	if [ $medium = disk ]; then
		dir=$tmp sfx='' rounds=5
	else
		dir=$shm sfx=-tmpfs rounds=3
	fi
	f=$dir/bench.img
	# Written through, so that reads hit real data, not holes.
	dd if=/dev/urandom of="$f" bs=1M count="$MB" status=none
	sync
	nr=${BENCH_BLK_ROUNDS:-$rounds}
	run_one randread-4k-qd1$sfx "$f" randread 4k 1 "$nr"
	run_one randread-4k-qd32$sfx "$f" randread 4k 32 "$nr"
	run_one randwrite-4k-qd1$sfx "$f" randwrite 4k 1 "$nr"
	run_one randwrite-4k-qd32$sfx "$f" randwrite 4k 32 "$nr"
	# Linux blkfront's usual request (32 segments: its default
	# max_indirect_segments), on disk only (the bench's time).
	if [ $medium = disk ]; then
		run_one randread-128k-qd8 "$f" randread 128k 8 "$nr"
		run_one randwrite-128k-qd8 "$f" randwrite 128k 8 "$nr"
	fi
	run_one seqread-1m$sfx "$f" read 1m 4 "$nr"
	run_one seqwrite-1m$sfx "$f" write 1m 4 "$nr"
	rm -f "$f"
done
