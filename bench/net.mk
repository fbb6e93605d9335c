# make bench: the network backend against a veth pair between the same
# namespaces (bench/net.sh).
BENCH_TARGETS += bench/net.sh
