# lib.sh: dom0's side of the e2e harness, sourced by /init and by every
# scenario's dom0() function (busybox sh).
#
# Markers on the console, read by the host's run.sh:
#   @@E2E <uptime> STAGE <what>        boot progress, with timings
#   @@E2E <uptime> BEGIN <scenario>
#   @@E2E <uptime> PASS <scenario>
#   @@E2E <uptime> FAIL <scenario> <why>
#   @@E2E <uptime> NOTFOR <scenario> <mode>   not run in this mode
#   @@E2E <uptime> END <N passed, N failed>
#   @@E2E <uptime> ABORT <why>         dom0 could not get ready
# A scenario's own output and, on failure, its diagnostics are printed
# between BEGIN and PASS/FAIL with the prefix "| ".

E2E_DIR=/tmp/e2e
E2E_XL_TIMEOUT=150
E2E_SCENARIO_TIMEOUT=${E2E_SCENARIO_TIMEOUT:-400}
E2E_GUEST_KERNEL=/e2e/guest/vmlinux
E2E_GUEST_INITRD=/e2e/guest/initrd.cpio
E2E_DAEMON_LOG=/var/log/xenbackd.log
E2E_NOTIFY_LOG=/var/log/xenbackd.notify
mkdir -p "$E2E_DIR"

e2e_uptime() { cut -d' ' -f1 /proc/uptime; }
e2e_mark() { echo "@@E2E $(e2e_uptime) $*" >/dev/console; }
e2e_abort() {
	if [ -s "$E2E_DAEMON_LOG" ]; then
		echo "-- xenbackd's log"
		tail -n 40 "$E2E_DAEMON_LOG"
		echo "-- its sd_notify messages"
		tail -n 10 "$E2E_NOTIFY_LOG"
	fi >/dev/console 2>&1
	e2e_mark ABORT "$*"
	sync
	poweroff -f
}

# Kernel command line: e2e.mode=kernel|xenbackd, e2e.only=a,b,c,
# e2e.devices=vbd,vif (the kinds the usual guest gets, e2e_std_guest),
# e2e.blkdata=copy|map (the daemon's XENBACKD_BLK_DATA, docs/blk.md).
e2e_params() {
	E2E_MODE=xenbackd
	E2E_ONLY=
	E2E_DEVICES="vbd vif"
	for w in $(cat /proc/cmdline); do
		case "$w" in
		e2e.mode=*) E2E_MODE=${w#e2e.mode=} ;;
		e2e.only=*) E2E_ONLY=$(echo "${w#e2e.only=}" | tr ',' ' ') ;;
		e2e.devices=*) E2E_DEVICES=$(echo "${w#e2e.devices=}" | tr ',' ' ') ;;
		e2e.blkdata=*) export XENBACKD_BLK_DATA=${w#e2e.blkdata=} ;;
		esac
	done
	export E2E_MODE E2E_ONLY E2E_DEVICES
}

# True when the usual guest gets a device of kind $1 (vbd, vif).
e2e_has_dev() {
	case " $E2E_DEVICES " in *" $1 "*) return 0 ;; esac
	return 1
}

# ---- the daemon -------------------------------------------------------

# The command line of units/xenbackd.service's ExecStart, as installed
# with SBINDIR=/usr/sbin (systemd's "-" and "@" prefixes dropped).
e2e_unit_cmdline() {
	sed 's|@SBINDIR@|/usr/sbin|g' /e2e/xenbackd.service |
		sed -n 's/^ExecStart=[-@:+!]*//p' | head -n 1
}

