// SPDX-License-Identifier: GPL-2.0-only
/*
 * ring/netif.c - copy-out, validation and responses of the netif rings.
 *
 * Every slot is copied out of the shared page once, through a volatile
 * access, and only that copy is looked at. The producer index is read once
 * per pass and checked against the ring size before any slot is touched.
 */
#include "ring/netif.h"

#include <string.h>

static const char *const error_names[RING_NETIF_E_COUNT] = {
	[RING_NETIF_OK] = "no error",
	[RING_NETIF_E_TOO_MANY_SLOTS] = "packet uses too many slots",
	[RING_NETIF_E_SLOT_TOO_BIG] = "slot larger than the rest of the packet",
	[RING_NETIF_E_CROSSES_PAGE] = "slot crosses its page boundary",
	[RING_NETIF_E_RUNT] = "packet smaller than an Ethernet header",
	[RING_NETIF_E_EXTRA_TYPE] = "unknown extra info type",
	[RING_NETIF_E_BAD_GSO] = "GSO extra with zero size or unknown type",
	[RING_NETIF_E_PROD_OVERFLOW] = "producer index beyond the ring size",
	[RING_NETIF_E_TRUNCATED] = "packet continues past the producer index",
	[RING_NETIF_E_MALICIOUS_SLOTS] = "packet chains an impossible number "
					 "of slots",
};

const char *ring_netif_strerror(enum ring_netif_error err)
{
	if ((unsigned int)err >= RING_NETIF_E_COUNT)
		return "unknown error";
	return error_names[err];
}

/* Read a producer index once; the slots are read only after it. */
static RING_IDX read_req_prod(RING_IDX *shared)
{
	RING_IDX prod = *(volatile RING_IDX *)shared;

	xen_rmb();
	return prod;
}

/*
 * A producer index is sane if the requests it announces beyond those we
 * took, added to those we took and not yet answered, fit in the ring. An
 * index moved backwards wraps to a huge count and fails the same test.
 */
static bool prod_is_sane(RING_IDX prod, RING_IDX cons, RING_IDX rsp_prod_pvt,
			 unsigned int size)
{
	RING_IDX unanswered = cons - rsp_prod_pvt;
	RING_IDX announced = prod - cons;

	return unanswered <= size && announced <= size - unanswered;
}

/* ------------------------------------------------------------------ */
/* Transmit ring                                                       */
/* ------------------------------------------------------------------ */

void ring_netif_tx_attach(struct ring_netif_tx *ring, void *sring)
{
	ring_netif_tx_attach_at(ring, sring, 0);
}

void ring_netif_tx_attach_at(struct ring_netif_tx *ring, void *sring,
			     RING_IDX start)
{
	memset(ring, 0, sizeof(*ring));
	BACK_RING_ATTACH(&ring->br, (netif_tx_sring_t *)sring, start,
			 RING_NETIF_PAGE_SIZE);
	ring->req_prod = start;
}

int ring_netif_tx_pending(struct ring_netif_tx *ring)
{
	netif_tx_back_ring_t *br = &ring->br;
	RING_IDX prod = read_req_prod(&br->sring->req_prod);

	if (!prod_is_sane(prod, br->req_cons, br->rsp_prod_pvt, RING_SIZE(br)))
		return -1;
	ring->req_prod = prod;
	return (int)(prod - br->req_cons);
}

/* The slot at index idx, copied out of the shared page once. */
static void copy_tx_slot(netif_tx_back_ring_t *br, RING_IDX idx,
			 netif_tx_request_t *out)
{
	RING_COPY_REQUEST(br, idx, out);
}

static void set_error(struct ring_netif_tx_pkt *pkt,
		      enum ring_netif_error err)
{
	/* The first problem found is the one reported. */
	if (pkt->error == RING_NETIF_OK)
		pkt->error = err;
}

static bool extra_gso_is_valid(const struct netif_extra_info *x)
{
	return x->u.gso.size != 0 &&
	       (x->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4 ||
		x->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6);
}

