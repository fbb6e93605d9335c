#!/bin/sh
# fuzz.sh: the one runner of the project's libFuzzer targets, each suite
# (tests/*/fuzz-*.sh) a call of it.  It runs BIN for SECONDS from a fresh
# corpus (with the seeds given, if any) and prints one result line:
#   PASS: LABEL (N inputs, Ss)
#   FAIL: LABEL: crash, leak or broken invariant   (the log's end above it)
# A fuzzer that hangs is cut by timeout(1) a minute after its own limit, so
# the suite is bounded in time even when libFuzzer is not.
#
# usage: fuzz.sh [-m MAX_LEN] [-s SEED]... BIN SECONDS LABEL
#   -m MAX_LEN  longest input libFuzzer makes (its default otherwise)
#   -s SEED     a seed input, as a printf(1) format (for binary bytes)
set -u
usage() {
	echo "usage: $0 [-m MAX_LEN] [-s SEED]... BIN SECONDS LABEL" >&2
	exit 2
}

max_len=
dir=$(mktemp -d /tmp/xb-fuzz.XXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
seeds=0
while getopts m:s: opt; do
	case $opt in
	m) max_len=-max_len=$OPTARG ;;
	s) seeds=$((seeds + 1))
	   printf "$OPTARG" >"$dir/corpus/seed$seeds" ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 3 ] || usage
bin=$1 secs=$2 label=$3

# -timeout: one input taking 10 s is a hang, reported as a crash is.
# $max_len is unquoted on purpose: empty means libFuzzer's own default.
if timeout $((secs + 60)) "$bin" -max_total_time="$secs" $max_len \
	-timeout=10 -rss_limit_mb=1024 -artifact_prefix="$dir/" \
	-print_final_stats=1 "$dir/corpus" >"$dir/log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	echo "PASS: $label (${runs:-?} inputs, ${secs}s)"
else
	tail -n 30 "$dir/log"
	echo "FAIL: $label: crash, leak or broken invariant"
fi
