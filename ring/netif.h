/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ring/netif.h - the netif transmit and receive rings seen from the backend.
 *
 * A vif queue is a pair of one-page rings shared with the frontend: on the
 * tx ring the guest posts packets for us to send, on the rx ring it posts
 * empty buffers for us to fill. Every byte of both pages is guest-controlled
 * and may change under our feet, so this module is the only code that reads
 * them, and it reads each slot exactly once:
 *
 *   ring_netif_tx_pending()  reads the producer index once and refuses one
 *                            that claims more requests than the ring holds;
 *   ring_netif_tx_fetch()    copies one whole packet (first slot, extra
 *                            info slots, further slots) into a private
 *                            struct ring_netif_tx_pkt and judges it on that
 *                            copy: send it, drop it with an error response,
 *                            or stop the device (protocol violation);
 *   ring_netif_tx_respond()  answers every slot of a packet;
 *   ring_netif_rx_pending() / ring_netif_rx_fetch() take posted rx buffers;
 *   ring_netif_rx_respond() / ring_netif_rx_respond_extra() fill the slot
 *                            of the request they answer, as netfront expects;
 *   ring_netif_*_push()      publish responses in batches and say whether
 *                            the frontend wants an event.
 *
 * Every response slot is written whole (XSA-216): no byte of a response is
 * left holding what the guest put there or what our stack held.
 *
 * The bounds follow Linux netback, so that any frontend working with it
 * works with us: a packet may use up to RING_NETIF_MAX_SLOTS data slots
 * (XEN_NETIF_NR_SLOTS_MIN, netback's XEN_NETBK_LEGACY_SLOTS_MAX); a packet
 * of more slots is dropped, and one of more than RING_NETIF_FATAL_SLOTS is
 * taken for a hostile frontend (netback's fatal_skb_slots).
 */
#ifndef XB_RING_NETIF_H
#define XB_RING_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* xenctrl.h provides the xen_mb()/xen_rmb()/xen_wmb() that ring.h uses. */
#include <xenctrl.h>
#include <xen/io/netif.h>
#include <xen/io/ring.h>

#define RING_NETIF_PAGE_SIZE 4096u
#define RING_NETIF_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, RING_NETIF_PAGE_SIZE)
#define RING_NETIF_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, RING_NETIF_PAGE_SIZE)

/* Data slots a packet may use and be sent; more: dropped. */
#define RING_NETIF_MAX_SLOTS XEN_NETIF_NR_SLOTS_MIN
/* Data slots beyond which the frontend is hostile: device stopped. A
 * packet of MAX_SLOTS+1 .. FATAL_SLOTS slots is dropped. */
#define RING_NETIF_FATAL_SLOTS 20u
/* Extra info slots a packet may carry: one of each type at most. */
#define RING_NETIF_MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)
/* Smallest packet: an Ethernet header. */
#define RING_NETIF_MIN_PACKET 14u
/* Largest packet the tx ABI can describe (the first slot's size field). */
#define RING_NETIF_MAX_PACKET XEN_NETIF_MAX_TX_SIZE

/* Judgement of one fetched tx packet. */
enum ring_netif_verdict {
	RING_NETIF_SEND,  /* well-formed: fetch its data, send it */
	RING_NETIF_DROP,  /* malformed: answer its slots NETIF_RSP_ERROR */
	RING_NETIF_FATAL, /* ring protocol broken: stop the device */
};

/* Why a packet was dropped or the device stopped (for one log line). */
enum ring_netif_error {
	RING_NETIF_OK,
	RING_NETIF_E_TOO_MANY_SLOTS,  /* drop: > MAX_SLOTS data slots */
	RING_NETIF_E_SLOT_TOO_BIG,    /* drop: a slot larger than what remains */
	RING_NETIF_E_CROSSES_PAGE,    /* drop: offset + size beyond the page */
	RING_NETIF_E_RUNT,            /* drop: packet smaller than a header */
	RING_NETIF_E_EXTRA_TYPE,      /* drop: unknown extra info type */
	RING_NETIF_E_BAD_GSO,         /* drop: GSO size 0 or unknown type */
	RING_NETIF_E_PROD_OVERFLOW,   /* fatal: producer index impossible */
	RING_NETIF_E_TRUNCATED,       /* fatal: packet runs past the producer */
	RING_NETIF_E_MALICIOUS_SLOTS, /* fatal: > FATAL_SLOTS data slots */
	RING_NETIF_E_COUNT,
};

const char *ring_netif_strerror(enum ring_netif_error err);

/* ------------------------------------------------------------------ */
/* Transmit ring (guest to host)                                       */
/* ------------------------------------------------------------------ */

/* One data slot, privately copied. All fields guest-derived. */
struct ring_netif_tx_slot {
	grant_ref_t gref;
	uint16_t offset;
	uint16_t size; /* bytes of this slot, the first one's included */
	uint16_t id;
};

/*
 * One packet, privately copied out of the ring. For a SEND verdict the
 * invariants hold: 1 <= nr_slots <= RING_NETIF_MAX_SLOTS, every slot lies
 * within its page, the slot sizes add up to `size`, and
 * RING_NETIF_MIN_PACKET <= size <= RING_NETIF_MAX_PACKET.
 */
struct ring_netif_tx_pkt {
	uint16_t nr_slots;  /* data slots answered (ids in slot[]) */
	uint16_t nr_extras; /* extra info slots, answered NETIF_RSP_NULL */
	uint16_t flags;     /* NETTXF_csum_blank | NETTXF_data_validated */
	uint32_t size;      /* whole packet, in bytes */
	bool gso;           /* a GSO extra was given */
	uint8_t gso_type;   /* XEN_NETIF_GSO_TYPE_TCPV4 / _TCPV6 */
	uint16_t gso_size;  /* MSS, non-zero */
	uint8_t mcast_op;   /* 0, or XEN_NETIF_EXTRA_TYPE_MCAST_ADD / _DEL */
	uint8_t mcast_addr[6];
	enum ring_netif_error error;
	struct ring_netif_tx_slot slot[RING_NETIF_FATAL_SLOTS];
};

struct ring_netif_tx {
	netif_tx_back_ring_t br;
	RING_IDX req_prod; /* producer index as last read and checked */
};

void ring_netif_tx_attach(struct ring_netif_tx *ring, void *sring);
/* The same at index start (a ring in use resumed: backend/rings.h). */
void ring_netif_tx_attach_at(struct ring_netif_tx *ring, void *sring,
			     RING_IDX start);

/*
 * Requests waiting, after reading and checking the producer index once;
 * -1 if the frontend claims more than the ring can hold (stop the device).
 */
int ring_netif_tx_pending(struct ring_netif_tx *ring);

/*
 * Copy the next packet out of the ring into *pkt and judge it. SEND and
 * DROP consume its slots (answer them with ring_netif_tx_respond()); FATAL
 * consumes nothing. Call only after ring_netif_tx_pending() returned > 0.
 */
enum ring_netif_verdict ring_netif_tx_fetch(struct ring_netif_tx *ring,
					    struct ring_netif_tx_pkt *pkt);

/* Answer every slot of pkt: its data slots with status, extras with NULL. */
void ring_netif_tx_respond(struct ring_netif_tx *ring,
			   const struct ring_netif_tx_pkt *pkt, int16_t status);

/* Publish responses; true if the frontend asked for an event. */
bool ring_netif_tx_push(struct ring_netif_tx *ring);

/* Before sleeping: arm req_event; true if requests arrived meanwhile. */
bool ring_netif_tx_final_check(struct ring_netif_tx *ring);

/* ------------------------------------------------------------------ */
/* Receive ring (host to guest)                                        */
/* ------------------------------------------------------------------ */

/* One posted rx buffer, privately copied. Guest-derived. */
struct ring_netif_rx_slot {
	uint16_t id;
	grant_ref_t gref;
};

struct ring_netif_rx {
	netif_rx_back_ring_t br;
	RING_IDX req_prod; /* producer index as last read and checked */
};

void ring_netif_rx_attach(struct ring_netif_rx *ring, void *sring);
/* The same at index start (a ring in use resumed: backend/rings.h). */
void ring_netif_rx_attach_at(struct ring_netif_rx *ring, void *sring,
			     RING_IDX start);

/*
 * Buffers posted and not yet taken, after reading and checking the
 * producer index once; -1 if the frontend claims more than the ring holds.
 */
int ring_netif_rx_pending(struct ring_netif_rx *ring);

/* Take the next posted buffer (after ring_netif_rx_pending() > 0). */
void ring_netif_rx_fetch(struct ring_netif_rx *ring,
			 struct ring_netif_rx_slot *slot);

/*
 * Answer the oldest unanswered buffer: it holds `status` bytes (or a
 * negative NETIF_RSP_*) at `offset`, with NETRXF_* flags. The response
 * lands in the slot of the request it answers, as netfront requires.
 */
void ring_netif_rx_respond(struct ring_netif_rx *ring, uint16_t id,
			   uint16_t offset, uint16_t flags, int16_t status);

/* Answer the oldest unanswered buffer with a GSO extra info segment. */
void ring_netif_rx_respond_gso(struct ring_netif_rx *ring, uint8_t gso_type,
			       uint16_t gso_size);

/* Publish responses; true if the frontend asked for an event. */
bool ring_netif_rx_push(struct ring_netif_rx *ring);

/*
 * Before waiting for buffers: ask for an event once `needed` buffers are
 * posted beyond those taken; true if enough arrived meanwhile.
 */
bool ring_netif_rx_wait_for(struct ring_netif_rx *ring, unsigned int needed);

#endif
