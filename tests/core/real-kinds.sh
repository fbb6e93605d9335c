#!/bin/sh
# The xenbackd binary itself (with the kinds of blk/ and net/) on the
# simulated host: each device type reaches InitWait as libxl writes the
# device, and is Closed on SIGTERM. A kind is checked once its folder is
# in the tree (then daemon.c must find it).
cd "$(dirname "$0")/../.." || exit 1
rc=0
for k in blk:vbd net:vif; do
	dir=${k%%:*} type=${k#*:}
	ls "$dir"/*.c >/dev/null 2>&1 || continue
	timeout 120 build/tests/core/lifecycle build/xenbackd \
		"xenbackd serves $type" || rc=1
done
exit $rc
