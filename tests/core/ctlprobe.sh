# tests/core/ctlprobe.sh: how long xenbackctl takes to answer while a
# suite keeps the daemon busy (sourced by a POSIX sh script; needs CTL).
#
#   now_ms                      the monotonic-enough wall clock in ms
#   ctl_probe SOCK STOP OUT     xenbackctl list and resources, one after
#                               the other, every 0.1 s until file STOP
#                               exists; one line "MS what" per answer in
#                               OUT ("99999 what (no answer)" on failure)
now_ms() { echo $(($(date +%s%N) / 1000000)); }

ctl_probe() {
	local sock=$1 stop=$2 out=$3 what t0
	while [ ! -e "$stop" ]; do
		for what in list resources; do
			t0=$(now_ms)
			if timeout 20 "$CTL" -s "$sock" $what \
				>/dev/null 2>&1; then
				echo "$(($(now_ms) - t0)) $what"
			else
				echo "99999 $what (no answer)"
			fi
		done
		sleep 0.1
	done >"$out"
}
