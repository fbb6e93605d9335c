# tests/net: the network backend's tests (issue 11).
#
#   ring_netif_test   table-driven rules of the netif rings (ring/netif.c)
#   net_unit_test     offload translation and rate limit (net/)
#   fuzz_netif        libFuzzer target over a hostile tx/rx ring, run briefly
#   fuzz_offload      libFuzzer target over offload parsing and the rate node
#   t_net_sim.sh      xenbackd serving netfront guests on the simulated host
#   t_net_restart.sh  vif TAPs across daemon restarts and crashes

NET_TEST_DIR := $(B)/tests/net

$(NET_TEST_DIR)/ring_netif_test: tests/net/ring_netif_test.c $(B)/ring/netif.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.o,$^)

# The fuzzer is built by clang from the sources themselves, instrumented.
NET_FUZZ_FLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -I. \
		  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(NET_TEST_DIR)/fuzz_netif: tests/net/fuzz_netif.c ring/netif.c ring/netif.h
	@mkdir -p $(dir $@)
	clang $(NET_FUZZ_FLAGS) -o $@ tests/net/fuzz_netif.c ring/netif.c

$(NET_TEST_DIR)/fuzz_offload: tests/net/fuzz_offload.c net/offload.c \
		net/offload.h net/rate.c net/rate.h
	@mkdir -p $(dir $@)
	clang $(NET_FUZZ_FLAGS) -o $@ tests/net/fuzz_offload.c net/offload.c \
		net/rate.c

$(NET_TEST_DIR)/net_unit_test: tests/net/net_unit_test.c $(B)/net/offload.o \
		$(B)/net/rate.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.o,$^)

check-build: $(NET_TEST_DIR)/ring_netif_test $(NET_TEST_DIR)/fuzz_netif \
	     $(NET_TEST_DIR)/fuzz_offload $(NET_TEST_DIR)/net_unit_test
CHECK_SUITES += $(NET_TEST_DIR)/ring_netif_test $(NET_TEST_DIR)/net_unit_test \
		tests/net/fuzz-netif.sh tests/net/fuzz-offload.sh

# The simulated guest's netif frontend and the traffic tool.
$(NET_TEST_DIR)/netfront: tests/xensim/front/netfront.c $(B)/net/offload.o \
		$(B)/xensim/libxsg.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.o %.a,$^) -lxenstore -lpthread

$(NET_TEST_DIR)/nettool: tests/net/nettool.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^)

check-build: $(NET_TEST_DIR)/netfront $(NET_TEST_DIR)/nettool
CHECK_SUITES += tests/net/t_net_sim.sh tests/net/t_net_restart.sh
