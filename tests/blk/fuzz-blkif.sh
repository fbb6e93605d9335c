#!/bin/sh
# Suite: run the blkif request fetch/validation fuzzer briefly from a seed
# corpus (BLK_FUZZ_SECONDS, default 15). Any crash, sanitizer report or
# failed invariant is a FAIL.
set -u
bin=build/tests/blk/fuzz_blkif
secs=${BLK_FUZZ_SECONDS:-15}
dir=$(mktemp -d /tmp/xb-blk.XXXX)
trap 'rm -rf "$dir"' EXIT
if timeout $((secs + 60)) "$bin" -max_total_time="$secs" -rss_limit_mb=1024 \
	-artifact_prefix="$dir/" "$dir" >"$dir/log" 2>&1; then
	runs=$(grep -o 'Done [0-9]* runs' "$dir/log" | grep -o '[0-9]*')
	echo "PASS: fuzz blkif fetch/check (${runs:-?} runs, ${secs}s)"
else
	tail -n 30 "$dir/log"
	echo "FAIL: fuzz blkif fetch/check: crash or invariant broken"
fi