# Start xenbackd as its unit does, its log to a file copied to the console
# ("xenbackd| " lines), its sd_notify messages to $E2E_NOTIFY_LOG; wait for
# READY=1 (10 s). Its pid goes to /run/xenbackd.pid and, once it exits,
# its exit code to /run/xenbackd.rc (processes started by any shell, so a
# scenario can stop and start it).
e2e_start_xenbackd() {
	local cmd i
	[ -x /usr/sbin/xenbackd ] || { echo "no /usr/sbin/xenbackd"; return 1; }
	[ -r /e2e/xenbackd.service ] || { echo "no xenbackd.service"; return 1; }
	e2e_assert_no_kernel_backends || return 1
	cmd=$(e2e_unit_cmdline)
	[ -n "$cmd" ] || { echo "no ExecStart in xenbackd.service"; return 1; }
	touch "$E2E_DAEMON_LOG"
	if [ ! -e /run/e2e-log-tail.pid ]; then
		tail -n 0 -F "$E2E_DAEMON_LOG" 2>/dev/null |
			awk '{ print "xenbackd| " $0; fflush() }' >/dev/console &
		echo $! >/run/e2e-log-tail.pid
	fi
	: >"$E2E_NOTIFY_LOG"
	rm -f /run/e2e-notify /run/xenbackd.pid /run/xenbackd.rc
	e2e-notify /run/e2e-notify >>"$E2E_NOTIFY_LOG" 2>&1 &
	echo $! >/run/e2e-notify.pid
	i=0
	while [ ! -S /run/e2e-notify ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	echo "$(e2e_uptime) starting: $cmd" >>"$E2E_DAEMON_LOG"
	(
		# shellcheck disable=SC2086
		NOTIFY_SOCKET=/run/e2e-notify sh -c \
			'echo $$ >/run/xenbackd.pid; exec "$@"' xenbackd $cmd
		echo $? >/run/xenbackd.rc
	) >>"$E2E_DAEMON_LOG" 2>&1 </dev/null &
	e2e_wait 10 e2e_ready_or_exited
	if [ -e /run/xenbackd.rc ]; then
		echo "xenbackd exited $(cat /run/xenbackd.rc) before READY=1"
		return 1
	fi
	grep -q '^READY=1' "$E2E_NOTIFY_LOG" || {
		echo "xenbackd sent no READY=1 within 10 s"
		return 1
	}
	e2e_mark STAGE xenbackd-ready
}

e2e_ready_or_exited() {
	grep -q '^READY=1' "$E2E_NOTIFY_LOG" || [ -e /run/xenbackd.rc ]
}

e2e_xenbackd_pid() { cat /run/xenbackd.pid 2>/dev/null; }

# e2e_xenbackd_exited SECONDS: wait for the daemon to exit (its sd_notify
# listener ends too); returns its exit code (1 and a line if it runs on).
e2e_xenbackd_exited() {
	local rc
	e2e_wait "$1" test -e /run/xenbackd.rc || {
		echo "xenbackd still runs after $1 s"
		return 1
	}
	rc=$(cat /run/xenbackd.rc)
	rm -f /run/xenbackd.pid
	kill "$(cat /run/e2e-notify.pid)" 2>/dev/null
	return "$rc"
}

# SIGTERM the daemon and wait (20 s) for it to exit; returns its exit code.
e2e_stop_xenbackd() {
	local pid
	pid=$(e2e_xenbackd_pid)
	[ -n "$pid" ] || { echo "xenbackd is not running"; return 1; }
	kill -TERM "$pid" 2>/dev/null
	e2e_xenbackd_exited 20
}

e2e_assert_no_kernel_backends() {
	if grep -qE '^(xen_blkback|xen_netback) ' /proc/modules; then
		echo "the kernel's xen-blkback/xen-netback are loaded"
		return 1
	fi
	[ ! -d /sys/bus/xen-backend/drivers/vbd ] && \
		[ ! -d /sys/bus/xen-backend/drivers/vif ] || {
		echo "a kernel vbd/vif backend driver is registered"
		return 1
	}
}

# ---- small helpers for scenarios ----------------------------------------

# Record why a check failed and end the scenario.
fail() {
	echo "E2E-WHY: $*"
	exit 1
}

# e2e_wait SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
e2e_wait() {
	local limit=$(($1 * 5)) n=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -ge $limit ] && return 1
		sleep 0.2
	done
	return 0
}

# Milliseconds since boot, for timing a step.
e2e_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

xsr() { xenstore-read "$1" 2>/dev/null; }

# e2e_xs_is PATH VALUE
e2e_xs_is() { [ "$(xsr "$1")" = "$2" ]; }

# A sparse disk image for a guest: e2e_disk NAME MB -> prints its path.
e2e_disk() {
	local f=/var/lib/e2e/$1.img
	rm -f "$f"
	dd if=/dev/zero of="$f" bs=1M count=0 seek="$2" 2>/dev/null
	echo "$f"
}

# e2e_guest_cfg NAME [cfg lines on stdin]: write $E2E_DIR/NAME.cfg, an
# ordinary xl config of a PV guest booting the guest kernel and initramfs
# into the scenario's guest() function; stdin adds lines (disk=, vif=, ...).
e2e_guest_cfg() {
	local name=$1
	{
		echo "name = \"$name\""
		echo "type = \"pv\""
		echo "kernel = \"$E2E_GUEST_KERNEL\""
		echo "ramdisk = \"$E2E_GUEST_INITRD\""
		echo "extra = \"console=hvc0 quiet loglevel=4 rdinit=/init e2e.scenario=$E2E_SCENARIO ${GUEST_EXTRA:-}\""
		echo "memory = ${GUEST_MEMORY:-192}"
		echo "vcpus = ${GUEST_VCPUS:-1}"
		echo "on_poweroff = \"destroy\""
		echo "on_reboot = \"destroy\""
		echo "on_crash = \"destroy\""
		cat
	} >"$E2E_DIR/$name.cfg"
}

