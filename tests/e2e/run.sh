#!/bin/bash
# run.sh: the real-Xen end-to-end suite. Builds the images (images.sh),
# boots Debian's Xen 4.17 with a Debian 6.1 dom0 under qemu-system-x86_64
# (TCG), lets dom0 run the scenarios (tests/e2e/scenarios/*.sh) against
# xenbackd, and turns the markers dom0 prints on the serial console into
# the suite's lines:
#   PASS: e2e/boot                 Xen and dom0 came up, backends ready
#   PASS: e2e/<scenario>           or FAIL: e2e/<scenario> <why>
# A failing scenario is followed by the console lines it produced (its own
# output, the daemon's log and xenstore-ls of its devices).
#
# Environment:
#   E2E_SCENARIOS       scenarios to run (names, space-separated; default:
#                       all of tests/e2e/scenarios)
#   E2E_DEVICES         the devices of the usual guest (default "vbd vif")
#   E2E_KERNEL_BACKENDS=1  use the kernel's xen-blkback/xen-netback instead
#                       of xenbackd (debugging, comparison)
#   E2E_BLK_DATA=map    the daemon's block data path (default: its own)
#   E2E_TIMEOUT         seconds for the whole boot (default 1800)
#   E2E_OUT             work folder (default build/e2e)
#   E2E_LOCK            machine-wide lock: one run boots at a time
#                       (default /tmp/xenbackd-e2e.lock; E2E_LOCK_WAIT s)
#   XENBACKD_BUILD      where xenbackd and xenbackctl are (default build)
#   XENBACKD_UNITS      where xenbackd.service is (default units)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${E2E_OUT:-$top/build/e2e}
bld=${XENBACKD_BUILD:-$top/build}
units=${XENBACKD_UNITS:-$top/units}
timeout_s=${E2E_TIMEOUT:-1800}
mode=xenbackd
[ "${E2E_KERNEL_BACKENDS:-0}" = 1 ] && mode=kernel

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
t_start=$(now_ms)

fail_boot() {
	echo "FAIL: e2e/boot $*"
	exit 1
}

mkdir -p "$out"
"$here/images.sh" "$out" || fail_boot "could not fetch or build the images"
t_images=$(now_ms)

# ---- the per-run overlay of dom0's initramfs ---------------------------

cpio_of() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc --quiet -R 0:0)
}

