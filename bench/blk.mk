# make bench: the block backend against native fio on the same backing.
BENCH_TARGETS += bench/blk.sh
