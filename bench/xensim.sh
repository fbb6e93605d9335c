#!/bin/sh
# bench/xensim.sh: the simulated hypervisor's own costs (grant copy, grant
# map, event-channel round trip) against the same work done natively, in
# the same run. BENCH_XENSIM_SECONDS (default 1) per measurement.
set -eu
B=${B:-build}
X=$B/xensim/xensim
tmp=$(mktemp -d /tmp/xb-xensim.XXXX)
trap 'timeout 30 $X stop "$tmp/h" >/dev/null 2>&1; rm -rf "$tmp"' EXIT INT TERM
timeout 30 $X start "$tmp/h"
timeout 30 $X create "$tmp/h" 1
XENSIM_HOST=$tmp/h XENSIM_DOMID=0 LD_LIBRARY_PATH=$B/xensim/lib \
	timeout 120 $B/xensim/tests/b_sim 1 "${BENCH_XENSIM_SECONDS:-1}"