build_overlay() {
	local cache ov g s
	cache=$(cat "$out/cache")
	ov=$out/overlay
	g=$out/guest-overlay
	rm -rf "$ov" "$g"
	mkdir -p "$ov/e2e/scenarios" "$ov/e2e/guest" "$ov/usr/sbin" \
		"$ov/usr/bin" "$g/e2e/scenarios"
	install -m 0755 "$here/dom0/init" "$ov/init"
	install -m 0644 "$here/dom0/lib.sh" "$ov/e2e/lib.sh"
	install -m 0755 "$here/guest/init" "$g/init"
	install -m 0644 "$here/guest/glib.sh" "$g/e2e/glib.sh"
	for s in "$here"/scenarios/*.sh; do
		install -m 0644 "$s" "$ov/e2e/scenarios/"
		install -m 0644 "$s" "$g/e2e/scenarios/"
	done
	install -m 0755 "$top/build/e2e/e2e-notify" "$ov/usr/bin/e2e-notify" || return 1
	install -m 0755 "$top/build/e2e/e2e-devlinks" "$ov/usr/bin/e2e-devlinks" || return 1
	if [ "$mode" = xenbackd ]; then
		install -m 0755 "$bld/xenbackd" "$ov/usr/sbin/xenbackd" || return 1
		install -m 0755 "$bld/xenbackctl" "$ov/usr/bin/xenbackctl" || return 1
		install -m 0644 "$units/xenbackd.service" \
			"$ov/e2e/xenbackd.service" || return 1
		if [ -e "$units/xenbackd.conf" ]; then
			install -D -m 0644 "$units/xenbackd.conf" \
				"$ov/etc/xenbackd.conf" || return 1
		fi
	fi
	{ cat "$cache/guest-base.cpio"; cpio_of "$g"; } >"$ov/e2e/guest/initrd.cpio"
	{ cat "$cache/dom0-base.cpio"; cpio_of "$ov"; } >"$out/dom0.cpio"
}
build_overlay || fail_boot "could not build dom0's initramfs (is xenbackd built?)"

# ---- boot -------------------------------------------------------------

scenarios=${E2E_SCENARIOS:-}
only=$(echo $scenarios | tr ' ' ',')
xen_args="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 loglvl=warning guest_loglvl=warning noreboot"
dom0_args="console=hvc0 earlyprintk=xen quiet loglevel=3 rdinit=/init e2e.mode=$mode"
[ -n "$only" ] && dom0_args="$dom0_args e2e.only=$only"
devices=$(echo ${E2E_DEVICES:-vbd vif} | tr ' ' ',')
dom0_args="$dom0_args e2e.devices=$devices"
# E2E_BLK_DATA=copy|map: the daemon's block data path (docs/blk.md).
[ -n "${E2E_BLK_DATA:-}" ] && dom0_args="$dom0_args e2e.blkdata=$E2E_BLK_DATA"
con=$out/console.log
: >"$con"

# One emulated Xen at a time on this machine: several at once (every
# engineer's `make check`) starve each other until libxl's fixed 40 s
# hotplug-script limit fails `xl create`. Waiting is cheaper.
t_lock=$(now_ms)
exec 9>"${E2E_LOCK:-/tmp/xenbackd-e2e.lock}"
flock -w "${E2E_LOCK_WAIT:-3600}" 9 ||
	fail_boot "another e2e run kept the machine's e2e lock (${E2E_LOCK:-/tmp/xenbackd-e2e.lock})"

t_boot=$(now_ms)
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
	-accel tcg,thread=${E2E_TCG_THREAD:-multi} -cpu ${E2E_CPU:-qemu64} -smp 2 -m 3072 \
	-display none -vga none -nic none -no-reboot -monitor none \
	-serial "file:$con" \
	-kernel "$out/xen" -append "$xen_args" \
	-initrd "$out/vmlinuz ${dom0_args//,/,,},$out/dom0.cpio" \
	>"$out/qemu.log" 2>&1
qrc=$?
t_end=$(now_ms)

# ---- results ----------------------------------------------------------

tr -d '\r' <"$con" >"$out/console.txt"
con=$out/console.txt
marks() { grep -a '^@@E2E ' "$con"; }

echo "e2e: images $(secs $((t_images - t_start))) s, waited for the e2e lock $(secs $((t_boot - t_lock))) s, qemu $(secs $((t_end - t_boot))) s (exit $qrc), mode $mode"
marks | while read -r _ t what rest; do
	case "$what" in
	STAGE | END) echo "e2e: at ${t} s: $what $rest" ;;
	esac
done

abort=$(marks | awk '$3 == "ABORT"' | head -n 1)
if [ -n "$abort" ] || ! marks | grep -q ' STAGE backends '; then
	echo "---- last console lines"
	tail -n 80 "$con"
	echo "---- qemu"
	cat "$out/qemu.log"
	[ -n "$abort" ] && fail_boot "${abort#* * ABORT }"
	[ $qrc -eq 124 ] && fail_boot "dom0 not ready within $timeout_s s"
	fail_boot "dom0 did not get ready (qemu exit $qrc)"
fi
echo "PASS: e2e/boot"

# Console lines from a scenario's BEGIN to its end (PASS/FAIL or EOF).
scenario_lines() {
	awk -v n="$1" '
		/^@@E2E / && $3 == "BEGIN" && $4 == n { on = 1 }
		on { print }
		/^@@E2E / && ($3 == "PASS" || $3 == "FAIL") && $4 == n { exit }
	' "$con"
}

declare -A seen=()
while read -r _ t what name rest; do
	case "$what" in
	PASS)
		echo "PASS: e2e/$name $rest"
		seen[$name]=1 ;;
	FAIL)
		echo "---- console of scenario $name"
		scenario_lines "$name"
		echo "FAIL: e2e/$name $rest"
		seen[$name]=1 ;;
	BEGIN) seen[$name]=0 ;;
	NOTFOR)
		echo "e2e: $name is not run with the $rest backends"
		seen[$name]=1 ;;
	esac
done < <(marks)

for name in "${!seen[@]}"; do
	if [ "${seen[$name]}" = 0 ]; then
		echo "---- console of scenario $name"
		scenario_lines "$name"
		echo "FAIL: e2e/$name did not finish (qemu exit $qrc)"
	fi
done
for name in $scenarios; do
	[ -n "${seen[$name]:-}" ] || echo "FAIL: e2e/$name was not run (no such scenario?)"
done
if ! marks | grep -q ' END '; then
	echo "---- last console lines"
	tail -n 40 "$con"
	echo "FAIL: e2e/end dom0 did not finish the run (qemu exit $qrc)"
fi
exit 0
