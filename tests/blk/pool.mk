# tests/blk/pool.mk: a queue's data pages in contiguous runs (blk/pool.c).
$(B)/tests/blk/blk_pool_test: tests/blk/blk_pool_test.c $(B)/libxenbackd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ tests/blk/blk_pool_test.c $(B)/libxenbackd.a \
		$(LDLIBS_DAEMON)

check-build: $(B)/tests/blk/blk_pool_test
CHECK_SUITES += $(B)/tests/blk/blk_pool_test
