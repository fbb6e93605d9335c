/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * net/tap.h - the host side of a vif: a multi-queue TAP device.
 *
 * Every queue fd carries frames with a struct virtio_net_hdr in front, so
 * checksum offload and TSO cross between the guest and the host stack
 * untouched. The device lives as long as its first queue fd (it is not
 * persistent): closing it removes the netdev, so a daemon that dies leaves
 * no TAP behind.
 */
#ifndef XB_NET_TAP_H
#define XB_NET_TAP_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define NET_TAP_VNET_HDR_LEN 10 /* struct virtio_net_hdr */

/* Check a netdev name from xenstore: 1..15 bytes of [A-Za-z0-9._-]. */
bool net_tap_name_is_valid(const char *name);

/*
 * Create the TAP (or attach another queue to it): returns a non-blocking,
 * close-on-exec fd, or -errno. `name` is the exact name wanted; creating
 * fails with -EBUSY if another device holds it.
 */
int net_tap_open_queue(const char *name, bool create);

/* Offloads the reader of queue fds accepts (TUN_F_*), on any queue fd. */
int net_tap_set_offload(int fd, unsigned int tun_flags);

/* Link settings through an AF_INET ioctl socket; 0 or -errno. */
int net_tap_set_mac(const char *name, const uint8_t mac[6]);
int net_tap_set_mtu(const char *name, unsigned int mtu);
int net_tap_get_mtu(const char *name, unsigned int *mtu);
int net_tap_set_up(const char *name, bool up);

#endif