/*
 * Copy the extra info slots that follow the first slot. A chain of extras
 * is bounded by the types there are: more than one of each is refused as
 * an unknown type would be.
 */
static enum ring_netif_verdict fetch_extras(netif_tx_back_ring_t *br,
					    RING_IDX *cons, RING_IDX prod,
					    struct ring_netif_tx_pkt *pkt)
{
	unsigned int seen = 0;
	uint8_t flags;

	do {
		netif_tx_request_t raw;
		struct netif_extra_info x;

		if (*cons == prod) {
			pkt->error = RING_NETIF_E_TRUNCATED; /* fatal wins */
			return RING_NETIF_FATAL;
		}
		if (pkt->nr_extras >= RING_NETIF_MAX_EXTRAS) {
			/* As many extras as types, and still more coming. */
			pkt->error = RING_NETIF_E_MALICIOUS_SLOTS; /* fatal wins */
			return RING_NETIF_FATAL;
		}
		copy_tx_slot(br, *cons, &raw);
		memcpy(&x, &raw, sizeof(x));
		(*cons)++;
		pkt->nr_extras++;
		flags = x.flags;

		if (x.type == XEN_NETIF_EXTRA_TYPE_NONE ||
		    x.type >= XEN_NETIF_EXTRA_TYPE_MAX ||
		    (seen & (1u << x.type))) {
			set_error(pkt, RING_NETIF_E_EXTRA_TYPE);
			continue;
		}
		seen |= 1u << x.type;
		switch (x.type) {
		case XEN_NETIF_EXTRA_TYPE_GSO:
			if (!extra_gso_is_valid(&x)) {
				set_error(pkt, RING_NETIF_E_BAD_GSO);
				break;
			}
			pkt->gso = true;
			pkt->gso_type = x.u.gso.type;
			pkt->gso_size = x.u.gso.size;
			break;
		case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
		case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
			pkt->mcast_op = x.type;
			memcpy(pkt->mcast_addr, x.u.mcast.addr,
			       sizeof(pkt->mcast_addr));
			break;
		default:
			/* XEN_NETIF_EXTRA_TYPE_HASH: a hint we do not use. */
			break;
		}
	} while (flags & XEN_NETIF_EXTRA_FLAG_MORE);
	return RING_NETIF_SEND;
}

/*
 * Copy the data slots after the first. The first slot's size is the whole
 * packet's; each further slot's size is taken from what remains, so that
 * the first slot's own share is what is left at the end.
 */
static enum ring_netif_verdict fetch_more_slots(netif_tx_back_ring_t *br,
						RING_IDX *cons, RING_IDX prod,
						struct ring_netif_tx_pkt *pkt,
						uint32_t *remaining)
{
	netif_tx_request_t raw;

	do {
		struct ring_netif_tx_slot *s;

		if (*cons == prod) {
			pkt->error = RING_NETIF_E_TRUNCATED; /* fatal wins */
			return RING_NETIF_FATAL;
		}
		if (pkt->nr_slots >= RING_NETIF_FATAL_SLOTS) {
			pkt->error = RING_NETIF_E_MALICIOUS_SLOTS; /* fatal wins */
			return RING_NETIF_FATAL;
		}
		copy_tx_slot(br, *cons, &raw);
		(*cons)++;
		s = &pkt->slot[pkt->nr_slots++];
		s->gref = raw.gref;
		s->offset = raw.offset;
		s->size = raw.size;
		s->id = raw.id;

		if (pkt->nr_slots > RING_NETIF_MAX_SLOTS)
			set_error(pkt, RING_NETIF_E_TOO_MANY_SLOTS);
		if ((uint32_t)raw.offset + raw.size > RING_NETIF_PAGE_SIZE)
			set_error(pkt, RING_NETIF_E_CROSSES_PAGE);
		if (raw.size > *remaining) {
			/* A frame >= 64 KiB wrapped the first size field. */
			set_error(pkt, RING_NETIF_E_SLOT_TOO_BIG);
			*remaining = 0;
		} else {
			*remaining -= raw.size;
		}
	} while (raw.flags & NETTXF_more_data);
	return RING_NETIF_SEND;
}

