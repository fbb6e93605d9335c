// SPDX-License-Identifier: GPL-2.0-only
/*
 * ring_netif_test - the netif ring rules as tables.
 *
 * A fake frontend writes slots into a ring page exactly as a guest would;
 * each case states the slots, the verdict and error expected, and what the
 * private copy must hold. A failing case prints both sides; the run goes on.
 */
#include "ring/netif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void result(const char *name, bool ok, const char *why)
{
	if (ok)
		printf("PASS: %s\n", name);
	else {
		printf("FAIL: %s %s\n", name, why);
		failures++;
	}
}

/* A slot as the guest writes it: a request or an extra info segment. */
union raw_slot {
	netif_tx_request_t req;
	struct netif_extra_info x;
};

#define REQ(g, o, f, i, s)                                                \
	{                                                                 \
		.req = {.gref = (g), .offset = (o), .flags = (f), .id = (i), \
			.size = (s) }                                     \
	}
#define XGSO(more, sz, t)                                                \
	{                                                                \
		.x = {.type = XEN_NETIF_EXTRA_TYPE_GSO, .flags = (more),    \
		      .u.gso = {.size = (sz), .type = (t) } }               \
	}
#define XTYPE(t, more)                                                   \
	{                                                                \
		.x = {.type = (t), .flags = (more) }                         \
	}
#define XMCAST(t)                                                       \
	{                                                               \
		.x = {.type = (t), .u.mcast = {.addr = {1, 0, 0x5e, 0, 0, 1} } } \
	}

#define MORE NETTXF_more_data
#define EXTRA NETTXF_extra_info
#define XMORE XEN_NETIF_EXTRA_FLAG_MORE
#define V4 XEN_NETIF_GSO_TYPE_TCPV4

struct tx_case {
	const char *name;
	unsigned int n; /* slots the guest publishes */
	union raw_slot slot[24];
	enum ring_netif_verdict verdict;
	enum ring_netif_error error;
	unsigned int nr_slots, nr_extras;
	int first_size; /* expected share of slot 0, -1: not checked */
};

/*
 * A packet in n plain slots (grant and id i + 1 for slot i) of sizes
 * first, mid..., last: spelled out into a tx_case by chain_case().
 */
struct tx_chain {
	const char *name;
	unsigned int n;
	uint16_t first, mid, last;
	enum ring_netif_verdict verdict;
	enum ring_netif_error error;
	unsigned int nr_slots;
	int first_size;
};

static const struct tx_chain tx_chains[] = {
	{ "tx tiny packet split in 18 slots (XSA-423/432)", 18, 60, 1, 1,
	  RING_NETIF_SEND, RING_NETIF_OK, 18, 43 },
	{ "tx 19 slots dropped", 19, 60, 1, 1, RING_NETIF_DROP,
	  RING_NETIF_E_TOO_MANY_SLOTS, 19, -1 },
	{ "tx 20 slots dropped", 20, 60, 1, 1, RING_NETIF_DROP,
	  RING_NETIF_E_TOO_MANY_SLOTS, 20, -1 },
	{ "tx 21 slots stop the device", 21, 60, 1, 1, RING_NETIF_FATAL,
	  RING_NETIF_E_MALICIOUS_SLOTS, 0, -1 },
	{ "tx 64KiB packet in 17 slots", 17, 65535, 4096, 4095,
	  RING_NETIF_SEND, RING_NETIF_OK, 17, 0 },
};

