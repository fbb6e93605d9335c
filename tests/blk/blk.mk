# Block backend tests: ring unit tests, fuzzer, simulated-host suites.

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all

$(B)/tests/blk/ring_blkif_test: tests/blk/ring_blkif_test.c ring/blkif.c \
		ring/blkif.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ tests/blk/ring_blkif_test.c \
		ring/blkif.c

$(B)/tests/blk/fuzz_blkif: tests/blk/fuzz_blkif.c ring/blkif.c ring/blkif.h
	@mkdir -p $(dir $@)
	clang -std=gnu11 -O1 -g -D_GNU_SOURCE -I. -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -o $@ \
		tests/blk/fuzz_blkif.c ring/blkif.c

$(B)/tests/blk/blk_unit: tests/blk/blk_unit.c $(B)/libxenbackd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libxenbackd.a $(LDLIBS_DAEMON)

# blk/pgrant.c against a recording stand-in for libxengnttab's map and
# unmap (the test's own definitions take precedence over the library's).
$(B)/tests/blk/blk_pgrant_test: tests/blk/blk_pgrant_test.c \
		$(B)/libxenbackd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libxenbackd.a $(LDLIBS_DAEMON)

# The same under ASan/UBSan: batches, twins, evictions and teardown
# touch nothing freed and leak nothing.
PGRANT_ASAN_SRCS := tests/blk/blk_pgrant_test.c blk/pgrant.c \
	backend/resources.c backend/log.c backend/logsink.c backend/logrecord.c
$(B)/tests/blk/blk_pgrant_test_asan: $(PGRANT_ASAN_SRCS) blk/blk.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 $(SAN_FLAGS) -o $@ $(PGRANT_ASAN_SRCS) \
		$(LDLIBS_DAEMON)

check-build: $(B)/tests/blk/ring_blkif_test $(B)/tests/blk/fuzz_blkif \
	$(B)/tests/blk/blk_unit $(B)/tests/blk/blk_pgrant_test \
	$(B)/tests/blk/blk_pgrant_test_asan
CHECK_SUITES += $(B)/tests/blk/ring_blkif_test tests/blk/fuzz-blkif.sh \
	$(B)/tests/blk/blk_unit $(B)/tests/blk/blk_pgrant_test \
	$(B)/tests/blk/blk_pgrant_test_asan

# Simulated guests (needs the simulated host's guest library).
ifneq ($(wildcard tests/xensim/xensim.mk),)
BLKFRONT_SRCS := tests/xensim/front/blkfront.c ring/blkif.c
$(B)/tests/blk/blk_sim_front: tests/blk/blk_sim_front.c $(BLKFRONT_SRCS) \
		tests/xensim/front/blkfront.h ring/blkif.h $(B)/xensim/libxsg.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ tests/blk/blk_sim_front.c $(BLKFRONT_SRCS) \
		$(B)/xensim/libxsg.a -lxenstore -lpthread

# A guest placing its grants by hand, for map mode's batches.
$(B)/tests/blk/blk_map_front: tests/blk/blk_map_front.c $(BLKFRONT_SRCS) \
		tests/xensim/front/blkfront.h ring/blkif.h $(B)/xensim/libxsg.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ tests/blk/blk_map_front.c $(BLKFRONT_SRCS) \
		$(B)/xensim/libxsg.a -lxenstore -lpthread

# A FUSE filesystem refusing fsync: a backing that cannot flush.
$(B)/tests/blk/refusefs: tests/blk/refusefs.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $$(pkg-config --cflags fuse3) -o $@ $< \
		$$(pkg-config --libs fuse3)

check-build: $(B)/tests/blk/blk_sim_front $(B)/tests/blk/refusefs \
	$(B)/tests/blk/blk_map_front
CHECK_SUITES += tests/blk/sim-blk.sh tests/blk/sim-blk-map.sh \
	tests/blk/sim-blk-mapbatch.sh \
	tests/blk/sim-blk-datapath.sh tests/blk/sim-blk-largereads.sh \
	tests/blk/sim-blk-refuse.sh \
	tests/blk/sim-blk-sweep.sh tests/blk/sim-blk-nodes.sh
endif