enum ring_netif_verdict ring_netif_tx_fetch(struct ring_netif_tx *ring,
					    struct ring_netif_tx_pkt *pkt)
{
	netif_tx_back_ring_t *br = &ring->br;
	RING_IDX cons = br->req_cons, prod = ring->req_prod;
	enum ring_netif_verdict v;
	netif_tx_request_t first;
	uint32_t remaining;

	memset(pkt, 0, offsetof(struct ring_netif_tx_pkt, slot));
	if (cons == prod) {
		/* Caller error; nothing to judge, nothing consumed. */
		pkt->error = RING_NETIF_E_TRUNCATED; /* fatal wins */
		return RING_NETIF_FATAL;
	}
	copy_tx_slot(br, cons++, &first);
	pkt->nr_slots = 1;
	pkt->slot[0].gref = first.gref;
	pkt->slot[0].offset = first.offset;
	pkt->slot[0].id = first.id;
	pkt->flags = first.flags & (NETTXF_csum_blank | NETTXF_data_validated);
	pkt->size = first.size;
	remaining = first.size;

	if (first.flags & NETTXF_extra_info) {
		v = fetch_extras(br, &cons, prod, pkt);
		if (v == RING_NETIF_FATAL)
			return v;
	}
	if (first.flags & NETTXF_more_data) {
		v = fetch_more_slots(br, &cons, prod, pkt, &remaining);
		if (v == RING_NETIF_FATAL)
			return v;
	}
	/* What the further slots left over is the first slot's own share. */
	pkt->slot[0].size = (uint16_t)remaining;
	if ((uint32_t)first.offset + remaining > RING_NETIF_PAGE_SIZE)
		set_error(pkt, RING_NETIF_E_CROSSES_PAGE);
	/* A multicast control request is a dummy packet: no size to check. */
	if (pkt->size < RING_NETIF_MIN_PACKET && !pkt->mcast_op)
		set_error(pkt, RING_NETIF_E_RUNT);

	br->req_cons = cons;
	return pkt->error == RING_NETIF_OK ? RING_NETIF_SEND : RING_NETIF_DROP;
}

/* Write a whole tx response slot, so no byte of it is left unset. */
static void put_tx_response(netif_tx_back_ring_t *br, uint16_t id,
			    int16_t status)
{
	union netif_tx_sring_entry entry;

	memset(&entry, 0, sizeof(entry));
	entry.rsp.id = id;
	entry.rsp.status = status;
	memcpy(&br->sring->ring[br->rsp_prod_pvt & (RING_SIZE(br) - 1)],
	       &entry, sizeof(entry));
	br->rsp_prod_pvt++;
}

void ring_netif_tx_respond(struct ring_netif_tx *ring,
			   const struct ring_netif_tx_pkt *pkt, int16_t status)
{
	netif_tx_back_ring_t *br = &ring->br;
	unsigned int i;

	/* Ring order: the first slot, its extras, then the further slots. */
	put_tx_response(br, pkt->slot[0].id, status);
	for (i = 0; i < pkt->nr_extras; i++)
		put_tx_response(br, 0, NETIF_RSP_NULL);
	for (i = 1; i < pkt->nr_slots; i++)
		put_tx_response(br, pkt->slot[i].id, status);
}

bool ring_netif_tx_push(struct ring_netif_tx *ring)
{
	int notify;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&ring->br, notify);
	return notify != 0;
}

