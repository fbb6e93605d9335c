/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * net/offload.h - checksum and segmentation offload between netif and the
 * TAP's virtio-net header.
 *
 * netif says only "checksum blank" and "GSO, this MSS"; the host stack
 * wants where the checksum starts and where it goes. Both are found by
 * parsing the packet's own headers, within its length, on our private copy
 * of it: a packet whose headers do not parse is not handed to the host
 * with an offload request (it is dropped, as netback drops it).
 */
#ifndef XB_NET_OFFLOAD_H
#define XB_NET_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a packet's transport header is, as parsed. */
struct net_l4 {
	bool ipv6;
	uint8_t proto;       /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t l3_off;     /* IP header */
	uint16_t l4_off;     /* TCP/UDP header */
	uint16_t l4_hdr_len; /* TCP header with options, or 8 for UDP */
	uint16_t csum_off;   /* checksum field, from l4_off */
};

/* Parse Ethernet (+ one VLAN tag), IPv4/IPv6, TCP/UDP; 0 or -1. */
int net_offload_parse(const uint8_t *pkt, size_t len, struct net_l4 *l4);

/*
 * The virtio-net header for a guest packet with netif flags (NETTXF_*) and
 * an optional GSO (type XEN_NETIF_GSO_TYPE_*, MSS). May write the
 * pseudo-header checksum into the packet (GSO without csum_blank, as
 * netback fixes up buggy frontends). 0, or -1: drop the packet.
 */
int net_offload_from_guest(uint8_t *pkt, size_t len, uint16_t netif_flags,
			   uint8_t gso_type, uint16_t gso_size,
			   struct virtio_net_hdr *vh);

/* What a frontend accepts on its receive side. */
struct net_rx_caps {
	bool csum_v4; /* NETRXF_csum_blank for IPv4 (no feature-no-csum-offload) */
	bool csum_v6; /* ... for IPv6 (feature-ipv6-csum-offload) */
	bool gso_v4;  /* feature-gso-tcpv4 */
	bool gso_v6;  /* feature-gso-tcpv6 */
};

/*
 * From a host packet's virtio-net header to netif rx flags (NETRXF_*) and
 * GSO. A partial checksum the guest cannot take is completed here. 0, or
 * -1: the packet cannot be given to this guest (drop it).
 */
int net_offload_to_guest(uint8_t *pkt, size_t len,
			 const struct virtio_net_hdr *vh,
			 const struct net_rx_caps *caps, uint16_t *netrx_flags,
			 uint8_t *gso_type, uint16_t *gso_size);

/* Finish a partial checksum: sum from start to the end, store at start+off. */
int net_offload_csum_complete(uint8_t *pkt, size_t len, uint16_t start,
			      uint16_t off);

/* The one's complement sum of buf, folded to 16 bits (not inverted). */
uint16_t net_offload_csum_fold(const uint8_t *buf, size_t len, uint32_t sum);

#endif
