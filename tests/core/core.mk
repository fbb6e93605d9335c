# tests/core: the daemon core's tests (issue 3).
#
# unit      pure parts: parsing, configuration, loop, workers
# (more suites run the daemon on the simulated host)

CORE_TEST_CFLAGS := $(CFLAGS)

$(B)/tests/core/unit: tests/core/unit.c $(B)/libxenbackd.a
	@mkdir -p $(dir $@)
	$(CC) $(CORE_TEST_CFLAGS) -o $@ $< $(B)/libxenbackd.a $(LDLIBS_DAEMON)

check-build: $(B)/tests/core/unit
CHECK_SUITES += $(B)/tests/core/unit

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
