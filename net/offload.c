// SPDX-License-Identifier: GPL-2.0-only
/*
 * net/offload.c - header parsing and checksums for offload translation.
 */
#include "net/offload.h"

#include <netinet/in.h>
#include <string.h>
#include <xen/io/netif.h>

#define ETH_HLEN_ 14
#define ETH_P_IPV4_ 0x0800
#define ETH_P_IPV6_ 0x86dd
#define ETH_P_8021Q_ 0x8100
#define IPV6_HLEN 40
#define IPV6_MAX_EXT 8 /* extension headers walked at most */

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Skip IPv6 extension headers; the transport's protocol and offset. */
static int parse_ipv6(const uint8_t *pkt, size_t len, size_t off,
		      uint8_t *proto, size_t *l4_off)
{
	uint8_t next;
	unsigned int i;

	if (off + IPV6_HLEN > len)
		return -1;
	next = pkt[off + 6];
	off += IPV6_HLEN;
	for (i = 0; i < IPV6_MAX_EXT; i++) {
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (off + 8 > len)
				return -1;
			next = pkt[off];
			off += ((size_t)pkt[off + 1] + 1) * 8;
			break;
		default:
			*proto = next;
			*l4_off = off;
			return 0;
		}
	}
	return -1;
}

int net_offload_parse(const uint8_t *pkt, size_t len, struct net_l4 *l4)
{
	size_t off = ETH_HLEN_, l4_off;
	uint16_t type;
	uint8_t proto;

	memset(l4, 0, sizeof(*l4));
	if (len < ETH_HLEN_)
		return -1;
	type = get_be16(pkt + 12);
	if (type == ETH_P_8021Q_) {
		if (len < ETH_HLEN_ + 4)
			return -1;
		type = get_be16(pkt + 16);
		off += 4;
	}
	if (type == ETH_P_IPV4_) {
		size_t ihl;

		if (off + 20 > len || (pkt[off] >> 4) != 4)
			return -1;
		ihl = (size_t)(pkt[off] & 0xf) * 4;
		/* A fragment has no transport header to offload for. */
		if (ihl < 20 || off + ihl > len ||
		    (get_be16(pkt + off + 6) & 0x3fff))
			return -1;
		proto = pkt[off + 9];
		l4_off = off + ihl;
	} else if (type == ETH_P_IPV6_) {
		if (off + IPV6_HLEN > len || (pkt[off] >> 4) != 6 ||
		    parse_ipv6(pkt, len, off, &proto, &l4_off))
			return -1;
		l4->ipv6 = true;
	} else {
		return -1;
	}
	if (proto == IPPROTO_TCP) {
		size_t doff;

		if (l4_off + 20 > len)
			return -1;
		doff = (size_t)(pkt[l4_off + 12] >> 4) * 4;
		if (doff < 20 || l4_off + doff > len)
			return -1;
		l4->l4_hdr_len = (uint16_t)doff;
		l4->csum_off = 16;
	} else if (proto == IPPROTO_UDP) {
		if (l4_off + 8 > len)
			return -1;
		l4->l4_hdr_len = 8;
		l4->csum_off = 6;
	} else {
		return -1;
	}
	l4->proto = proto;
	l4->l3_off = (uint16_t)off;
	l4->l4_off = (uint16_t)l4_off;
	return 0;
}

uint16_t net_offload_csum_fold(const uint8_t *buf, size_t len, uint32_t sum)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	if (len & 1)
		s += (uint32_t)buf[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

int net_offload_csum_complete(uint8_t *pkt, size_t len, uint16_t start,
			      uint16_t off)
{
	uint16_t csum;

	if ((size_t)start + off + 2 > len)
		return -1;
	csum = (uint16_t)~net_offload_csum_fold(pkt + start, len - start, 0);
	/* UDP sends 0 as "no checksum"; a computed 0 goes as 0xffff. */
	if (csum == 0 && off == 6)
		csum = 0xffff;
	put_be16(pkt + start + off, csum);
	return 0;
}

/* Store the pseudo-header sum (not inverted) in the L4 checksum field. */
static void put_pseudo_csum(uint8_t *pkt, size_t len, const struct net_l4 *l4)
{
	uint32_t l4_len = (uint32_t)(len - l4->l4_off);
	uint8_t ph[40];
	size_t n;

	if (l4->ipv6) {
		memcpy(ph, pkt + l4->l3_off + 8, 32);
		n = 32;
	} else {
		memcpy(ph, pkt + l4->l3_off + 12, 8);
		n = 8;
	}
	put_be16(pkt + l4->l4_off + l4->csum_off,
		 net_offload_csum_fold(ph, n, l4_len + l4->proto));
}

int net_offload_from_guest(uint8_t *pkt, size_t len, uint16_t netif_flags,
			   uint8_t gso_type, uint16_t gso_size,
			   struct virtio_net_hdr *vh)
{
	struct net_l4 l4;
	bool blank = netif_flags & NETTXF_csum_blank;

	memset(vh, 0, sizeof(*vh));
	if (!blank && gso_type == XEN_NETIF_GSO_TYPE_NONE) {
		if (netif_flags & NETTXF_data_validated)
			vh->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return 0;
	}
	if (net_offload_parse(pkt, len, &l4))
		return -1;
	if (gso_type != XEN_NETIF_GSO_TYPE_NONE) {
		bool v6 = gso_type == XEN_NETIF_GSO_TYPE_TCPV6;

		if (l4.proto != IPPROTO_TCP || l4.ipv6 != v6)
			return -1;
		if (!blank)
			put_pseudo_csum(pkt, len, &l4);
		vh->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6
				  : VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = gso_size;
		vh->hdr_len = (uint16_t)(l4.l4_off + l4.l4_hdr_len);
	}
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = l4.l4_off;
	vh->csum_offset = l4.csum_off;
	return 0;
}

int net_offload_to_guest(uint8_t *pkt, size_t len,
			 const struct virtio_net_hdr *vh,
			 const struct net_rx_caps *caps, uint16_t *netrx_flags,
			 uint8_t *gso_type, uint16_t *gso_size)
{
	struct net_l4 l4;
	bool v6;

	*netrx_flags = 0;
	*gso_type = XEN_NETIF_GSO_TYPE_NONE;
	*gso_size = 0;
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		uint8_t t = vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

		if (t == VIRTIO_NET_HDR_GSO_TCPV4 && caps->gso_v4)
			*gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
		else if (t == VIRTIO_NET_HDR_GSO_TCPV6 && caps->gso_v6)
			*gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
		else
			return -1;
		if (vh->gso_size == 0)
			return -1;
		*gso_size = vh->gso_size;
	}
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if ((size_t)vh->csum_start + vh->csum_offset + 2 > len)
			return -1;
		v6 = !net_offload_parse(pkt, len, &l4) ? l4.ipv6
						       : (pkt[12] == 0x86);
		if (v6 ? caps->csum_v6 : caps->csum_v4) {
			*netrx_flags = NETRXF_csum_blank |
				       NETRXF_data_validated;
			return 0;
		}
		/* The guest cannot finish it: a GSO packet cannot be
		 * split in software here, any other one is completed. */
		if (*gso_type != XEN_NETIF_GSO_TYPE_NONE)
			return -1;
		net_offload_csum_complete(pkt, len, vh->csum_start,
					  vh->csum_offset);
		*netrx_flags = NETRXF_data_validated;
		return 0;
	}
	if (*gso_type != XEN_NETIF_GSO_TYPE_NONE)
		return -1; /* GSO always comes with a partial checksum */
	if (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID)
		*netrx_flags = NETRXF_data_validated;
	return 0;
}
