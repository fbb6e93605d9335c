#!/bin/sh
# The daemon core on the simulated host (tests/core/lifecycle.c), with the
# service built with the test kind. Bounded: each case waits at most a
# few seconds, the whole suite at most 5 minutes.
cd "$(dirname "$0")/../.." || exit 1
exec timeout 300 build/tests/core/lifecycle build/tests/core/xenbackd-test