# e2e_create NAME: xl create with the config from e2e_guest_cfg; fails the
# scenario if xl fails. Records the guest for the diagnostics and cleanup.
e2e_create() {
	local name=$1 t0 rc
	: >"/var/log/xen/console/guest-$name.log"
	echo "$name" >>"$E2E_DIR/guests"
	t0=$(e2e_ms)
	timeout "$E2E_XL_TIMEOUT" xl create "$E2E_DIR/$name.cfg" \
		>"$E2E_DIR/$name.create.log" 2>&1
	rc=$?
	E2E_CREATE_MS=$(($(e2e_ms) - t0))
	sed 's/^/xl create: /' "$E2E_DIR/$name.create.log"
	[ $rc -eq 0 ] || fail "xl create $name failed (rc $rc after ${E2E_CREATE_MS} ms)"
	echo "xl create $name: ${E2E_CREATE_MS} ms, domid $(e2e_domid "$name")"
	xl domid "$name" >>"$E2E_DIR/domids"
}

e2e_domid() { xl domid "$1" 2>/dev/null; }

e2e_guest_log() { echo "/var/log/xen/console/guest-$1.log"; }

# e2e_guest_wait NAME MARKER SECONDS: wait for a line from the guest.
e2e_guest_wait() {
	e2e_wait "$3" grep -q "$2" "$(e2e_guest_log "$1")"
}

# e2e_guest_done NAME SECONDS: wait for the guest's "@@G DONE rc=N" and
# fail the scenario unless rc is 0.
e2e_guest_done() {
	local log rc
	log=$(e2e_guest_log "$1")
	e2e_guest_wait "$1" '@@G DONE' "$2" ||
		fail "guest $1 did not finish its checks within $2 s"
	rc=$(sed -n 's/.*@@G DONE rc=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	[ "$rc" = 0 ] || fail "guest $1: $(grep '@@G WHY' "$log" | tail -n 1 | sed 's/.*@@G WHY: //')"
}

# Backend and frontend paths of a device: e2e_be DOMID vbd|vif DEVID
e2e_be() { echo "/local/domain/0/backend/$2/$1/$3"; }
e2e_fe() { echo "/local/domain/$1/device/$2/$3"; }

# e2e_destroy NAME: xl destroy, bounded.
e2e_destroy() {
	local t0
	t0=$(e2e_cs)
	timeout "$E2E_XL_TIMEOUT" xl destroy "$1" || fail "xl destroy $1 failed"
	echo "xl destroy $1: $((($(e2e_cs) - t0) * 10)) ms"
}

# Centiseconds since boot, without starting a process (for timing what
# is called often).
e2e_cs() {
	local up
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}"
}

# xenbackctl, bounded in time. Each call's time (ms, 10 ms resolution,
# the process's start included: what an operator waits) is appended to
# $E2E_DIR/ctl.ms; the harness prints the slowest after each scenario.
e2e_ctl() {
	local t0 rc
	t0=$(e2e_cs)
	timeout 30 xenbackctl "$@"
	rc=$?
	echo "$((($(e2e_cs) - t0) * 10)) $t0 $*" >>"$E2E_DIR/ctl.ms"
	return $rc
}

# e2e_ctl_slowest: "N xenbackctl calls, slowest MS ms (at UPTIME s: ARGS)"
# of this scenario's e2e_ctl calls.
e2e_ctl_slowest() {
	[ -s "$E2E_DIR/ctl.ms" ] || { echo "no xenbackctl call"; return; }
	sort -n "$E2E_DIR/ctl.ms" | awk '{ n++; m = $1; t = $2; $1 = $2 = "";
		a = $0 } END { sub(/^ */, "", a); printf "%d xenbackctl calls, " \
		"slowest %d ms (at %.2f s: xenbackctl%s)\n", n, m, t / 100,
		a == "" ? "" : " " a }'
}

# True when xenbackd lists a device of domain $1.
e2e_daemon_has_domain() {
	e2e_ctl --json | jq -e "any(.[]; .domain == $1)" >/dev/null
}

# "kind devid state frontend-path" of domain $1's devices, as xenbackd
# lists them and as xenstore has them (sorted, one a line).
e2e_ctl_devices() {
	e2e_ctl --json | jq -r ".[] | select(.domain == $1) |
		\"\\(.kind) \\(.devid) \\(.state_num) \\(.frontend_path)\"" | sort
}
e2e_xs_devices() {
	local k i be
	for k in vbd vif; do
		for i in $(xenstore-list "/local/domain/0/backend/$k/$1" 2>/dev/null); do
			be=$(e2e_be "$1" "$k" "$i")
			echo "$k $i $(xsr "$be/state") $(xsr "$be/frontend")"
		done
	done | sort
}

