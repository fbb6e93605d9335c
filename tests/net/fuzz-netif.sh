#!/bin/sh
# fuzz-netif.sh: run the netif ring fuzzer briefly (FUZZ_SECONDS, default
# 20) from an empty corpus; a crash, leak or broken invariant is a FAIL.
set -u
bin=build/tests/net/fuzz_netif
secs=${FUZZ_SECONDS:-20}
dir=$(mktemp -d /tmp/xb-net.XXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
if "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 \
	-artifact_prefix="$dir/" -print_final_stats=1 "$dir/corpus" \
	>"$dir/log" 2>&1; then
	echo "PASS: netif ring fuzzer ${secs}s, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$') inputs"
else
	tail -n 30 "$dir/log"
	echo "FAIL: netif ring fuzzer found a crash (see above)"
fi