static const struct tx_case tx_cases[] = {
	{ "tx one slot", 1, { REQ(8, 0, 0, 1, 60) }, RING_NETIF_SEND,
	  RING_NETIF_OK, 1, 0, 60 },
	{ "tx Ethernet header only", 1, { REQ(8, 0, 0, 1, 14) },
	  RING_NETIF_SEND, RING_NETIF_OK, 1, 0, 14 },
	{ "tx runt dropped", 1, { REQ(8, 0, 0, 1, 13) }, RING_NETIF_DROP,
	  RING_NETIF_E_RUNT, 1, 0, -1 },
	{ "tx zero-size packet dropped", 1, { REQ(8, 0, 0, 1, 0) },
	  RING_NETIF_DROP, RING_NETIF_E_RUNT, 1, 0, -1 },
	{ "tx slot ends at page end", 1, { REQ(8, 4082, 0, 1, 14) },
	  RING_NETIF_SEND, RING_NETIF_OK, 1, 0, 14 },
	{ "tx slot crosses page dropped", 1, { REQ(8, 4000, 0, 1, 100) },
	  RING_NETIF_DROP, RING_NETIF_E_CROSSES_PAGE, 1, 0, -1 },
	{ "tx offset beyond page dropped", 1, { REQ(8, 0xffff, 0, 1, 60) },
	  RING_NETIF_DROP, RING_NETIF_E_CROSSES_PAGE, 1, 0, -1 },
	{ "tx first slot own share", 2,
	  { REQ(8, 0, MORE, 1, 3000), REQ(9, 0, 0, 2, 1000) },
	  RING_NETIF_SEND, RING_NETIF_OK, 2, 0, 2000 },
	{ "tx first slot share crosses page", 2,
	  { REQ(8, 4000, MORE, 1, 200), REQ(9, 0, 0, 2, 50) },
	  RING_NETIF_DROP, RING_NETIF_E_CROSSES_PAGE, 2, 0, -1 },
	{ "tx first slot share fits", 2,
	  { REQ(8, 4000, MORE, 1, 200), REQ(9, 0, 0, 2, 104) },
	  RING_NETIF_SEND, RING_NETIF_OK, 2, 0, 96 },
	{ "tx slot larger than packet dropped", 2,
	  { REQ(8, 0, MORE, 1, 100), REQ(9, 0, 0, 2, 200) },
	  RING_NETIF_DROP, RING_NETIF_E_SLOT_TOO_BIG, 2, 0, -1 },
	{ "tx further slot crosses page dropped", 2,
	  { REQ(8, 0, MORE, 1, 1000), REQ(9, 4090, 0, 2, 10) },
	  RING_NETIF_DROP, RING_NETIF_E_CROSSES_PAGE, 2, 0, -1 },
	{ "tx zero-length further slot (XSA-448)", 3,
	  { REQ(8, 0, MORE, 1, 100), REQ(9, 0, MORE, 2, 0),
	    REQ(10, 0, 0, 3, 40) },
	  RING_NETIF_SEND, RING_NETIF_OK, 3, 0, 60 },
	{ "tx zero-length first share", 2,
	  { REQ(8, 0, MORE, 1, 100), REQ(9, 0, 0, 2, 100) },
	  RING_NETIF_SEND, RING_NETIF_OK, 2, 0, 0 },
	{ "tx packet past producer stops the device", 2,
	  { REQ(8, 0, MORE, 1, 100), REQ(9, 0, MORE, 2, 10) },
	  RING_NETIF_FATAL, RING_NETIF_E_TRUNCATED, 0, 0, -1 },
	{ "tx GSO extra", 3,
	  { REQ(8, 0, EXTRA | MORE | NETTXF_csum_blank, 1, 5000),
	    XGSO(0, 1448, V4), REQ(9, 0, 0, 2, 2000) },
	  RING_NETIF_SEND, RING_NETIF_OK, 2, 1, 3000 },
	{ "tx GSO size zero dropped", 2,
	  { REQ(8, 0, EXTRA, 1, 100), XGSO(0, 0, V4) }, RING_NETIF_DROP,
	  RING_NETIF_E_BAD_GSO, 1, 1, -1 },
	{ "tx GSO unknown type dropped", 2,
	  { REQ(8, 0, EXTRA, 1, 100), XGSO(0, 1448, 7) }, RING_NETIF_DROP,
	  RING_NETIF_E_BAD_GSO, 1, 1, -1 },
	{ "tx extra type none dropped", 2,
	  { REQ(8, 0, EXTRA, 1, 100), XTYPE(XEN_NETIF_EXTRA_TYPE_NONE, 0) },
	  RING_NETIF_DROP, RING_NETIF_E_EXTRA_TYPE, 1, 1, -1 },
	{ "tx extra type beyond max dropped", 2,
	  { REQ(8, 0, EXTRA, 1, 100), XTYPE(XEN_NETIF_EXTRA_TYPE_MAX, 0) },
	  RING_NETIF_DROP, RING_NETIF_E_EXTRA_TYPE, 1, 1, -1 },
	{ "tx duplicate extra dropped", 3,
	  { REQ(8, 0, EXTRA, 1, 100), XGSO(XMORE, 1448, V4),
	    XGSO(0, 1448, V4) },
	  RING_NETIF_DROP, RING_NETIF_E_EXTRA_TYPE, 1, 2, -1 },
	{ "tx hash extra accepted", 2,
	  { REQ(8, 0, EXTRA, 1, 100), XTYPE(XEN_NETIF_EXTRA_TYPE_HASH, 0) },
	  RING_NETIF_SEND, RING_NETIF_OK, 1, 1, 100 },
	{ "tx extra past producer stops the device", 1,
	  { REQ(8, 0, EXTRA, 1, 100) }, RING_NETIF_FATAL,
	  RING_NETIF_E_TRUNCATED, 0, 0, -1 },
	{ "tx endless extra chain stops the device", 6,
	  { REQ(8, 0, EXTRA, 1, 100), XGSO(XMORE, 1448, V4),
	    XTYPE(XEN_NETIF_EXTRA_TYPE_HASH, XMORE),
	    XTYPE(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XMORE),
	    XTYPE(XEN_NETIF_EXTRA_TYPE_MCAST_DEL, XMORE),
	    XGSO(0, 1448, V4) },
	  RING_NETIF_FATAL, RING_NETIF_E_MALICIOUS_SLOTS, 0, 0, -1 },
	{ "tx multicast add dummy packet", 2,
	  { REQ(8, 0, EXTRA, 1, 0), XMCAST(XEN_NETIF_EXTRA_TYPE_MCAST_ADD) },
	  RING_NETIF_SEND, RING_NETIF_OK, 1, 1, 0 },
};

