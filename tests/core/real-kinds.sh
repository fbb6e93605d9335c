#!/bin/sh
# The xenbackd binary itself (with the kinds of blk/ and net/) on the
# simulated host: each device type it serves reaches InitWait as libxl
# writes the device, and is Closed on SIGTERM.
cd "$(dirname "$0")/../.." || exit 1
exec timeout 120 build/tests/core/lifecycle build/xenbackd "xenbackd serves"
