#!/bin/sh
# Suite: run the core's parser fuzzer (tests/core/fuzz_parse.c) briefly
# from a small seed corpus (CORE_FUZZ_SECONDS, default 10). A crash, a
# sanitizer report or a broken invariant is a FAIL.
set -u
bin=build/tests/core/fuzz_parse
secs=${CORE_FUZZ_SECONDS:-10}
dir=$(mktemp -d /tmp/xb-core-fuzz.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/corpus"
printf '\00018446744073709551615' >"$dir/corpus/uint"
printf '\001/local/domain/5/device/vbd/51712' >"$dir/corpus/fe"
printf '\002/5/51712/queue-0/ring-ref' >"$dir/corpus/dev"
printf '\00400:16:3e:0A:1b:2c' >"$dir/corpus/mac"
printf '\005fe:0' >"$dir/corpus/pd"
printf '\003# c\nkinds = vbd,vif\nlog-level = debug\ncontrol-socket = /run/x\nfz-opt = on\n' \
	>"$dir/corpus/conf"
if timeout $((secs + 60)) "$bin" -max_total_time="$secs" -rss_limit_mb=1024 \
	-artifact_prefix="$dir/" "$dir/corpus" >"$dir/log" 2>&1; then
	runs=$(grep -o 'Done [0-9]* runs' "$dir/log" | grep -o '[0-9]*')
	echo "PASS: fuzz xenstore values (mac, physical-device), paths and configuration (${runs:-?} runs, ${secs}s)"
else
	tail -n 30 "$dir/log"
	echo "FAIL: fuzz xenstore values (mac, physical-device), paths and configuration: crash or invariant broken"
fi
