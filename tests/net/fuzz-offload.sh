#!/bin/sh
# fuzz-offload.sh: run the offload/rate fuzzer (net/offload.c over a
# guest's frame and flags or a TAP frame and its virtio-net header, and
# net/rate.c's "rate" parser) briefly (FUZZ_SECONDS, default 10) from an
# empty corpus; a crash, leak or broken invariant is a FAIL.
set -u
bin=build/tests/net/fuzz_offload
secs=${FUZZ_SECONDS:-10}
dir=$(mktemp -d /tmp/xb-net.XXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
if timeout $((secs + 60)) "$bin" -max_total_time="$secs" -max_len=4096 \
	-timeout=10 -artifact_prefix="$dir/" -print_final_stats=1 \
	"$dir/corpus" >"$dir/log" 2>&1; then
	echo "PASS: offload and rate fuzzer ${secs}s, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$') inputs"
else
	tail -n 30 "$dir/log"
	echo "FAIL: offload and rate fuzzer found a crash (see above)"
fi
