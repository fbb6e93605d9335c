# make bench: the simulated hypervisor's own costs against native.
BENCH_TARGETS += bench/xensim.sh
