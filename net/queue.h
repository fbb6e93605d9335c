/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * net/queue.h - the data path of one vif queue: a tx/rx ring pair, its
 * event channel(s) and its TAP queue fd, served by one worker thread.
 *
 * Directions are named as netif names them, from the guest: "tx" is what
 * the guest transmits (ring -> grant copy -> TAP), "rx" what it receives
 * (TAP -> grant copy -> ring).
 *
 * The worker polls one fd of ours, an epoll set private to the queue, so
 * that the queue can stop and resume reading its TAP (guest out of rx
 * buffers) with an epoll_ctl and no allocation.
 *
 * Bounds, all fixed at connect time: a batch is at most NET_BATCH packets
 * and NET_ARENA_SIZE bytes per direction; at most one received packet is
 * held while the guest has no buffer for it, and only for NET_RX_STALL_MS,
 * after which what the TAP holds is dropped and counted (XSA-392).
 */
#ifndef XB_NET_QUEUE_H
#define XB_NET_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* First: xenctrl.h (through it) must precede every other Xen header. */
#include "ring/netif.h"

#include "backend/device.h"
#include "backend/rings.h"
#include "backend/worker.h"
#include "net/offload.h"
#include "net/rate.h"

#define NET_MAX_QUEUES 8
#define NET_BATCH 64                /* packets per grant copy */
#define NET_ARENA_SIZE (1u << 20)   /* bytes per direction per queue */
#define NET_FRAME_MAX (10u + 65536u + 64u) /* vnet header + largest frame */
#define NET_SEGS_MAX (NET_BATCH * (RING_NETIF_MAX_SLOTS + 1))
#define NET_RX_STALL_MS 500
#define NET_TX_BUDGET 256           /* packets before yielding */
#define NET_MCAST_MAX 64            /* as netback's XEN_NETBK_MCAST_MAX */

/* Per-vif counters, shared by its queues; read by describe(). */
struct net_stats {
	_Atomic uint64_t tx_packets, tx_bytes; /* from the guest, sent */
	_Atomic uint64_t tx_errors;  /* malformed or bad grant: error response */
	_Atomic uint64_t tx_dropped; /* well-formed, not sent (offload, TAP) */
	_Atomic uint64_t tx_rate_waits;
	_Atomic uint64_t rx_packets, rx_bytes; /* to the guest, delivered */
	_Atomic uint64_t rx_errors;  /* grant copy into the guest failed */
	_Atomic uint64_t rx_dropped; /* no buffer posted, too large, filtered */
	_Atomic uint64_t rx_stalls;  /* times the guest posted no buffer */
	/* Offloads carried across (each also counted in *_packets). */
	_Atomic uint64_t tx_csum_partial; /* checksum left to the host */
	_Atomic uint64_t tx_gso;          /* segmented by the host */
	_Atomic uint64_t rx_csum_partial; /* checksum left to the guest */
	_Atomic uint64_t rx_gso;          /* segmented by the guest */
};

/* Multicast filter (feature-multicast-control), shared by the queues. */
struct net_mcast {
	pthread_mutex_t lock;
	bool enabled; /* request-multicast-control, sampled at connect */
	unsigned int n;
	uint8_t addr[NET_MCAST_MAX][6];
};

struct net_tx_meta;
struct net_rx_meta;

struct net_queue {
	/* Set by the vif before net_queue_start(), read-only after. */
	struct xb_device *dev;
	unsigned int index;
	char name[16]; /* thread name: "vif5.0q1" */
	int tap_fd;
	bool tap_fd_owned; /* queue 0's fd belongs to the vif */
	struct xb_ring_map tx_map, rx_map;
	struct xb_evtchn tx_ch, rx_ch; /* rx_ch unused unless split */
	bool split;
	struct net_rx_caps caps;
	bool rx_sg; /* guest takes packets of several slots */
	uint64_t rate_bytes, rate_usec;
	struct net_stats *stats;
	struct net_mcast *mcast;

	/* Packets this queue carried, for xenbackctl: written by the
	 * worker only (plain stores), read by the main thread. */
	_Atomic uint64_t q_tx_packets, q_rx_packets;

	/* A new rate from the main thread (net_queue_set_rate()). */
	_Atomic uint64_t rate_new_bytes, rate_new_usec;
	atomic_bool rate_changed;

	/* Worker-private from net_queue_start() on. */
	struct xb_worker *worker;
	int epfd, rate_timer_fd, stall_timer_fd, kick_fd;
	struct ring_netif_tx tx;
	struct ring_netif_rx rx;
	struct net_rate rate;
	bool dead;       /* protocol violation seen: serve nothing more */
	bool tap_polled; /* TAP fd in our epoll set */
	bool tx_waiting; /* rate limited, timer armed */
	bool rx_blocked; /* a packet staged, waiting for buffers */
	uint64_t rx_blocked_since_ms;
	uint32_t staged_len; /* staged frame at rx_arena[0], vnet hdr included */
	uint8_t *tx_arena, *rx_arena;
	xengnttab_grant_copy_segment_t *segs;
	struct net_tx_meta *txm;
	struct net_rx_meta *rxm;
	bool has_deferred; /* a fetched tx packet waiting for rate credit */
	struct ring_netif_tx_pkt *deferred;
};

/* Zero the queue and set its fds to -1. */
void net_queue_init(struct net_queue *q);
/*
 * Attach the mapped rings, allocate the buffers and start the worker
 * (maps, channels, tap_fd, caps and counters set by the caller). 0 or
 * -errno; on failure nothing is left running (net_queue_stop() cleans).
 */
int net_queue_start(struct net_queue *q);
/* Stop the worker and free what start allocated. Idempotent. */
void net_queue_stop(struct net_queue *q);
/*
 * Main thread, queue started: the worker takes the new transmit limit
 * (bytes per usec, bytes 0: none) before its next packet.
 */
void net_queue_set_rate(struct net_queue *q, uint64_t bytes, uint64_t usec);

/* Multicast filter: handle an ADD/DEL from the guest; 0 or -1. */
int net_mcast_update(struct net_mcast *m, uint8_t op, const uint8_t addr[6]);
/* Should a frame to this destination reach the guest? */
bool net_mcast_pass(struct net_mcast *m, const uint8_t dst[6]);

#endif
