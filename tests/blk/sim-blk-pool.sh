#!/bin/sh
# sim-blk-pool.sh: a queue's buffer pool (blk/pool.c) is faulted in by
# the queue's own worker before it serves, never by the main thread
# (which serves every device's xenstore events and the control socket:
# faulting 4 MiB a queue in, compacting memory for huge pages, is no
# work for it); only where the queue moves data through it (copy mode,
# large reads in map mode); and a host with no memory to give fails that
# device with one log line, while the daemon and other devices carry on.
# The daemon runs with tests/blk/populate_shim.so preloaded, which
# records which thread populates how much, and can refuse the memory.
# PASS:/FAIL: lines.
set -u
tmp=$(mktemp -d /tmp/xb-blkpool.XXXX)
shm=$(mktemp -d /dev/shm/xb-blkpool.XXXX)
H=$tmp/h
BLK_CASE="pool: "
BLK_LOG_TAIL=30
. tests/blk/lib.sh
SHIM=$(readlink -f "$B/tests/blk/populate_shim.so")
POOL_BYTES=$((1024 * 4096))
fpid=
cleanup() {
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
	host_stop
	rm -rf "$tmp" "$shm"
}
trap cleanup EXIT INT TERM

# pool_daemon DATA [FAIL [NOTHP]]: the daemon under vbd-data DATA with
# the shim, its record in $tmp/populate.log (emptied), refusing memory if
# FAIL is 1, huge pages if NOTHP is 1.
pool_daemon() {
	: >"$tmp/populate.log"
	BLK_DAEMON_ENV="XENBACKD_BLK_DATA=$1 LD_PRELOAD=$SHIM XB_POPULATE_LOG=$tmp/populate.log XB_POPULATE_FAIL=${2:-0} XB_HUGEPAGE_REFUSE=${3:-0}"
	daemon_start "$tmp/ctl.sock" --log-level info
	daemon_started || { fail "daemon runs (vbd-data = $1)"; exit 1; }
}

# reads NAME DEVID QUEUES SEGS: a blkfront with QUEUES queues writes and
# reads back reads of SEGS segments (data compared).
reads() {
	if front_ok "$tmp/$1.out" -d "$2" -q "$3" -i 256 -p -w "$4" \
		-n "pool: $1" segs; then
		pass "$1: data read back"
	else
		fail "$1: data read back" "$(front_fails "$tmp/$1.out")"
	fi
}

# populated NAME N: the record holds exactly N pools of POOL_BYTES, each
# populated by a thread other than the process's main thread.
populated() {
	total=$(wc -l <"$tmp/populate.log")
	off_main=$(awk -v b=$POOL_BYTES '$1 != $2 && $3 == b' \
		"$tmp/populate.log" | wc -l)
	if [ "$total" -eq "$2" ] && [ "$off_main" -eq "$2" ]; then
		pass "$1: $2 pool(s) faulted in, each by its queue's worker"
	else
		fail "$1: $2 pool(s) faulted in, each by its queue's worker" \
			"($total populates, $off_main off the main thread: $(tr '\n' ';' <"$tmp/populate.log"))"
	fi
}

host_start 1
truncate -s 16M "$tmp/disk.img" "$shm/mem.img"

# ---- auto: large reads through the pools of 4 queues ------------------
pool_daemon auto
vbd_add 1 51712 "$tmp/disk.img" w disk
reads large-reads-4-queues 51712 4 1,255,256
populated large-reads-4-queues 4
list_line 51712
if [ "$(word large-reads)" = grant-copy ] && [ "$(word copy_reads)" -ge 4 ]
then pass "large-reads-4-queues: the reads went through the pool ($(word copy_reads))"
else fail "large-reads-4-queues: the reads went through the pool" "($line)"
fi
del_vbd 1 51712
# Map mode without large reads: the pool is only a bound, never touched.
: >"$tmp/populate.log"
vbd_add 1 51728 "$shm/mem.img" w disk
reads map-on-tmpfs 51728 2 1,256
populated map-on-tmpfs 0
del_vbd 1 51728
daemon_stops_cleanly

# ---- copy: every queue's pool --------------------------------------------
pool_daemon copy
vbd_add 1 51744 "$tmp/disk.img" w disk
reads copy-2-queues 51744 2 1,256
populated copy-2-queues 2
del_vbd 1 51744
daemon_stops_cleanly

# ---- no huge pages: the pools are scattered, large reads stay mapped --
pool_daemon auto 0 1
vbd_add 1 51792 "$tmp/disk.img" w disk
reads no-huge-pages 51792 2 1,255,256
populated no-huge-pages 2
list_line 51792
c="large-reads=$(word large-reads) large-reads-why=$(word large-reads-why) copy_reads=$(word copy_reads)"
if [ "$c" = "large-reads=grant-map large-reads-why=pool-not-on-huge-pages copy_reads=0" ]
then pass "no-huge-pages: large reads mapped ($c)"
else fail "no-huge-pages: large reads mapped" "($line)"
fi
n=$(grep -c "vbd/1/51792: .*large reads by grant map (pool-not-on-huge-pages)" 	"$tmp/daemon.log")
if [ "$n" -eq 1 ]; then pass "no-huge-pages: logged once"
else fail "no-huge-pages: logged once" "($n lines)"
fi
del_vbd 1 51792
daemon_stops_cleanly

# ---- no memory to give: that device fails, nothing else ------------------
pool_daemon auto 1
vbd_add 1 51760 "$tmp/disk.img" w disk
timeout 60 $X run "$H" 1 -- "$FRONT" -d 51760 -i 256 -p -w 256 \
	-n "pool: no-memory" segs >"$tmp/nomem.out" 2>&1 &
fpid=$!
if wait_be 1 51760 state 6; then
	pass "no-memory: the device is closed"
else
	fail "no-memory: the device is closed" "(state $(be_read 1 51760 state))"
fi
err=$(be_read 1 51760 error)
case "$err" in
"12 queue "*": cannot get 4096 KiB of memory for its buffers: "*)
	pass "no-memory: its error node says why ($err)" ;;
*) fail "no-memory: its error node says why" "($err)" ;;
esac
kill "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null
fpid=
n=$(grep -c "vbd/1/51760.*cannot get 4096 KiB of memory" "$tmp/daemon.log")
if [ "$n" -eq 1 ]; then pass "no-memory: one log line naming the device"
else fail "no-memory: one log line naming the device" "($n lines)"
fi
del_vbd 1 51760
# The daemon carries on: another disk (map, nothing to populate) serves.
vbd_add 1 51776 "$shm/mem.img" w disk
reads no-memory-other-disk 51776 1 1,256
if ctl list >/dev/null; then pass "no-memory: xenbackctl answers"
else fail "no-memory: xenbackctl answers"
fi
del_vbd 1 51776
daemon_stops_cleanly
exit 0
