// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_netif - libFuzzer target: a hostile frontend owns the whole tx and
 * rx ring pages, producer indexes included. Whatever it writes, the fetch
 * functions must stay inside the ring, consume each slot once, and hand out
 * only packets that satisfy the SEND invariants of ring/netif.h.
 */
#include "ring/netif.h"

#include <stdlib.h>
#include <string.h>

static uint8_t tx_page[RING_NETIF_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t rx_page[RING_NETIF_PAGE_SIZE] __attribute__((aligned(4096)));

static void check(bool cond)
{
	if (!cond)
		abort();
}

static void check_sent_packet(const struct ring_netif_tx_pkt *pkt)
{
	uint32_t sum = 0;
	unsigned int i;

	check(pkt->nr_slots >= 1 && pkt->nr_slots <= RING_NETIF_MAX_SLOTS);
	check(pkt->nr_extras <= RING_NETIF_MAX_EXTRAS);
	check(pkt->size <= RING_NETIF_MAX_PACKET);
	check(pkt->size >= RING_NETIF_MIN_PACKET || pkt->mcast_op);
	for (i = 0; i < pkt->nr_slots; i++) {
		check((uint32_t)pkt->slot[i].offset + pkt->slot[i].size <=
		      RING_NETIF_PAGE_SIZE);
		sum += pkt->slot[i].size;
	}
	check(sum == pkt->size);
	if (pkt->gso)
		check(pkt->gso_size != 0 &&
		      (pkt->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 ||
		       pkt->gso_type == XEN_NETIF_GSO_TYPE_TCPV6));
}

static void fuzz_tx(RING_IDX start, RING_IDX prod)
{
	netif_tx_sring_t *s = (netif_tx_sring_t *)tx_page;
	struct ring_netif_tx ring;
	struct ring_netif_tx_pkt pkt;
	unsigned int passes;

	ring_netif_tx_attach(&ring, s);
	ring.br.req_cons = ring.br.rsp_prod_pvt = start;
	s->req_prod = prod;
	for (passes = 0; passes < 4; passes++) {
		int n = ring_netif_tx_pending(&ring);

		if (n < 0)
			return;
		check(n <= (int)RING_NETIF_TX_RING_SIZE);
		while (ring.br.req_cons != ring.req_prod) {
			RING_IDX before = ring.br.req_cons;
			enum ring_netif_verdict v =
				ring_netif_tx_fetch(&ring, &pkt);

			if (v == RING_NETIF_FATAL) {
				check(ring.br.req_cons == before);
				check(pkt.error != RING_NETIF_OK);
				return;
			}
			check(ring.br.req_cons - before ==
			      (RING_IDX)pkt.nr_slots + pkt.nr_extras);
			check(ring.req_prod - ring.br.req_cons <=
			      RING_NETIF_TX_RING_SIZE);
			if (v == RING_NETIF_SEND)
				check_sent_packet(&pkt);
			else
				check(pkt.error != RING_NETIF_OK &&
				      pkt.nr_slots <= RING_NETIF_FATAL_SLOTS);
			ring_netif_tx_respond(&ring, &pkt,
					      v == RING_NETIF_SEND
						      ? NETIF_RSP_OKAY
						      : NETIF_RSP_ERROR);
			check(ring.br.rsp_prod_pvt == ring.br.req_cons);
		}
		ring_netif_tx_push(&ring);
		ring_netif_tx_final_check(&ring);
	}
}

static void fuzz_rx(RING_IDX start, RING_IDX prod)
{
	netif_rx_sring_t *s = (netif_rx_sring_t *)rx_page;
	struct ring_netif_rx ring;
	struct ring_netif_rx_slot slot;
	int n;

	ring_netif_rx_attach(&ring, s);
	ring.br.req_cons = ring.br.rsp_prod_pvt = start;
	s->req_prod = prod;
	ring_netif_rx_wait_for(&ring, 2);
	n = ring_netif_rx_pending(&ring);
	if (n < 0)
		return;
	check(n <= (int)RING_NETIF_RX_RING_SIZE);
	while (n-- > 0) {
		ring_netif_rx_fetch(&ring, &slot);
		if (n & 1)
			ring_netif_rx_respond_gso(&ring, 1, slot.id);
		else
			ring_netif_rx_respond(&ring, slot.id, 0, 0, 60);
	}
	ring_netif_rx_push(&ring);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	RING_IDX start, tx_prod, rx_prod;
	size_t body;

	if (size < 12)
		return 0;
	memcpy(&start, data, 4);
	memcpy(&tx_prod, data + 4, 4);
	memcpy(&rx_prod, data + 8, 4);
	data += 12;
	size -= 12;
	/* Mostly plausible producers, sometimes anything at all. */
	if (!(tx_prod & 0x80000000u))
		tx_prod = start + (tx_prod % (2 * RING_NETIF_TX_RING_SIZE));
	if (!(rx_prod & 0x80000000u))
		rx_prod = start + (rx_prod % (2 * RING_NETIF_RX_RING_SIZE));

	memset(tx_page, 0, sizeof(tx_page));
	memset(rx_page, 0, sizeof(rx_page));
	body = RING_NETIF_PAGE_SIZE - 64;
	memcpy(tx_page + 64, data, size < body ? size : body);
	memcpy(rx_page + 64, data, size < body ? size : body);
	fuzz_tx(start, tx_prod);
	fuzz_rx(start, rx_prod);
	return 0;
}
