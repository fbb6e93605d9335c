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
