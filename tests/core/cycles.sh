#!/bin/sh
# 100 connect/disconnect cycles (and devices, failures and a domain coming
# and going) against the daemon built with ASan/UBSan: no leak at exit, no
# fd growth, no sanitizer report. Bounded to 10 minutes.
cd "$(dirname "$0")/../.." || exit 1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	exec timeout 600 build/tests/core/lifecycle \
	build/tests/core/xenbackd-asan "connect/disconnect cycles"
