# tests/blk/poll.mk: the blk queue's adaptive polling (blk/poll.c).
$(B)/tests/blk/blk_poll_test: tests/blk/blk_poll_test.c $(B)/libxenbackd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ tests/blk/blk_poll_test.c $(B)/libxenbackd.a \
		$(LDLIBS_DAEMON)

check-build: $(B)/tests/blk/blk_poll_test
CHECK_SUITES += $(B)/tests/blk/blk_poll_test
CHECK_SUITES += tests/blk/sim-blk-poll.sh
