# tests/core/log.mk: the logging path's own tests (backend/log*.c).
#
# log_test         native journal records; the non-blocking sink against
#                  a stalled stand-in journal and a full stderr pipe
# journal-busy.sh  the real daemon serving a guest and xenbackctl while
#                  its journal is stuck, then reporting what it dropped

$(B)/tests/core/log_test: tests/core/log_test.c $(B)/libxenbackd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libxenbackd.a $(LDLIBS_DAEMON)

check-build: $(B)/tests/core/log_test
CHECK_SUITES += $(B)/tests/core/log_test

# The real daemon keeps serving while its journal is stuck (a stand-in
# journal socket in a mount namespace; needs blk/'s sim frontend and
# e2e's datagram listener).
ifneq ($(wildcard tests/xensim/xensim.mk tests/blk/blk.mk tests/e2e/notify.c),)
check-build: $(B)/e2e/e2e-notify $(B)/tests/blk/blk_sim_front
CHECK_SUITES += tests/core/journal-busy.sh
endif
