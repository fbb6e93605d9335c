#!/bin/sh
# fuzz-offload.sh: the offload/rate fuzzer (net/offload.c over a guest's
# frame and flags or a TAP frame and its virtio-net header, and
# net/rate.c's "rate" parser), FUZZ_SECONDS (default 10) from an empty
# corpus; tests/fuzz.sh runs it.
exec tests/fuzz.sh -m 4096 build/tests/net/fuzz_offload \
	"${FUZZ_SECONDS:-10}" "offload and rate fuzzer"
