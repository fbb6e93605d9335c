# tests/e2e: Debian's Xen 4.17 and Linux 6.1 under qemu, unmodified xl
# driving xenbackd (tests/e2e/run.sh, docs/e2e.md).
#
#   make e2e                                 the registered scenarios
#   make e2e E2E_SCENARIOS="a b"             chosen scenarios
#   make e2e E2E_SCENARIOS="$(ls ...)"       see docs/e2e.md
#   make e2e E2E_KERNEL_BACKENDS=1           same scenarios on the kernel's
#                                            xen-blkback/xen-netback

# The scenarios `make check` runs: only those that pass reliably against
# the daemon in main.
E2E_SCENARIOS ?= dom0-ready create-disk-vif detach destroy poweroff two-guests \
		 restart ctl-json
export E2E_SCENARIOS

.PHONY: e2e
$(B)/e2e/e2e-notify: tests/e2e/notify.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

check-build: $(B)/e2e/e2e-notify
# Registered in CHECK_SUITES once main's xenbackd serves vbd and vif far
# enough for the scenarios above (the suite must test xenbackd, never the
# kernel's backends).

e2e: deps-test
	@$(MAKE) --no-print-directory all check-build
	@tests/run-suites.sh tests/e2e/run.sh
