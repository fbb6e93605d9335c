/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * net/tap.h - the host side of a vif: a multi-queue TAP device.
 *
 * Every queue fd carries frames with a struct virtio_net_hdr in front, so
 * checksum offload and TSO cross between the guest and the host stack
 * untouched. A TAP that is not persistent goes with its last queue fd; a
 * persistent one stays, with its bridge port, addresses and MTU, until
 * persistence is cleared (net/tap_owner.h decides which).
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

/* TUNSETPERSIST through one of its queue fds; 0 or -errno. */
int net_tap_set_persist(int fd, bool persist);
/* The IFF_* flags of the TAP a queue fd is attached to (TUNGETIFF). */
int net_tap_get_flags(int fd, unsigned int *flags);
/* The interface index of name in our network namespace, 0 if none. */
unsigned int net_tap_ifindex(const char *name);

/* Offloads the reader of queue fds accepts (TUN_F_*), on any queue fd. */
int net_tap_set_offload(int fd, unsigned int tun_flags);

/* Link settings through an AF_INET ioctl socket; 0 or -errno. */
int net_tap_set_mac(const char *name, const uint8_t mac[6]);
int net_tap_set_mtu(const char *name, unsigned int mtu);
int net_tap_get_mtu(const char *name, unsigned int *mtu);
int net_tap_set_up(const char *name, bool up);

#endif
