#!/bin/sh
# fuzz-blkif.sh: the blkif request fetch/validation fuzzer,
# BLK_FUZZ_SECONDS (default 15) from an empty corpus; tests/fuzz.sh runs it.
exec tests/fuzz.sh build/tests/blk/fuzz_blkif "${BLK_FUZZ_SECONDS:-15}" \
	"fuzz blkif fetch/check"