/* The ring page as a frontend sees it. */
struct fake_front {
	void *page;
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
};

static void *new_page(void)
{
	void *p = aligned_alloc(RING_NETIF_PAGE_SIZE, RING_NETIF_PAGE_SIZE);

	if (!p) {
		perror("aligned_alloc");
		exit(1);
	}
	/* Guest garbage everywhere, so unset response bytes show. */
	memset(p, 0xa5, RING_NETIF_PAGE_SIZE);
	return p;
}

static void tx_publish(netif_tx_front_ring_t *f, const union raw_slot *s,
		       unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		union netif_tx_sring_entry *e =
			&f->sring->ring[f->req_prod_pvt++ & (RING_SIZE(f) - 1)];

		memset(e, 0xa5, sizeof(*e));
		memcpy(&e->req, &s[i], sizeof(s[i]));
	}
	f->sring->req_prod = f->req_prod_pvt;
}

/* A fresh tx ring page with its frontend and our backend attached. */
static netif_tx_sring_t *new_tx_ring(netif_tx_front_ring_t *f,
				     struct ring_netif_tx *ring)
{
	netif_tx_sring_t *s = new_page();

	SHARED_RING_INIT(s);
	FRONT_RING_INIT(f, s, RING_NETIF_PAGE_SIZE);
	ring_netif_tx_attach(ring, s);
	return s;
}

/* A chain as the table case it stands for. */
static struct tx_case chain_case(const struct tx_chain *ch)
{
	struct tx_case c = { .name = ch->name, .n = ch->n,
			     .verdict = ch->verdict, .error = ch->error,
			     .nr_slots = ch->nr_slots,
			     .first_size = ch->first_size };
	unsigned int i;

	for (i = 0; i < ch->n; i++) {
		uint16_t size = i == 0 ? ch->first
				: i == ch->n - 1 ? ch->last
						 : ch->mid;

		c.slot[i] = (union raw_slot)REQ(i + 1, 0,
						i < ch->n - 1 ? MORE : 0,
						i + 1, size);
	}
	return c;
}

static void run_tx_case(const struct tx_case *c)
{
	netif_tx_front_ring_t f;
	struct ring_netif_tx ring;
	netif_tx_sring_t *s = new_tx_ring(&f, &ring);
	struct ring_netif_tx_pkt pkt;
	enum ring_netif_verdict v;
	unsigned int n = c->n;
	char why[256] = "";
	bool ok = true;

	tx_publish(&f, c->slot, n);
	if (ring_netif_tx_pending(&ring) != (int)n) {
		result(c->name, false, "pending count wrong");
		free(s);
		return;
	}
	v = ring_netif_tx_fetch(&ring, &pkt);
	if (v != c->verdict || pkt.error != c->error) {
		snprintf(why, sizeof(why),
			 "verdict %d error '%s', expected %d '%s'", v,
			 ring_netif_strerror(pkt.error), c->verdict,
			 ring_netif_strerror(c->error));
		ok = false;
	} else if (v == RING_NETIF_FATAL) {
		if (ring.br.req_cons != 0) {
			snprintf(why, sizeof(why), "fatal consumed slots");
			ok = false;
		}
	} else if (pkt.nr_slots != c->nr_slots ||
		   pkt.nr_extras != c->nr_extras ||
		   ring.br.req_cons != n) {
		snprintf(why, sizeof(why),
			 "slots %u extras %u consumed %u, expected %u %u %u",
			 pkt.nr_slots, pkt.nr_extras, ring.br.req_cons,
			 c->nr_slots, c->nr_extras, n);
		ok = false;
	} else if (c->first_size >= 0 && pkt.slot[0].size != c->first_size) {
		snprintf(why, sizeof(why), "first slot share %u, expected %d",
			 pkt.slot[0].size, c->first_size);
		ok = false;
	}
	result(c->name, ok, why);
	free(s);
}