# e2e_std_guest NAME N: the usual guest, with the devices of
# $E2E_DEVICES: a 64 MiB disk image (xvda, default `block` script) and a
# vif on xenbr0 (MAC 00:16:3e:e2:00:N, default `vif-bridge`); created with
# xl. Extra config lines on stdin.
e2e_std_guest() {
	local img
	img=$(e2e_disk "$1" 64)
	{
		e2e_has_dev vbd &&
			echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]"
		e2e_has_dev vif &&
			echo "vif = [ 'mac=00:16:3e:e2:00:$2,bridge=xenbr0' ]"
		cat
	} | e2e_guest_cfg "$1"
	e2e_create "$1"
}

# e2e_disk_guest NAME MB: a guest with one device, xvda: a new MB MiB
# image, /var/lib/e2e/NAME.img (xl's default `block` script); created with
# xl, and the scenario fails unless the disk is Connected within 60 s.
e2e_disk_guest() {
	local img
	img=$(e2e_disk "$1" "$2")
	echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$img' ]" |
		e2e_guest_cfg "$1"
	e2e_create "$1"
	e2e_wait 60 e2e_xs_is "$(e2e_be "$(e2e_domid "$1")" vbd 51712)/state" 4 ||
		fail "xvda of $1 never Connected"
}

# e2e_std_ready DOMID: the usual guest's backends are ready.
e2e_std_ready() {
	if e2e_has_dev vbd; then e2e_backend_ready "$1" vbd 51712; fi
	if e2e_has_dev vif; then e2e_backend_ready "$1" vif 0; fi
}

# The number of devices the usual guest has.
e2e_std_count() { echo $E2E_DEVICES | wc -w; }

# e2e_backend_check DOMID TYPE DEVID: true when the backend is at least
# InitWait (2..4) and its hotplug script has done its part; else says why.
e2e_backend_check() {
	local be st
	be=$(e2e_be "$1" "$2" "$3")
	st=$(xsr "$be/state")
	[ -n "$st" ] && [ "$st" -ge 2 ] && [ "$st" -le 4 ] || {
		echo "$be/state is '$st'"
		return 1
	}
	case "$2" in
	vbd)
		[ -n "$(xsr "$be/physical-device")" ] || {
			echo "$be: no physical-device (block script did not run)"
			return 1
		} ;;
	vif)
		e2e_xs_is "$be/hotplug-status" connected || {
			echo "$be/hotplug-status is '$(xsr "$be/hotplug-status")'"
			return 1
		}
		[ -e "/sys/class/net/xenbr0/brif/vif$1.$3" ] || {
			echo "vif$1.$3 is not in xenbr0"
			return 1
		} ;;
	esac
}

# e2e_backend_ready DOMID TYPE DEVID: e2e_backend_check within 10 s, or
# the scenario fails.
e2e_backend_ready() {
	e2e_wait 10 e2e_backend_check "$@" || fail "$(e2e_backend_check "$@")"
}

# e2e_xl_detach block-detach|network-detach GUEST DEV: run xl (verbose),
# fail unless the backend reached Closed by itself: libxl waits 10 s for
# that, then logs "Timeout reached, initiating forced remove" and removes
# the device anyway.
e2e_xl_detach() {
	local t0 ms log=$E2E_DIR/xl-$1.log
	t0=$(e2e_ms)
	timeout "$E2E_XL_TIMEOUT" xl -vvv "$@" >"$log" 2>&1 || {
		grep -v ' debug: ' "$log"
		fail "xl $* failed"
	}
	ms=$(($(e2e_ms) - t0))
	echo "xl $*: $ms ms"
	! grep -q 'Timeout reached, initiating forced remove' "$log" ||
		fail "xl $*: the backend did not reach Closed within libxl's 10 s (forced removal)"
}

# True while any backend directory of domain $1 exists.
e2e_has_backends() {
	xenstore-exists "/local/domain/0/backend/vbd/$1" ||
		xenstore-exists "/local/domain/0/backend/vif/$1"
}

# True while the backend serving domain $1 still holds something of it:
# xenbackd lists a device of it, or a kernel backend device is bound.
e2e_backend_holds() {
	if [ "$E2E_MODE" = kernel ]; then
		ls /sys/bus/xen-backend/devices 2>/dev/null | grep -qE "^(vbd|vif)-$1-"
	else
		e2e_daemon_has_domain "$1"
	fi
}

# What xenbackd holds of domain $1 (xenbackctl resources: ring pages and
# data grants mapped, channels bound, backing files and TAP queues open),
# as a JSON object; nothing when it holds nothing.
e2e_daemon_resources() {
	local out
	out=$(e2e_ctl --json resources) ||
		{ echo "(xenbackctl resources failed)"; return; }
	echo "$out" | jq -c ".domains[] | select(.domain == $1)" ||
		echo "(not JSON: $out)"
}
e2e_daemon_holds_resources() { [ -n "$(e2e_daemon_resources "$1")" ]; }

