# tests/core/log.mk: the logging path's own tests (backend/log*.c).
#
# log_test   native journal records; the non-blocking sink against a
#            stalled stand-in journal and a full stderr pipe

$(B)/tests/core/log_test: tests/core/log_test.c $(B)/libxenbackd.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libxenbackd.a $(LDLIBS_DAEMON)

check-build: $(B)/tests/core/log_test
CHECK_SUITES += $(B)/tests/core/log_test
