# tests/core: the daemon core's tests (issue 3).
#
# unit      pure parts: parsing, configuration, loop, workers
# (more suites run the daemon on the simulated host)

CORE_TEST_CFLAGS := $(CFLAGS)

$(B)/tests/core/unit: tests/core/unit.c $(B)/libxenbackd.a
	@mkdir -p $(dir $@)
	$(CC) $(CORE_TEST_CFLAGS) -o $@ $< $(B)/libxenbackd.a $(LDLIBS_DAEMON)

# The parsers of outside input, fuzzed (clang's libFuzzer).
$(B)/tests/core/fuzz_parse: tests/core/fuzz_parse.c xenstore/xbs.c \
		backend/config.c backend/log.c backend/logsink.c \
		backend/logrecord.c
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -I. -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $(filter %.c,$^) -lxenstore -lsystemd -lpthread

check-build: $(B)/tests/core/unit $(B)/tests/core/fuzz_parse
CHECK_SUITES += $(B)/tests/core/unit tests/core/install.sh \
		tests/core/fuzz-parse.sh

$(B)/tests/core/xenbackd-test: tests/core/xenbackd-test.c \
		tests/core/testkind.c $(B)/libxenbackd.a
	@mkdir -p $(dir $@)
	$(CC) $(CORE_TEST_CFLAGS) -o $@ $(filter %.c,$^) $(B)/libxenbackd.a \
		$(LDLIBS_DAEMON)

check-build: $(B)/tests/core/xenbackd-test

# Tests on the simulated host need tests/xensim (its guest library).
ifneq ($(wildcard tests/xensim/xensim.mk),)
$(B)/tests/core/xbtfront: tests/core/xbtfront.c $(B)/xensim/libxsg.a
	@mkdir -p $(dir $@)
	$(CC) $(CORE_TEST_CFLAGS) -o $@ $< $(B)/xensim/libxsg.a \
		-lxenstore -lpthread

$(B)/tests/core/lifecycle: tests/core/lifecycle.c tests/core/sim.c
	@mkdir -p $(dir $@)
	$(CC) $(CORE_TEST_CFLAGS) -o $@ $(filter %.c,$^) -lxenstore

check-build: xensim $(B)/tests/core/xbtfront $(B)/tests/core/lifecycle
CHECK_SUITES += tests/core/lifecycle.sh
endif

# The service with the test kind, built with ASan/UBSan (LeakSanitizer at
# exit) for the connect/disconnect cycles.
CORE_ASAN_FLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. \
	-fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
$(B)/tests/core/xenbackd-asan: tests/core/xenbackd-test.c \
		tests/core/testkind.c $(CORE_SRCS)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_ASAN_FLAGS) -o $@ $(filter %.c,$^) $(LDLIBS_DAEMON)

ifneq ($(wildcard tests/xensim/xensim.mk),)
check-build: $(B)/tests/core/xenbackd-asan
CHECK_SUITES += tests/core/cycles.sh tests/core/real-kinds.sh
endif

# What the daemon holds per domain back to 0, restarts under verified
# disk I/O, xenbackctl answering under I/O and close churn, and a close
# stuck behind a held flush (all need blk/'s sim frontend; slow-close
# also blk/'s refusefs and the ASan daemon of tests/xensim).
$(B)/tests/core/ctlstall: tests/core/ctlstall.c
	@mkdir -p $(dir $@)
	$(CC) $(CORE_TEST_CFLAGS) -o $@ $<

ifneq ($(wildcard tests/xensim/xensim.mk tests/blk/blk.mk),)
check-build: $(B)/tests/blk/blk_sim_front $(B)/tests/core/ctlstall \
	$(B)/tests/blk/refusefs $(B)/xensim/xenbackd-asan
CHECK_SUITES += tests/core/resources.sh tests/core/restart.sh \
		tests/core/responsive.sh tests/core/slow-close.sh
endif

# Logging to the journal, with a stand-in journal socket (needs e2e's
# datagram listener).
ifneq ($(wildcard tests/xensim/xensim.mk tests/e2e/notify.c),)
check-build: $(B)/e2e/e2e-notify
CHECK_SUITES += tests/core/journal.sh
endif
