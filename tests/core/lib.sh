# tests/core/lib.sh: what the suites of tests/core that run the real
# xenbackd on the simulated host share (sourced by a POSIX sh script run
# from the repository root, after it set H, the simulated host's folder).
#
#   as0 CMD...                  run CMD as dom0 of the simulated host
#   wait_for SECONDS CMD...     retry CMD every 0.1 s until it succeeds
#                               (false after SECONDS)
#   add_vbd DOMID DEVID PARAMS  what libxl writes for a read-write disk
B=${B:-build}
X=$B/xensim/xensim
FRONT=$B/tests/blk/blk_sim_front
CTL=$B/xenbackctl

as0() { timeout 20 $X run "$H" 0 -- "$@"; }

wait_for() {
	local tries=$(($1 * 10))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ $tries -le 0 ] && return 1
		sleep 0.1
	done
}

add_vbd() {
	local d=$1 v=$2 params=$3 be fe
	be=/local/domain/0/backend/vbd/$d/$v
	fe=/local/domain/$d/device/vbd/$v
	as0 xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 \
		"$fe/state" 1 "$fe/virtual-device" "$v" \
		"$fe/device-type" disk &&
	as0 xenstore-chmod -r "$fe" "n$d" r0 &&
	as0 xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$d" \
		"$be/online" 1 "$be/params" "$params" "$be/mode" w \
		"$be/device-type" disk "$be/removable" 0 "$be/state" 1 &&
	as0 xenstore-chmod -r "$be" n0 "r$d"
}