# True while the hypervisor still lists domain $1 (e.g. dying: a backend
# that keeps one of its grants mapped keeps it a zombie).
e2e_domain_listed() {
	xl list 2>/dev/null | awk -v d="$1" 'NR > 1 && $2 == d { f = 1 }
		END { exit !f }'
}

# e2e_released DOMID IMAGE: everything of the domain is let go within
# 10 s: backend directories, the daemon's devices (or the kernel's) and
# every grant, channel and fd the daemon held of it, the domain itself
# in the hypervisor, the loop device of IMAGE, the vif netdev.
e2e_released() {
	local t0
	t0=$(e2e_cs)
	e2e_wait 10 eval "! e2e_has_backends $1" ||
		fail "backend directories of domain $1 remain"
	e2e_wait 10 eval "! e2e_backend_holds $1" ||
		fail "the backend still holds devices of domain $1"
	if [ "$E2E_MODE" != kernel ]; then
		e2e_wait 10 eval "! e2e_daemon_holds_resources $1" ||
			fail "xenbackd still holds resources of domain $1: $(e2e_daemon_resources "$1")"
	fi
	e2e_wait 10 eval "! e2e_domain_listed $1" ||
		fail "domain $1 is still listed by the hypervisor: $(xl list | awk -v d="$1" '$2 == d')"
	e2e_wait 10 eval "! losetup -a | grep -q '$2'" ||
		fail "a loop device is still bound to $2 (block remove did not run)"
	e2e_wait 10 test ! -e "/sys/class/net/vif$1.0" ||
		fail "vif$1.0 still exists"
	echo "domain $1 released (checked in $((($(e2e_cs) - t0) * 10)) ms)"
}

# ---- disks: what the guest wrote, what xenbackd serves it with ----------

# e2e_guest_value NAME KEY: VALUE of the last "KEY VALUE" line guest NAME
# printed (e.g. g_pattern's "pattern-md5 MD5").
e2e_guest_value() {
	tr -d '\r' <"$(e2e_guest_log "$1")" |
		sed -n "s/.*$2 \([^ ]*\).*/\1/p" | tail -n 1
}

# e2e_md5 IMAGE [AT MB]: md5 of a disk image (or of MB MiB at AT MiB).
e2e_md5() {
	if [ $# -ge 3 ]; then
		dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null
	else
		cat "$1"
	fi | md5sum | cut -d' ' -f1
}

# e2e_slow_disk GB MS: slow storage in dom0, a block device that takes MS
# ms to complete each request (reads, writes, discards alike): Linux's
# null_blk, memory-backed (pages allocated when written, freed when
# discarded), GB GiB, with discard; prints its path (/dev/nullb0). One at
# a time; e2e_slow_disk_remove takes it away.
e2e_slow_disk() {
	local m
	for m in $(cat /lib/modules/e2e/slow-disk); do
		case "$m" in
		null_blk.ko*)
			insmod "/lib/modules/e2e/$m" nr_devices=1 gb="$1" \
				memory_backed=1 discard=1 irqmode=2 \
				completion_nsec=$(($2 * 1000000)) ;;
		*)
			grep -q "^$(echo "${m%%.ko*}" | tr - _) " /proc/modules ||
				insmod "/lib/modules/e2e/$m" ;;
		esac || { echo "insmod $m failed"; return 1; }
	done
	e2e_wait 10 test -b /dev/nullb0 || { echo "no /dev/nullb0"; return 1; }
	echo /dev/nullb0
}
e2e_slow_disk_remove() {
	grep -q '^null_blk ' /proc/modules || return 0
	rmmod null_blk
}

# e2e_fsck_image IMAGE: dom0's e2fsck (forced, read-only) finds the
# guest's filesystem at the start of IMAGE clean, or the scenario fails.
e2e_fsck_image() {
	e2fsck -f -n "$1" >"$E2E_DIR/fsck.log" 2>&1 || {
		cat "$E2E_DIR/fsck.log"
		fail "dom0's e2fsck finds the guest's filesystem in $1 not clean"
	}
	echo "dom0 e2fsck of $1: clean"
}

# e2e_blk_data DOMID DEVID: how xenbackd serves that disk, as
# "DATA DATA-WHY POLL-US" (xenbackctl --json: grant-map or grant-copy,
# why, the polling maximum it connected with).
e2e_blk_data() {
	e2e_ctl --json | jq -r ".[] | select(.domain == $1 and
		.kind == \"vbd\" and .devid == $2) |
		\"\\(.info.data) \\(.info[\"data-why\"]) \\(.info[\"poll-us\"])\""
}

