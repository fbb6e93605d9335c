// SPDX-License-Identifier: GPL-2.0-only
/*
 * net_unit_test - offload translation (net/offload.c) and the rate limit
 * (net/rate.c), as tables. Checksums are verified by an independent,
 * naive implementation here.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <xen/io/netif.h>

#include "net/offload.h"
#include "net/rate.h"

static int failures;

static void result(const char *name, bool ok, const char *why)
{
	if (ok) {
		printf("PASS: %s\n", name);
	} else {
		printf("FAIL: %s %s\n", name, why);
		failures++;
	}
}

/* ---- packets ----------------------------------------------------- */

struct pkt {
	uint8_t b[2048];
	size_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet [+VLAN] + IPv4 (ihl words) or IPv6 [+hop-by-hop] + L4. */
static struct pkt make(bool v6, bool vlan, unsigned int ihl, bool hbh,
		       uint8_t proto, size_t payload)
{
	struct pkt p;
	size_t off = 14, l4, i;

	memset(&p, 0, sizeof(p));
	memset(p.b, 0x11, 12);
	if (vlan) {
		put16(p.b + 12, 0x8100);
		put16(p.b + 14, 5);
		off += 4;
	}
	put16(p.b + off - 2, v6 ? 0x86dd : 0x0800);
	if (v6) {
		p.b[off] = 0x60;
		p.b[off + 6] = hbh ? 0 : proto;
		p.b[off + 7] = 64;
		for (i = 0; i < 32; i++)
			p.b[off + 8 + i] = (uint8_t)(i * 7 + 1);
		l4 = off + 40;
		if (hbh) {
			p.b[l4] = proto;
			p.b[l4 + 1] = 0; /* 8 bytes */
			l4 += 8;
		}
	} else {
		p.b[off] = (uint8_t)(0x40 | ihl);
		p.b[off + 8] = 64;
		p.b[off + 9] = proto;
		memcpy(p.b + off + 12, "\x0a\x01\x02\x03\x0a\x04\x05\x06", 8);
		l4 = off + ihl * 4;
	}
	if (proto == IPPROTO_TCP) {
		put16(p.b + l4, 1234);
		put16(p.b + l4 + 2, 80);
		p.b[l4 + 12] = 5 << 4;
		p.len = l4 + 20 + payload;
	} else {
		put16(p.b + l4, 1234);
		put16(p.b + l4 + 2, 53);
		put16(p.b + l4 + 4, (uint16_t)(8 + payload));
		p.len = l4 + 8 + payload;
	}
	for (i = p.len - payload; i < p.len; i++)
		p.b[i] = (uint8_t)(i * 13);
	if (!v6)
		put16(p.b + off + 2, (uint16_t)(p.len - off));
	else
		put16(p.b + off + 4, (uint16_t)(p.len - off - 40));
	return p;
}

/* Naive: does the L4 checksum of p verify (pseudo-header included)? */
static bool l4_csum_ok(const struct pkt *p, const struct net_l4 *l4)
{
	uint32_t sum = 0;
	size_t i, len = p->len - l4->l4_off;

	if (l4->ipv6)
		for (i = 0; i < 32; i += 2)
			sum += (uint32_t)(p->b[l4->l3_off + 8 + i] << 8 |
					  p->b[l4->l3_off + 9 + i]);
	else
		for (i = 0; i < 8; i += 2)
			sum += (uint32_t)(p->b[l4->l3_off + 12 + i] << 8 |
					  p->b[l4->l3_off + 13 + i]);
	sum += l4->proto + (uint32_t)len;
	for (i = 0; i < len; i++)
		sum += (i & 1) ? p->b[l4->l4_off + i]
			       : (uint32_t)p->b[l4->l4_off + i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Write the pseudo-header sum into the checksum field (CHECKSUM_PARTIAL). */
static void make_partial(struct pkt *p, const struct net_l4 *l4)
{
	uint32_t sum = 0;
	size_t i, len = p->len - l4->l4_off;
	size_t n = l4->ipv6 ? 32 : 8, src = l4->l3_off + (l4->ipv6 ? 8 : 12);

	for (i = 0; i < n; i += 2)
		sum += (uint32_t)(p->b[src + i] << 8 | p->b[src + i + 1]);
	sum += l4->proto + (uint32_t)len;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(p->b + l4->l4_off + l4->csum_off, (uint16_t)sum);
}

/* ---- parse table ------------------------------------------------- */

struct parse_case {
	const char *name;
	bool v6, vlan, hbh;
	unsigned int ihl;
	uint8_t proto;
	int cut; /* bytes removed from the end of the built packet */
	int rc;
	uint16_t l4_off, csum_off;
};

static const struct parse_case parse_cases[] = {
	{ "parse IPv4 TCP", false, false, false, 5, IPPROTO_TCP, 0, 0, 34, 16 },
	{ "parse IPv4 with options", false, false, false, 6, IPPROTO_TCP, 0, 0,
	  38, 16 },
	{ "parse VLAN-tagged IPv4 UDP", false, true, false, 5, IPPROTO_UDP, 0,
	  0, 38, 6 },
	{ "parse IPv6 TCP", true, false, false, 0, IPPROTO_TCP, 0, 0, 54, 16 },
	{ "parse IPv6 hop-by-hop then UDP", true, false, true, 0, IPPROTO_UDP,
	  0, 0, 62, 6 },
	{ "parse ICMP refused", false, false, false, 5, IPPROTO_ICMP, 0, -1, 0,
	  0 },
	{ "parse IPv4 ihl 4 refused", false, false, false, 4, IPPROTO_TCP, 0,
	  -1, 0, 0 },
	{ "parse TCP header cut short refused", false, false, false, 5,
	  IPPROTO_TCP, 11, -1, 0, 0 },
	{ "parse IPv6 extension cut short refused", true, false, true, 0,
	  IPPROTO_UDP, 13, -1, 0, 0 },
};

static void test_parse(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct pkt p = make(c->v6, c->vlan, c->ihl ? c->ihl : 5, c->hbh,
				    c->proto, 5);
		struct net_l4 l4;
		char why[128];
		int rc;

		if (c->proto == IPPROTO_ICMP)
			p.b[(c->vlan ? 18 : 14) + 9] = IPPROTO_ICMP;
		p.len -= (size_t)c->cut;
		rc = net_offload_parse(p.b, p.len, &l4);
		snprintf(why, sizeof(why), "rc %d l4 %u csum %u, expected %d %u %u",
			 rc, l4.l4_off, l4.csum_off, c->rc, c->l4_off,
			 c->csum_off);
		result(c->name,
		       rc == c->rc && (rc || (l4.l4_off == c->l4_off &&
					     l4.csum_off == c->csum_off)),
		       why);
	}
	{
		struct pkt p = make(false, false, 5, false, IPPROTO_TCP, 5);
		struct net_l4 l4;

		put16(p.b + 14 + 6, 0x2000); /* more fragments */
		result("parse IPv4 fragment refused",
		       net_offload_parse(p.b, p.len, &l4) == -1, "accepted");
		p = make(false, false, 5, false, IPPROTO_TCP, 5);
		put16(p.b + 12, 0x0806);
		result("parse ARP refused", net_offload_parse(p.b, p.len, &l4) == -1,
		       "accepted");
	}
}

/* ---- checksums ---------------------------------------------------- */

static void test_csum(void)
{
	static const struct {
		const char *name;
		bool v6;
		uint8_t proto;
		size_t payload;
	} cases[] = {
		{ "checksum completed: IPv4 TCP, odd length", false, IPPROTO_TCP,
		  77 },
		{ "checksum completed: IPv4 UDP", false, IPPROTO_UDP, 64 },
		{ "checksum completed: IPv6 TCP", true, IPPROTO_TCP, 100 },
		{ "checksum completed: IPv6 UDP, odd length", true, IPPROTO_UDP,
		  33 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt p = make(cases[i].v6, false, 5, false,
				    cases[i].proto, cases[i].payload);
		struct net_l4 l4;

		net_offload_parse(p.b, p.len, &l4);
		make_partial(&p, &l4);
		net_offload_csum_complete(p.b, p.len, l4.l4_off, l4.csum_off);
		result(cases[i].name, l4_csum_ok(&p, &l4), "does not verify");
	}
	{
		uint8_t b[8] = { 0 };

		result("checksum field beyond the packet refused",
		       net_offload_csum_complete(b, sizeof(b), 4, 6) == -1,
		       "accepted");
	}
}

/* ---- guest transmit: netif flags to virtio-net ---------------------- */

static void test_from_guest(void)
{
	struct virtio_net_hdr vh;
	struct pkt p;
	struct net_l4 l4;
	char why[128];
	int rc;

	p = make(false, false, 5, false, IPPROTO_TCP, 100);
	rc = net_offload_from_guest(p.b, p.len, NETTXF_csum_blank |
						       NETTXF_data_validated,
				    XEN_NETIF_GSO_TYPE_NONE, 0, &vh);
	snprintf(why, sizeof(why), "rc %d flags %u start %u off %u", rc,
		 vh.flags, vh.csum_start, vh.csum_offset);
	result("tx csum_blank: NEEDS_CSUM at the TCP checksum",
	       rc == 0 && vh.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
		       vh.csum_start == 34 && vh.csum_offset == 16 &&
		       vh.gso_type == VIRTIO_NET_HDR_GSO_NONE,
	       why);

	rc = net_offload_from_guest(p.b, p.len, NETTXF_data_validated,
				    XEN_NETIF_GSO_TYPE_NONE, 0, &vh);
	result("tx data_validated: DATA_VALID",
	       rc == 0 && vh.flags == VIRTIO_NET_HDR_F_DATA_VALID, "wrong");

	p = make(true, false, 5, false, IPPROTO_TCP, 1000);
	rc = net_offload_from_guest(p.b, p.len, NETTXF_csum_blank,
				    XEN_NETIF_GSO_TYPE_TCPV6, 1440, &vh);
	snprintf(why, sizeof(why), "rc %d gso %u size %u hdr %u", rc,
		 vh.gso_type, vh.gso_size, vh.hdr_len);
	result("tx GSO TCPv6: gso type, MSS and header length",
	       rc == 0 && vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV6 &&
		       vh.gso_size == 1440 && vh.hdr_len == 74,
	       why);

	rc = net_offload_from_guest(p.b, p.len, NETTXF_csum_blank,
				    XEN_NETIF_GSO_TYPE_TCPV4, 1440, &vh);
	result("tx GSO TCPv4 on an IPv6 packet refused", rc == -1, "accepted");

	p = make(false, false, 5, false, IPPROTO_UDP, 10);
	rc = net_offload_from_guest(p.b, p.len, 0, XEN_NETIF_GSO_TYPE_TCPV4,
				    1440, &vh);
	result("tx GSO on UDP refused", rc == -1, "accepted");

	p = make(false, false, 5, false, IPPROTO_TCP, 10);
	put16(p.b + 12, 0x0806);
	rc = net_offload_from_guest(p.b, p.len, NETTXF_csum_blank,
				    XEN_NETIF_GSO_TYPE_NONE, 0, &vh);
	result("tx csum_blank on unparsable headers refused", rc == -1,
	       "accepted");

	/* GSO without csum_blank: the pseudo-header sum is put in place. */
	p = make(false, false, 5, false, IPPROTO_TCP, 150);
	rc = net_offload_from_guest(p.b, p.len, 0, XEN_NETIF_GSO_TYPE_TCPV4,
				    1448, &vh);
	net_offload_parse(p.b, p.len, &l4);
	net_offload_csum_complete(p.b, p.len, l4.l4_off, l4.csum_off);
	result("tx GSO without csum_blank: partial checksum fixed up",
	       rc == 0 && vh.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
		       l4_csum_ok(&p, &l4),
	       "checksum does not verify");
}

/* ---- guest receive: virtio-net to netif flags ----------------------- */

static void test_to_guest(void)
{
	const struct net_rx_caps all = { true, true, true, true };
	const struct net_rx_caps v4only = { true, false, false, false };
	const struct net_rx_caps none = { false, false, false, false };
	struct virtio_net_hdr vh;
	struct net_l4 l4;
	struct pkt p;
	uint16_t flags, size;
	uint8_t type;
	int rc;

	p = make(false, false, 5, false, IPPROTO_TCP, 100);
	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.csum_start = 34;
	vh.csum_offset = 16;
	rc = net_offload_to_guest(p.b, p.len, &vh, &all, &flags, &type, &size);
	result("rx partial checksum: csum_blank + data_validated",
	       rc == 0 &&
		       flags == (NETRXF_csum_blank | NETRXF_data_validated),
	       "wrong flags");

	net_offload_parse(p.b, p.len, &l4);
	make_partial(&p, &l4);
	rc = net_offload_to_guest(p.b, p.len, &vh, &none, &flags, &type, &size);
	result("rx partial checksum, guest without offload: completed here",
	       rc == 0 && flags == NETRXF_data_validated && l4_csum_ok(&p, &l4),
	       "not completed");

	p = make(true, false, 5, false, IPPROTO_UDP, 51);
	net_offload_parse(p.b, p.len, &l4);
	make_partial(&p, &l4);
	vh.csum_start = l4.l4_off;
	vh.csum_offset = 6;
	rc = net_offload_to_guest(p.b, p.len, &vh, &v4only, &flags, &type,
				  &size);
	result("rx IPv6 partial checksum, guest IPv4-only: completed here",
	       rc == 0 && flags == NETRXF_data_validated && l4_csum_ok(&p, &l4),
	       "not completed");

	vh.csum_start = (uint16_t)p.len;
	rc = net_offload_to_guest(p.b, p.len, &vh, &all, &flags, &type, &size);
	result("rx checksum offset beyond the packet refused", rc == -1,
	       "accepted");

	p = make(false, false, 5, false, IPPROTO_TCP, 100);
	vh.csum_start = 34;
	vh.csum_offset = 16;
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	vh.gso_size = 1448;
	rc = net_offload_to_guest(p.b, p.len, &vh, &all, &flags, &type, &size);
	result("rx TSO (with ECN) becomes a GSO extra",
	       rc == 0 && type == XEN_NETIF_GSO_TYPE_TCPV4 && size == 1448,
	       "wrong");
	rc = net_offload_to_guest(p.b, p.len, &vh, &v4only, &flags, &type,
				  &size);
	result("rx TSO to a guest without GSO refused", rc == -1, "accepted");
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	rc = net_offload_to_guest(p.b, p.len, &vh, &all, &flags, &type, &size);
	result("rx UDP GSO refused", rc == -1, "accepted");

	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	rc = net_offload_to_guest(p.b, p.len, &vh, &none, &flags, &type, &size);
	result("rx DATA_VALID: data_validated",
	       rc == 0 && flags == NETRXF_data_validated, "wrong");
}

/* ---- rate limit ------------------------------------------------------ */

static void test_rate(void)
{
	static const struct {
		const char *s;
		int rc;
	} parse[] = {
		{ "250000,100000", 0 }, { "0,1", 0 },   { "abc", -EINVAL },
		{ "1,0", -EINVAL },     { "1,", -EINVAL }, { ",1", -EINVAL },
		{ "1,2,3", -EINVAL },   { "1 ,2", -EINVAL },
		{ "99999999999999999999,1", -EINVAL },
		{ "1,3600000001", -EINVAL },
	};
	struct net_rate r;
	uint64_t b, u, wake = 0;
	size_t i;
	bool ok = true;
	char why[128] = "";

	for (i = 0; i < sizeof(parse) / sizeof(parse[0]); i++)
		if (net_rate_parse(parse[i].s, &b, &u) != parse[i].rc) {
			snprintf(why, sizeof(why), "'%s'", parse[i].s);
			ok = false;
		}
	result("rate node parsing", ok, why);

	net_rate_init(&r, 0, 1000, 0);
	result("rate 0 bytes: unlimited", net_rate_take(&r, 0, 65535, &wake),
	       "limited");

	net_rate_init(&r, 1000, 1000, 0);
	ok = net_rate_take(&r, 10, 600, &wake) &&
	     !net_rate_take(&r, 20, 600, &wake) && wake == 1000 &&
	     net_rate_take(&r, 1000, 600, &wake) &&
	     net_rate_take(&r, 1001, 600, &wake);
	result("rate: credit per interval, a packet waits for the next", ok,
	       "wrong");

	/* Credit accumulates interval by interval up to the packet. */
	net_rate_init(&r, 100, 1000, 0);
	for (i = 0; i < 60 && !net_rate_take(&r, i * 1000, 5000, &wake); i++)
		;
	result("rate: a packet above the per-interval credit still goes",
	       i >= 49 && i < 60, "starved or too early");

	/* Changed at run time: the credit left shrinks to the new limit. */
	net_rate_init(&r, 10000, 1000, 0);
	net_rate_change(&r, 1000, 1000);
	ok = net_rate_take(&r, 10, 600, &wake) &&
	     !net_rate_take(&r, 20, 600, &wake) && wake == 1000;
	net_rate_init(&r, 0, 0, 0);
	net_rate_change(&r, 1000, 1000);
	ok = ok && net_rate_take(&r, 10, 1000, &wake) &&
	     !net_rate_take(&r, 20, 1, &wake);
	net_rate_change(&r, 0, 0);
	ok = ok && net_rate_take(&r, 30, 65535, &wake);
	result("rate: changed at run time, credit capped; lifted", ok,
	       "credit not capped or limit not lifted");
}

int main(void)
{
	test_parse();
	test_csum();
	test_from_guest();
	test_to_guest();
	test_rate();
	return failures ? 1 : 0;
}
