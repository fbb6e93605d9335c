/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * net/tap_owner.h - which TAP devices belong to this daemon, so that a
 * vif's TAP outlives a daemon restart or crash and nothing else's does.
 *
 * The host configures a vif's TAP once, when the toolstack's hotplug
 * script runs (bridge port, addresses, MTU); a daemon that restarts must
 * therefore find the same netdev again. A vif's TAP is persistent
 * (TUNSETPERSIST) while its device exists, and recorded in
 * <xb_run_dir()>/vif/<ifname>: the interface index it got, the network
 * namespace it was made in and the backend directory of its device. A
 * netdev is ours exactly when such a record names it and its index still
 * matches (indexes are not reused while a namespace lives, and the
 * runtime directory does not survive a reboot). Records are written
 * before the TAP becomes persistent and removed after it stopped being
 * so: a crash between two steps leaves at worst a record without its
 * netdev, which the next daemon drops.
 */
#ifndef XB_NET_TAP_OWNER_H
#define XB_NET_TAP_OWNER_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/device.h"
#include "xenstore/xbs.h"

/*
 * Queue 0 of the TAP named ifname for dev: the persistent TAP an earlier
 * daemon left for this very device (same backend directory; *adopted), or
 * a new one, made persistent and recorded. Returns the fd or -errno
 * (-EBUSY: a netdev of that name exists and is not this device's). A TAP
 * that cannot be recorded still works, but is not persistent (logged).
 */
int net_tap_acquire(struct xb_device *dev, const char *ifname,
		    bool *adopted);

/*
 * Closes queue 0 (every other queue fd closed before). keep: the TAP and
 * its record stay for the next daemon; else the TAP goes now (persistence
 * cleared) with its record.
 */
void net_tap_release(const char *ifname, int fd0, bool keep);

/*
 * At start-up: removes the TAPs (and records) earlier daemons left for
 * devices that are gone (backend directory removed, frontend domain
 * gone), and the records of TAPs that are gone. Leaves alone what it
 * cannot prove is ours. backend_dir is <own domain>/backend/vif.
 */
void net_tap_sweep(struct xbs *xs, const char *backend_dir);

#endif