# e2e_blk_ctr DOMID DEVID NAME: xenbackd's counter NAME of that disk
# (xenbackctl --json "stats": rd_req, wr_req, discard_req, inflight, ...).
e2e_blk_ctr() {
	e2e_ctl --json | jq -r ".[] | select(.domain == $1 and
		.kind == \"vbd\" and .devid == $2) | .stats.$3 // 0"
}

# ---- what the daemon holds in all ----------------------------------------

# "MAPS FDS RING-PAGES GRANTS CHANNELS BACKING-FDS": the daemon's gntdev
# mappings and open fds (/proc), and its own resource counters in total
# (xenbackctl resources).
e2e_daemon_state() {
	local pid
	pid=$(e2e_xenbackd_pid)
	echo "$(grep -c gntdev "/proc/$pid/maps") $(ls "/proc/$pid/fd" | wc -l)" \
		"$(e2e_ctl --json resources | jq -r '.total |
			"\(.ring_pages) \(.grants) \(.channels) \(.fds)"')"
}

# e2e_daemon_within STATE: true when the daemon maps and opens no more than
# in STATE (e2e_daemon_state) and its counters are those of STATE.
e2e_daemon_within() {
	# shellcheck disable=SC2046
	set -- $1 $(e2e_daemon_state)
	[ "$7" -le "$1" ] && [ "$8" -le "$2" ] &&
		[ "$9 ${10} ${11} ${12}" = "$3 $4 $5 $6" ]
}

# e2e_daemon_as_before STATE: within 10 s the daemon holds no more than in
# STATE, taken before a guest came and went; else the scenario fails.
e2e_daemon_as_before() {
	e2e_wait 10 e2e_daemon_within "$1" ||
		fail "the daemon holds $(e2e_daemon_state), before the guest $1 (gntdev maps, fds; ring pages, grants, channels, fds it counts)"
	echo "the daemon holds as before the guest: $(e2e_daemon_state)"
}

# e2e_daemon_idle: the daemon spends under 0.5 s of CPU in the next 5 s.
e2e_daemon_idle() {
	local c0 c1 stat
	stat=/proc/$(e2e_xenbackd_pid)/stat
	c0=$(awk '{ print $14 + $15 }' "$stat")
	sleep 5
	c1=$(awk '{ print $14 + $15 }' "$stat")
	echo "daemon CPU ticks in 5 s: $((c1 - c0))"
	[ $((c1 - c0)) -lt 50 ] || fail "the daemon keeps busy: $((c1 - c0)) ticks in 5 s"
}

