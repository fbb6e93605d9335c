# tests/e2e: Debian's Xen 4.17 and Linux 6.1 under qemu, unmodified xl
# driving xenbackd (tests/e2e/run.sh, docs/e2e.md).
#
#   make e2e                                 the registered scenarios
#   make e2e E2E_SCENARIOS="a b"             chosen scenarios
#   make e2e E2E_SCENARIOS="$(ls ...)"       see docs/e2e.md
#   make e2e E2E_DEVICES="vbd vif"           the usual guest's devices
#   make e2e E2E_KERNEL_BACKENDS=1           same scenarios on the kernel's
#                                            xen-blkback/xen-netback

# The scenarios `make check` runs (all with a disk and a vif in the usual
# guest, e2e_std_guest), by the issue that owns them; only those that pass
# reliably against the daemon in main. On an idle 2-core machine the whole
# list takes about 6 minutes (the boot is paid once). restart-live brings
# its own guest (a disk busy with ext4 and a pinged vif across two daemon
# restarts).
E2E_CORE_SCENARIOS ?= dom0-ready create-disk-vif detach destroy restart \
		      disk-lifecycle poweroff two-guests ctl-json restart-live \
		      sweep-dead-domain
E2E_BLK_SCENARIOS ?= blk-rw blk-ro blk-guest blk-destroy-io blk-conf-copy \
		     blk-kept-restart blk-destroy-discard blk-discard-refused
E2E_NET_SCENARIOS ?= net-ping net-traffic net-hotplug
E2E_SCENARIOS ?= $(E2E_CORE_SCENARIOS) $(E2E_BLK_SCENARIOS) \
		 $(E2E_NET_SCENARIOS)
E2E_DEVICES ?= vbd vif
export E2E_DEVICES
export E2E_SCENARIOS

.PHONY: e2e
# Helpers that run in dom0 (same glibc as the fetched one: Debian 12).
$(B)/e2e/e2e-notify: tests/e2e/notify.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<
$(B)/e2e/e2e-devlinks: tests/e2e/devlinks.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

check-build: $(B)/e2e/e2e-notify $(B)/e2e/e2e-devlinks
CHECK_SUITES += tests/e2e/run.sh

e2e: deps-test
	@$(MAKE) --no-print-directory all check-build
	@tests/run-suites.sh tests/e2e/run.sh