/* Responses: order, ids, NULL for extras, every byte of the slot set. */
static void test_tx_responses(void)
{
	static const union raw_slot slots[] = {
		REQ(8, 0, EXTRA | MORE, 11, 3000), XGSO(0, 1448, V4),
		REQ(9, 0, 0, 12, 1000),
		/* a dropped packet, then a good one: nothing lost between */
		REQ(8, 0, 0, 13, 5), REQ(8, 0, 0, 14, 60),
	};
	static const struct {
		uint16_t id;
		int16_t status;
	} want[] = { { 11, NETIF_RSP_OKAY }, { 0, NETIF_RSP_NULL },
		     { 12, NETIF_RSP_OKAY }, { 13, NETIF_RSP_ERROR },
		     { 14, NETIF_RSP_OKAY } };
	netif_tx_front_ring_t f;
	struct ring_netif_tx ring;
	netif_tx_sring_t *s = new_tx_ring(&f, &ring);
	struct ring_netif_tx_pkt pkt;
	bool ok = true, notify;
	char why[200] = "";
	unsigned int i;

	tx_publish(&f, slots, 5);
	ok = ring_netif_tx_pending(&ring) == 5;
	while (ok && ring.br.req_cons != ring.req_prod) {
		enum ring_netif_verdict v = ring_netif_tx_fetch(&ring, &pkt);

		ring_netif_tx_respond(&ring, &pkt,
				      v == RING_NETIF_SEND ? NETIF_RSP_OKAY
							   : NETIF_RSP_ERROR);
	}
	notify = ring_netif_tx_push(&ring);
	if (!ok || s->rsp_prod != 5 || !notify) {
		snprintf(why, sizeof(why), "rsp_prod %u notify %d", s->rsp_prod,
			 notify);
		ok = false;
	}
	for (i = 0; ok && i < 5; i++) {
		const unsigned char *b = (const unsigned char *)&s->ring[i];
		netif_tx_response_t r = s->ring[i].rsp;
		size_t k;

		if (r.id != want[i].id || r.status != want[i].status) {
			snprintf(why, sizeof(why),
				 "slot %u: id %u status %d, expected %u %d", i,
				 r.id, r.status, want[i].id, want[i].status);
			ok = false;
		}
		for (k = sizeof(r); k < sizeof(s->ring[i]); k++)
			if (b[k] != 0) {
				snprintf(why, sizeof(why),
					 "slot %u byte %zu not cleared", i, k);
				ok = false;
			}
	}
	result("tx responses in ring order, whole slots written (XSA-216)",
	       ok, why);

	/* The frontend asked for no event before the 100th response. */
	s->rsp_event = 100;
	tx_publish(&f, &slots[4], 1);
	ring_netif_tx_pending(&ring);
	ring_netif_tx_fetch(&ring, &pkt);
	ring_netif_tx_respond(&ring, &pkt, NETIF_RSP_OKAY);
	result("tx push honours rsp_event", !ring_netif_tx_push(&ring),
	       "notified");
	free(s);
}

static void test_tx_prod_checks(void)
{
	netif_tx_sring_t *s = new_page();
	struct ring_netif_tx ring;
	struct ring_netif_tx_pkt pkt;

	SHARED_RING_INIT(s);
	ring_netif_tx_attach(&ring, s);
	s->req_prod = RING_NETIF_TX_RING_SIZE;
	result("tx full ring accepted", ring_netif_tx_pending(&ring) ==
						 (int)RING_NETIF_TX_RING_SIZE,
	       "refused");
	s->req_prod = RING_NETIF_TX_RING_SIZE + 1;
	result("tx producer beyond ring size stops the device",
	       ring_netif_tx_pending(&ring) == -1, "accepted");
	s->req_prod = 0xfffffff0u;
	result("tx producer far ahead stops the device",
	       ring_netif_tx_pending(&ring) == -1, "accepted");

	/* Take two packets without answering, then move the producer back. */
	SHARED_RING_INIT(s);
	ring_netif_tx_attach(&ring, s);
	s->ring[0].req = (netif_tx_request_t){ .gref = 8, .size = 60 };
	s->ring[1].req = (netif_tx_request_t){ .gref = 8, .size = 60 };
	s->req_prod = 2;
	ring_netif_tx_pending(&ring);
	ring_netif_tx_fetch(&ring, &pkt);
	ring_netif_tx_fetch(&ring, &pkt);
	s->req_prod = 1;
	result("tx producer moved backwards stops the device",
	       ring_netif_tx_pending(&ring) == -1, "accepted");

	/* Final check arms req_event at the next request. */
	s->req_prod = 2;
	ring_netif_tx_pending(&ring);
	result("tx final check arms req_event",
	       !ring_netif_tx_final_check(&ring) && s->req_event == 3,
	       "req_event not armed");
	s->req_prod = 3;
	result("tx final check sees new work", ring_netif_tx_final_check(&ring),
	       "missed");
	free(s);
}