# e2e_main_watch FILE: until killed, where xenbackd's main thread is,
# every 0.1 s: "CENTISECONDS STATE WCHAN" lines into FILE (builtins only,
# so the sampling barely loads dom0). Its event loop waits in
# do_epoll_wait; anywhere else it is running (R, wchan 0) or blocked
# (e.g. futex_wait_queue: joining a worker that drains its I/O), and the
# line then goes on with every other thread's "NAME:STATE:WCHAN".
e2e_main_watch() {
	local pid up st w t line name
	pid=$(e2e_xenbackd_pid)
	while :; do
		read -r up _ </proc/uptime
		read -r _ _ st _ <"/proc/$pid/stat" || return 0
		w=
		read -r w <"/proc/$pid/wchan"
		line="${up%.*}${up#*.} $st $w"
		[ "$w" = do_epoll_wait ] || for t in /proc/$pid/task/*; do
			[ "$t" != "/proc/$pid/task/$pid" ] || continue
			read -r _ name st _ <"$t/stat" || continue
			w=
			read -r w <"$t/wchan"
			name=${name#(}
			line="$line ${name%)}:$st:$w"
		done
		echo "$line" >>"$1"
		sleep 0.1
	done
}

# e2e_main_away FILE: from e2e_main_watch's samples, "AWAY GAP N (LINE)":
# the longest time in ms the main thread was seen away from its event
# loop's wait, from the first to the last of consecutive samples away
# (so a stall of dom0 after one sample does not count; a block shorter
# than a sample's period shows as 0), and the first sample of that
# time; the longest gap
# in ms between two samples (dom0 gave the sampler no CPU meanwhile: a
# long one means dom0 as a whole stalled, not the daemon), the number of
# samples.
e2e_main_away() {
	awk '{ if (p && $1 - p > g) g = $1 - p; p = $1; n++ }
		$3 != "do_epoll_wait" { if (!s) { s = $1; w = $0 }; l = $1; next }
		s { if (l - s > m) { m = l - s; mw = w }; s = 0 }
		END { if (s && l - s > m) { m = l - s; mw = w }
			printf "%d %d %d %s\n", m * 10, g * 10, n,
				m ? "(" mw ")" : "" }' "$1"
}

# e2e_main_report FILE: e2e_main_away said in words; fails the scenario
# if the main thread was away for 5 s or more.
e2e_main_report() {
	local away
	# shellcheck disable=SC2046
	set -- $(e2e_main_away "$1")
	away=$1
	echo "xenbackd's main thread away from its event loop at most $away ms" \
		"(samples: $3, at most $2 ms apart)"
	shift 3
	[ $# = 0 ] || echo "  first sample then (cs state wchan, other threads): $*"
	[ "$away" -lt 5000 ] ||
		fail "xenbackd's main thread was away from its event loop for $away ms"
}

# ---- xenbackd.conf, changed as an operator does -------------------------

E2E_CONF=/etc/xenbackd.conf
# The file as installed, and the daemon's "settings:" line with it, kept
# while a scenario has changed it (e2e_conf_set, e2e_conf_restore).
E2E_CONF_SAVED=/run/e2e-xenbackd.conf
E2E_SETTINGS_SAVED=/run/e2e-xenbackd.settings

# The daemon's last "settings: ..." log line (at start and at each reload:
# each kind setting in force and where it comes from).
e2e_settings_line() {
	grep 'settings: ' "$E2E_DAEMON_LOG" | tail -n 1 | sed 's/.*settings: //'
}

# e2e_daemon_logged_more PATTERN N: the daemon's log has more than N lines
# matching PATTERN.
e2e_daemon_logged_more() {
	[ "$(grep -c "$1" "$E2E_DAEMON_LOG")" -gt "$2" ]
}

# e2e_reload_xenbackd: reload as `systemctl reload xenbackd` does (the
# unit's ExecReload with $MAINPID) and wait (10 s) for the daemon to say
# it is done; prints the settings now in force (e2e_settings_line).
e2e_reload_xenbackd() {
	local pid cmd before
	pid=$(e2e_xenbackd_pid)
	[ -n "$pid" ] || { echo "xenbackd is not running"; return 1; }
	cmd=$(sed -n 's/^ExecReload=[-@:+!]*//p' /e2e/xenbackd.service |
		head -n 1 | sed -e "s/[\$]{MAINPID}/$pid/g" -e "s/[\$]MAINPID/$pid/g")
	[ -n "$cmd" ] || { echo "no ExecReload in xenbackd.service"; return 1; }
	before=$(grep -c 'configuration reloaded' "$E2E_DAEMON_LOG")
	# shellcheck disable=SC2086
	$cmd || { echo "'$cmd' failed"; return 1; }
	e2e_wait 10 e2e_daemon_logged_more 'configuration reloaded' "$before" || {
		echo "xenbackd did not finish reloading within 10 s ('$cmd')"
		return 1
	}
	e2e_settings_line
}

# e2e_conf_set LINE...: xenbackd.conf as installed plus these lines
# ("key = value"), then reloaded (e2e_reload_xenbackd, whose output it
# prints). The harness puts the installed file back after the scenario.
e2e_conf_set() {
	local l
	if [ ! -e "$E2E_CONF_SAVED" ]; then
		if [ -e "$E2E_CONF" ]; then
			cp "$E2E_CONF" "$E2E_CONF_SAVED" || return 1
		else
			: >"$E2E_CONF_SAVED"
		fi
		e2e_settings_line >"$E2E_SETTINGS_SAVED"
	fi
	{
		cat "$E2E_CONF_SAVED"
		for l in "$@"; do echo "$l"; done
	} >"$E2E_CONF"
	e2e_reload_xenbackd
}

# e2e_conf_restore: after a scenario that changed xenbackd.conf, the
# installed file back and reloaded; fails unless the daemon's settings are
# again those it had before the change (a daemon no longer running reads
# the file at its next start).
e2e_conf_restore() {
	local now want
	[ -e "$E2E_CONF_SAVED" ] || return 0
	cp "$E2E_CONF_SAVED" "$E2E_CONF" || return 1
	rm -f "$E2E_CONF_SAVED"
	want=$(cat "$E2E_SETTINGS_SAVED")
	[ -n "$(e2e_xenbackd_pid)" ] || return 0
	now=$(e2e_reload_xenbackd) || { echo "$now"; return 1; }
	echo "$E2E_CONF restored, settings: $now"
	[ "$now" = "$want" ] || {
		echo "settings after restoring $E2E_CONF: '$now', before: '$want'"
		return 1
	}
}

# ---- running scenarios --------------------------------------------------

# The scenarios to run: those named by e2e.only= in that order, else all;
# a scenario whose "E2E_MODES=" line leaves out this mode is not run.
e2e_scenarios() {
	local n
	if [ -n "$E2E_ONLY" ]; then
		list=$E2E_ONLY
	else
		list=$(ls /e2e/scenarios | sed -n 's/\.sh$//p')
	fi
	for n in $list; do
		if grep -q '^E2E_MODES=' "/e2e/scenarios/$n.sh" 2>/dev/null &&
			! grep '^E2E_MODES=' "/e2e/scenarios/$n.sh" |
				grep -qw "$E2E_MODE"; then
			e2e_mark NOTFOR "$n" "$E2E_MODE"
			continue
		fi
		echo "$n"
	done
}

