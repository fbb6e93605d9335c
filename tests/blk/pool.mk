# tests/blk/pool.mk: a queue's data pages in contiguous runs (blk/pool.c).
$(B)/tests/blk/blk_pool_test: tests/blk/blk_pool_test.c $(B)/libxenbackd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ tests/blk/blk_pool_test.c $(B)/libxenbackd.a \
		$(LDLIBS_DAEMON)

check-build: $(B)/tests/blk/blk_pool_test
CHECK_SUITES += $(B)/tests/blk/blk_pool_test

# Preloaded into the daemon: records (and can refuse) pool populates.
$(B)/tests/blk/populate_shim.so: tests/blk/populate_shim.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $< -ldl

ifneq ($(wildcard tests/xensim/xensim.mk),)
check-build: $(B)/tests/blk/populate_shim.so
CHECK_SUITES += tests/blk/sim-blk-pool.sh
endif
