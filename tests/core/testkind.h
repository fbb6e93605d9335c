/*
 * testkind.h - a device kind for testing the daemon core on the simulated
 * host, type "xbt". It exercises every part of the contract a real kind
 * uses: probe writes a feature node; hotplug_done waits for
 * hotplug-status; connect maps a ring of 1..4 pages (ring-page-order) and
 * binds an event channel, served by a worker; disconnect drains it.
 *
 * The ring's first page holds two counters: the frontend bumps `req` and
 * notifies; the worker copies req into `rsp` and notifies back. Backend
 * nodes steer failures: "test-probe" = "fail" fails probe with a message,
 * "eagain" makes it wait.
 */
#ifndef XB_TESTS_CORE_TESTKIND_H
#define XB_TESTS_CORE_TESTKIND_H

#include <stdint.h>

#include "backend/device.h"

struct xbt_page {
	uint32_t req;	/* written by the frontend */
	uint32_t rsp;	/* written by the backend */
	uint32_t pages;	/* backend: how many pages it mapped */
};

extern const struct xb_kind test_kind;

#endif
