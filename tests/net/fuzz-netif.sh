#!/bin/sh
# fuzz-netif.sh: the netif ring fuzzer, FUZZ_SECONDS (default 20) from an
# empty corpus; tests/fuzz.sh runs it.
exec tests/fuzz.sh -m 4096 build/tests/net/fuzz_netif \
	"${FUZZ_SECONDS:-20}" "netif ring fuzzer"
