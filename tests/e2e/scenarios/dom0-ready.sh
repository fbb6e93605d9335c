# dom0-ready: Xen and dom0 are up, the tools answer, and the backends are
# the ones asked for: xenbackd running (READY=1 seen, listing no device)
# with the kernel's xen-blkback/xen-netback not loaded, or, in the kernel
# mode, those two modules.

guest() { :; }

dom0() {
	xl list | grep -q '^Domain-0 ' || fail "xl list shows no Domain-0"
	e2e_xs_is /local/domain/0/domid 0 || fail "/local/domain/0/domid is not 0"
	if [ "$E2E_MODE" = kernel ]; then
		grep -q '^xen_blkback ' /proc/modules || fail "xen-blkback not loaded"
		grep -q '^xen_netback ' /proc/modules || fail "xen-netback not loaded"
		return 0
	fi
	e2e_assert_no_kernel_backends || fail "kernel backends present"
	kill -0 "$(e2e_xenbackd_pid)" || fail "xenbackd is not running"
	grep -q '^READY=1' "$E2E_NOTIFY_LOG" || fail "xenbackd sent no READY=1"
	e2e_ctl >"$E2E_DIR/ctl.out" 2>&1 || fail "xenbackctl failed: $(cat "$E2E_DIR/ctl.out")"
	cat "$E2E_DIR/ctl.out"
}
