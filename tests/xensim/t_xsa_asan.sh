#!/bin/sh
# t_xsa_asan.sh - t_xsa.sh again with the daemon built with ASan and UBSan
# (build/xensim/xenbackd-asan): a hostile guest that makes the daemon read
# or write out of bounds, use freed memory or leak (LeakSanitizer at its
# exit) fails the run. Case names begin with "asan ".
# ASan keeps freed chunks in a quarantine (256 MiB by default) that shows as
# resident memory: watch-flood's bound on the daemon's RSS growth (16 MiB)
# would measure the quarantine, not the daemon. 4 MiB still holds thousands
# of the daemon's small freed objects for use-after-free detection.
cd "$(dirname "$0")/../.." || exit 1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:quarantine_size_mb=4 \
UBSAN_OPTIONS=print_stacktrace=1 \
XSA_DAEMON=build/xensim/xenbackd-asan SIM_PREFIX="asan " \
	exec tests/xensim/t_xsa.sh