e2e_run_all() {
	local n
	E2E_PASSED=0 E2E_FAILED=0
	for n in $(e2e_scenarios); do
		if e2e_run_one "$n"; then
			E2E_PASSED=$((E2E_PASSED + 1))
		else
			E2E_FAILED=$((E2E_FAILED + 1))
		fi
	done
}

# Runs a scenario's dom0() in a subshell, bounded in time; its output goes
# to the console prefixed "| ". On failure prints the diagnostics, then
# destroys the scenario's guests so the next scenario starts clean.
e2e_run_one() {
	local n=$1 log=$E2E_DIR/$1.log pid rc=0 t0 why deadline
	: >"$E2E_DIR/guests"
	: >"$E2E_DIR/domids"
	: >"$E2E_DIR/ctl.ms"
	e2e_mark BEGIN "$n"
	t0=$(e2e_ms)
	(
		E2E_SCENARIO=$n
		[ -r "/e2e/scenarios/$n.sh" ] || fail "no such scenario"
		. "/e2e/scenarios/$n.sh"
		dom0
	) >"$log" 2>&1 &
	pid=$!
	deadline=$((t0 + E2E_SCENARIO_TIMEOUT * 1000))
	while kill -0 $pid 2>/dev/null; do
		sleep 0.2
		if [ "$(e2e_ms)" -ge $deadline ]; then
			kill -9 $pid 2>/dev/null
			echo "E2E-WHY: timed out after $E2E_SCENARIO_TIMEOUT s" >>"$log"
			break
		fi
	done
	wait $pid || rc=$?
	# Settings a scenario changed go back for the next ones.
	if ! e2e_conf_restore >>"$log" 2>&1 && [ $rc -eq 0 ]; then
		echo "E2E-WHY: $E2E_CONF could not be restored" >>"$log"
		rc=1
	fi
	[ "$E2E_MODE" = kernel ] || e2e_ctl_slowest >>"$log"
	sed 's/^/| /' "$log" >/dev/console
	if [ $rc -eq 0 ]; then
		e2e_mark PASS "$n" "($(($(e2e_ms) - t0)) ms; $(e2e_ctl_slowest))"
		e2e_cleanup_guests
		return 0
	fi
	why=$(grep '^E2E-WHY: ' "$log" | tail -n 1 | sed 's/^E2E-WHY: //')
	[ -n "$why" ] || why="dom0() exited $rc"
	e2e_diagnostics 2>&1 | sed 's/^/| /' >/dev/console
	e2e_mark FAIL "$n" "$why"
	e2e_cleanup_guests
	return 1
}

e2e_diagnostics() {
	local g d
	echo "---- diagnostics"
	echo "-- xl list"
	xl list
	for g in $(cat "$E2E_DIR/guests"); do
		echo "-- console of guest $g"
		tail -n 40 "$(e2e_guest_log "$g")"
	done
	for d in $(sort -u "$E2E_DIR/domids"); do
		echo "-- xenstore-ls of domain $d's backend directories"
		xenstore-ls -f "/local/domain/0/backend/vbd/$d" 2>&1
		xenstore-ls -f "/local/domain/0/backend/vif/$d" 2>&1
		echo "-- xenstore-ls of domain $d's frontend directories"
		xenstore-ls -f "/local/domain/$d/device" 2>&1
	done
	echo "-- xenstore-ls /local/domain/0/backend"
	xenstore-ls -f /local/domain/0/backend 2>&1 | head -n 80
	if [ "$E2E_MODE" != kernel ]; then
		echo "-- xenbackctl"
		e2e_ctl 2>&1
		echo "-- xenbackd's log (last 60 lines)"
		tail -n 60 "$E2E_DAEMON_LOG"
		echo "-- xenbackd's sd_notify messages (last 10)"
		tail -n 10 "$E2E_NOTIFY_LOG"
	fi
	echo "-- hotplug scripts' log (last 30 lines)"
	tail -n 30 /var/log/xen/xen-hotplug.log 2>/dev/null
	echo "-- syslog (last 30 lines)"
	tail -n 30 /var/log/messages 2>/dev/null
	for g in /var/log/xen/xl-*.log; do
		[ -e "$g" ] && { echo "-- $g"; tail -n 20 "$g"; }
	done
	echo "---- end of diagnostics"
}

e2e_cleanup_guests() {
	local g
	for g in $(cat "$E2E_DIR/guests"); do
		xl domid "$g" >/dev/null 2>&1 && timeout "$E2E_XL_TIMEOUT" xl destroy "$g" >/dev/null 2>&1
	done
	: >"$E2E_DIR/guests"
}
