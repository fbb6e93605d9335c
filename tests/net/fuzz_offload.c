// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_offload - libFuzzer target over net/offload.c and net/rate.c's
 * parser: a guest's transmitted frame with any netif checksum/GSO flags,
 * a frame from the TAP with any virtio-net header, the toolstack's "rate"
 * value. The frame lies in a buffer of exactly its length (ASan sees one
 * byte past it); what the functions accept must satisfy what net/queue.c
 * relies on.
 *
 * Input: byte 0 chooses the function; then, per function, a few bytes of
 * flags and sizes, then the frame (or the string).
 */
#include "net/offload.h"
#include "net/rate.h"

#include <stdlib.h>
#include <string.h>
#include <xen/io/netif.h>

static void check(bool cond)
{
	if (!cond)
		abort();
}

/* The bytes of a frame, in a buffer of exactly len bytes. */
static uint8_t *frame_copy(const uint8_t *data, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, data, len);
	return p;
}

static void fuzz_parse(const uint8_t *data, size_t len)
{
	uint8_t *pkt = frame_copy(data, len);
	struct net_l4 l4;

	if (!pkt)
		return;
	if (!net_offload_parse(pkt, len, &l4)) {
		check(l4.l3_off >= 14 && l4.l3_off < l4.l4_off);
		check((size_t)l4.l4_off + l4.l4_hdr_len <= len);
		check((size_t)l4.l4_off + l4.csum_off + 2 <= len);
	}
	free(pkt);
}

/*
 * Bytes 0-4: netif flags, GSO type, GSO size (little-endian). The GSO
 * extra is what ring/netif.c lets through: none, or TCPv4/TCPv6 with a
 * size that is not 0.
 */
static void fuzz_from_guest(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr vh;
	uint16_t flags, gso_size;
	uint8_t gso_type, *pkt;
	size_t len;

	if (size < 5)
		return;
	flags = (uint16_t)(data[0] | data[1] << 8);
	gso_type = data[2] % 3; /* NONE, TCPV4, TCPV6 */
	gso_size = (uint16_t)(data[3] | data[4] << 8);
	if (gso_type != XEN_NETIF_GSO_TYPE_NONE && !gso_size)
		gso_size = 1;
	len = size - 5;
	pkt = frame_copy(data + 5, len);
	if (!pkt)
		return;
	if (!net_offload_from_guest(pkt, len, flags, gso_type, gso_size,
				    &vh)) {
		if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			check((size_t)vh.csum_start + vh.csum_offset + 2 <=
			      len);
		if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
			check(vh.gso_size == gso_size && gso_size != 0);
			check(vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
			check(vh.hdr_len > vh.csum_start && vh.hdr_len <= len);
		}
	}
	free(pkt);
}

/* Bytes 0-9: the virtio-net header; byte 10: the guest's capabilities. */
static void fuzz_to_guest(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr vh;
	struct net_rx_caps caps;
	uint16_t rx_flags, gso_size;
	uint8_t gso_type, *pkt;
	size_t len;

	if (size < sizeof(vh) + 1)
		return;
	memcpy(&vh, data, sizeof(vh));
	caps.csum_v4 = data[sizeof(vh)] & 1;
	caps.csum_v6 = data[sizeof(vh)] & 2;
	caps.gso_v4 = data[sizeof(vh)] & 4;
	caps.gso_v6 = data[sizeof(vh)] & 8;
	len = size - sizeof(vh) - 1;
	if (len < 14)
		return; /* net/queue.c drops runts before */
	pkt = frame_copy(data + sizeof(vh) + 1, len);
	if (!pkt)
		return;
	if (!net_offload_to_guest(pkt, len, &vh, &caps, &rx_flags, &gso_type,
				  &gso_size)) {
		check(!(rx_flags & ~(NETRXF_csum_blank |
				     NETRXF_data_validated)));
		if (gso_type != XEN_NETIF_GSO_TYPE_NONE) {
			check(gso_size != 0);
			check(rx_flags & NETRXF_csum_blank);
			check(gso_type == XEN_NETIF_GSO_TYPE_TCPV4 ?
				      caps.gso_v4 :
				      gso_type == XEN_NETIF_GSO_TYPE_TCPV6 &&
					      caps.gso_v6);
		}
	}
	free(pkt);
}

static void fuzz_rate(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint64_t bytes, usec;

	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!net_rate_parse(s, &bytes, &usec))
		check(usec != 0 && strchr(s, ',') && s[0] >= '0' &&
		      s[0] <= '9');
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_parse(data + 1, size - 1);
		break;
	case 1:
		fuzz_from_guest(data + 1, size - 1);
		break;
	case 2:
		fuzz_to_guest(data + 1, size - 1);
		break;
	default:
		fuzz_rate(data + 1, size - 1);
		break;
	}
	return 0;
}