bool ring_netif_tx_final_check(struct ring_netif_tx *ring)
{
	netif_tx_back_ring_t *br = &ring->br;
	RING_IDX prod;

	prod = read_req_prod(&br->sring->req_prod);
	if (prod != br->req_cons)
		return true;
	br->sring->req_event = br->req_cons + 1;
	xen_mb(); /* publish req_event before looking at req_prod again */
	prod = read_req_prod(&br->sring->req_prod);
	return prod != br->req_cons;
}

/* ------------------------------------------------------------------ */
/* Receive ring                                                        */
/* ------------------------------------------------------------------ */

void ring_netif_rx_attach(struct ring_netif_rx *ring, void *sring)
{
	ring_netif_rx_attach_at(ring, sring, 0);
}

void ring_netif_rx_attach_at(struct ring_netif_rx *ring, void *sring,
			     RING_IDX start)
{
	memset(ring, 0, sizeof(*ring));
	BACK_RING_ATTACH(&ring->br, (netif_rx_sring_t *)sring, start,
			 RING_NETIF_PAGE_SIZE);
	ring->req_prod = start;
}

int ring_netif_rx_pending(struct ring_netif_rx *ring)
{
	netif_rx_back_ring_t *br = &ring->br;
	RING_IDX prod = read_req_prod(&br->sring->req_prod);

	if (!prod_is_sane(prod, br->req_cons, br->rsp_prod_pvt, RING_SIZE(br)))
		return -1;
	ring->req_prod = prod;
	return (int)(prod - br->req_cons);
}

void ring_netif_rx_fetch(struct ring_netif_rx *ring,
			 struct ring_netif_rx_slot *slot)
{
	netif_rx_back_ring_t *br = &ring->br;
	netif_rx_request_t req;

	RING_COPY_REQUEST(br, br->req_cons, &req);
	br->req_cons++;
	slot->id = req.id;
	slot->gref = req.gref;
}

/* Write a whole rx response slot from a zeroed entry. */
static void put_rx_entry(netif_rx_back_ring_t *br,
			 const union netif_rx_sring_entry *entry)
{
	memcpy(&br->sring->ring[br->rsp_prod_pvt & (RING_SIZE(br) - 1)],
	       entry, sizeof(*entry));
	br->rsp_prod_pvt++;
}

void ring_netif_rx_respond(struct ring_netif_rx *ring, uint16_t id,
			   uint16_t offset, uint16_t flags, int16_t status)
{
	union netif_rx_sring_entry entry;

	memset(&entry, 0, sizeof(entry));
	entry.rsp.id = id;
	entry.rsp.offset = offset;
	entry.rsp.flags = flags;
	entry.rsp.status = status;
	put_rx_entry(&ring->br, &entry);
}

void ring_netif_rx_respond_gso(struct ring_netif_rx *ring, uint8_t gso_type,
			       uint16_t gso_size)
{
	union netif_rx_sring_entry entry;
	struct netif_extra_info x;

	_Static_assert(sizeof(x) <= sizeof(entry), "extra fits an rx slot");
	memset(&entry, 0, sizeof(entry));
	memset(&x, 0, sizeof(x));
	x.type = XEN_NETIF_EXTRA_TYPE_GSO;
	x.flags = 0;
	x.u.gso.size = gso_size;
	x.u.gso.type = gso_type;
	memcpy(&entry, &x, sizeof(x));
	put_rx_entry(&ring->br, &entry);
}

bool ring_netif_rx_push(struct ring_netif_rx *ring)
{
	int notify;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&ring->br, notify);
	return notify != 0;
}

bool ring_netif_rx_wait_for(struct ring_netif_rx *ring, unsigned int needed)
{
	netif_rx_back_ring_t *br = &ring->br;
	RING_IDX prod;

	for (;;) {
		prod = read_req_prod(&br->sring->req_prod);
		if (prod - br->req_cons >= needed)
			return true;
		/* Ask for an event at the next buffer posted. */
		br->sring->req_event = prod + 1;
		xen_mb();
		if (read_req_prod(&br->sring->req_prod) == prod)
			return false;
	}
}