static void test_rx(void)
{
	netif_rx_sring_t *s = new_page();
	netif_rx_front_ring_t f;
	struct ring_netif_rx ring;
	struct ring_netif_rx_slot slot[3];
	bool ok = true;
	char why[200] = "";
	unsigned int i;

	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&f, s, RING_NETIF_PAGE_SIZE);
	ring_netif_rx_attach(&ring, s);
	result("rx no buffers posted", ring_netif_rx_pending(&ring) == 0,
	       "pending");
	result("rx wait arms req_event", !ring_netif_rx_wait_for(&ring, 1) &&
						 s->req_event == 1,
	       "not armed");
	for (i = 0; i < 3; i++) {
		netif_rx_request_t *r = RING_GET_REQUEST(&f, f.req_prod_pvt++);

		r->id = (uint16_t)(40 + i);
		r->gref = 100 + i;
	}
	s->req_prod = f.req_prod_pvt;
	result("rx wait sees posted buffers", ring_netif_rx_wait_for(&ring, 3),
	       "missed");
	result("rx three buffers posted", ring_netif_rx_pending(&ring) == 3,
	       "wrong count");
	for (i = 0; i < 3; i++)
		ring_netif_rx_fetch(&ring, &slot[i]);
	ok = slot[0].id == 40 && slot[0].gref == 100 && slot[2].id == 42 &&
	     slot[2].gref == 102;
	result("rx buffers copied out", ok, "wrong id or gref");

	/* A GSO packet: first data slot, its extra, a second data slot. */
	ring_netif_rx_respond(&ring, slot[0].id, 0,
			      NETRXF_more_data | NETRXF_extra_info |
				      NETRXF_csum_blank,
			      4096);
	ring_netif_rx_respond_gso(&ring, XEN_NETIF_GSO_TYPE_TCPV6, 1440);
	ring_netif_rx_respond(&ring, slot[2].id, 0, 0, 100);
	ring_netif_rx_push(&ring);
	{
		netif_rx_response_t r0 = s->ring[0].rsp, r2 = s->ring[2].rsp;
		struct netif_extra_info x;

		memcpy(&x, &s->ring[1], sizeof(x));
		ok = s->rsp_prod == 3 && r0.id == 40 && r0.status == 4096 &&
		     r0.offset == 0 &&
		     r0.flags == (NETRXF_more_data | NETRXF_extra_info |
				  NETRXF_csum_blank) &&
		     x.type == XEN_NETIF_EXTRA_TYPE_GSO && x.flags == 0 &&
		     x.u.gso.size == 1440 &&
		     x.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6 &&
		     x.u.gso.pad == 0 && x.u.gso.features == 0 &&
		     r2.id == 42 && r2.status == 100 && r2.flags == 0;
		if (!ok)
			snprintf(why, sizeof(why),
				 "r0 id %u st %d fl %x; x type %u size %u",
				 r0.id, r0.status, r0.flags, x.type,
				 x.u.gso.size);
	}
	result("rx responses in the slots of their requests", ok, why);

	s->req_prod = 3 + RING_NETIF_RX_RING_SIZE + 1;
	result("rx producer beyond ring size stops the device",
	       ring_netif_rx_pending(&ring) == -1, "accepted");
	s->req_prod = 2;
	result("rx producer moved backwards stops the device",
	       ring_netif_rx_pending(&ring) == -1, "accepted");
	free(s);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(tx_cases) / sizeof(tx_cases[0]); i++)
		run_tx_case(&tx_cases[i]);
	for (i = 0; i < sizeof(tx_chains) / sizeof(tx_chains[0]); i++) {
		struct tx_case c = chain_case(&tx_chains[i]);

		run_tx_case(&c);
	}
	test_tx_responses();
	test_tx_prod_checks();
	test_rx();
	return failures ? 1 : 0;
}
