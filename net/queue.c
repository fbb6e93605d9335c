// SPDX-License-Identifier: GPL-2.0-only
/*
 * net/queue.c - one vif queue's data path, on its worker thread.
 *
 * Guest transmit, per batch:
 *   fetch packets (copied out and judged by ring/netif.c)
 *   -> one grant copy of all their slots into the tx arena
 *   -> per packet: virtio-net header from the netif flags, one write()
 *   -> responses for the whole batch, one push, one event if asked.
 * Guest receive, per batch:
 *   read() frames from the TAP into the rx arena, as long as the guest has
 *   posted buffers for them -> one grant copy of all of them into the
 *   guest's buffers -> responses, one push, one event if asked.
 */
#include "net/queue.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "net/tap.h"

/* Tags of the queue's own epoll set. */
enum { EV_TX_CH = 1, EV_RX_CH, EV_TAP, EV_RATE_TIMER, EV_STALL_TIMER, EV_KICK };

#define HDR NET_TAP_VNET_HDR_LEN
#define PAGE RING_NETIF_PAGE_SIZE
#define ARENA_ALIGN 64u

struct net_tx_meta {
	struct ring_netif_tx_pkt pkt;
	uint32_t off;      /* vnet header in the arena; data follows */
	uint16_t first_seg, nr_segs;
	int16_t status;    /* NETIF_RSP_*; OKAY until proven otherwise */
	bool send;         /* data to write to the TAP */
};

struct net_rx_meta {
	uint32_t off; /* vnet header in the arena; data follows */
	uint32_t len; /* data bytes */
	uint16_t flags;
	uint8_t gso_type;
	uint16_t gso_size;
	uint16_t first_seg, nr_segs; /* one segment per data slot */
	uint16_t id[RING_NETIF_MAX_SLOTS + 1]; /* buffers, extra's included */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t align_up(uint32_t v)
{
	return (v + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
}

/* A protocol violation: stop serving, let the main thread fail it. */
static void queue_fatal(struct net_queue *q, const char *what,
			enum ring_netif_error err)
{
	if (q->dead)
		return;
	q->dead = true;
	xb_device_fail_async(q->dev, -EPROTO, "queue %u: %s: %s", q->index,
			     what, ring_netif_strerror(err));
}

/*
 * What a batch delivered, added to the vif's shared counters once per
 * batch: the queues of a vif would otherwise bounce their cache line
 * per packet.
 */
struct tally {
	uint64_t packets, bytes, csum_partial, gso;
};

static void tally_flush(const struct tally *t, _Atomic uint64_t *packets,
			_Atomic uint64_t *bytes, _Atomic uint64_t *csum,
			_Atomic uint64_t *gso, _Atomic uint64_t *own)
{
	if (!t->packets)
		return;
	atomic_fetch_add(packets, t->packets);
	atomic_fetch_add(bytes, t->bytes);
	if (t->csum_partial)
		atomic_fetch_add(csum, t->csum_partial);
	if (t->gso)
		atomic_fetch_add(gso, t->gso);
	atomic_store_explicit(own,
			      atomic_load_explicit(own, memory_order_relaxed) +
				      t->packets,
			      memory_order_relaxed);
}

static void arm_timer(int fd, uint64_t delay_us)
{
	struct itimerspec its = { 0 };

	if (delay_us == 0)
		delay_us = 1;
	its.it_value.tv_sec = (time_t)(delay_us / 1000000u);
	its.it_value.tv_nsec = (long)(delay_us % 1000000u) * 1000;
	timerfd_settime(fd, 0, &its, NULL);
}

static void kick(struct net_queue *q)
{
	uint64_t one = 1;

	if (write(q->kick_fd, &one, sizeof(one)) < 0) {
		/* The counter is saturated: a kick is pending anyway. */
	}
}

static void set_tap_polled(struct net_queue *q, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0,
				  .data.u32 = EV_TAP };

	if (q->tap_polled == on)
		return;
	epoll_ctl(q->epfd, EPOLL_CTL_MOD, q->tap_fd, &ev);
	q->tap_polled = on;
}

static struct xb_evtchn *rx_channel(struct net_queue *q)
{
	return q->split ? &q->rx_ch : &q->tx_ch;
}

/* ------------------------------------------------------------------ */
/* Multicast filter                                                    */
/* ------------------------------------------------------------------ */

int net_mcast_update(struct net_mcast *m, uint8_t op, const uint8_t addr[6])
{
	unsigned int i;
	int rc = 0;

	/* Only multicast addresses can be filtered. */
	if (!(addr[0] & 1))
		return -1;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++)
		if (!memcmp(m->addr[i], addr, 6))
			break;
	if (op == XEN_NETIF_EXTRA_TYPE_MCAST_ADD) {
		if (i == m->n) {
			if (m->n == NET_MCAST_MAX)
				rc = -1;
			else
				memcpy(m->addr[m->n++], addr, 6);
		}
	} else if (i < m->n) {
		memcpy(m->addr[i], m->addr[m->n - 1], 6);
		m->n--;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

bool net_mcast_pass(struct net_mcast *m, const uint8_t dst[6])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	unsigned int i;
	bool pass = false;

	if (!m->enabled || !(dst[0] & 1) || !memcmp(dst, bcast, 6))
		return true;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n && !pass; i++)
		pass = !memcmp(m->addr[i], dst, 6);
	pthread_mutex_unlock(&m->lock);
	return pass;
}

/* ------------------------------------------------------------------ */
/* Guest transmit                                                      */
/* ------------------------------------------------------------------ */

/* Queue the grant copies of a SEND packet's slots into the arena. */
static void tx_add_copies(struct net_queue *q, struct net_tx_meta *m,
			  unsigned int *nseg)
{
	uint8_t *dst = q->tx_arena + m->off + HDR;
	unsigned int i;

	m->first_seg = (uint16_t)*nseg;
	m->nr_segs = 0;
	/* Slot 0 holds the start of the packet, the others follow. */
	for (i = 0; i < m->pkt.nr_slots; i++) {
		const struct ring_netif_tx_slot *s = &m->pkt.slot[i];
		xengnttab_grant_copy_segment_t *g;

		if (s->size == 0)
			continue; /* XSA-448: nothing to copy, nothing to send */
		g = &q->segs[(*nseg)++];
		g->source.foreign.ref = s->gref;
		g->source.foreign.offset = s->offset;
		g->source.foreign.domid = (uint16_t)q->dev->domid;
		g->dest.virt = dst;
		g->len = s->size;
		g->flags = GNTCOPY_source_gref;
		g->status = GNTST_okay;
		dst += s->size;
		m->nr_segs++;
	}
}

/*
 * Take the next packet: the one held for rate credit, or a new one.
 * 1: *m filled; 0: nothing more now; -1: protocol violation.
 */
static int tx_next(struct net_queue *q, struct net_tx_meta *m)
{
	enum ring_netif_verdict v;

	if (q->has_deferred) {
		m->pkt = *q->deferred;
		q->has_deferred = false;
		v = RING_NETIF_SEND;
	} else {
		if (q->tx.br.req_cons == q->tx.req_prod)
			return 0;
		v = ring_netif_tx_fetch(&q->tx, &m->pkt);
		if (v == RING_NETIF_FATAL) {
			queue_fatal(q, "guest transmit ring", m->pkt.error);
			return -1;
		}
	}
	m->send = false;
	m->nr_segs = 0;
	if (v == RING_NETIF_DROP) {
		m->status = NETIF_RSP_ERROR;
		atomic_fetch_add(&q->stats->tx_errors, 1);
		xb_dev_log_ratelimited(q->dev, LOG_WARNING,
				       "queue %u: guest packet dropped: %s",
				       q->index,
				       ring_netif_strerror(m->pkt.error));
		return 1;
	}
	m->status = NETIF_RSP_OKAY;
	if (m->pkt.mcast_op) {
		if (net_mcast_update(q->mcast, m->pkt.mcast_op,
				     m->pkt.mcast_addr))
			m->status = NETIF_RSP_ERROR;
		return 1;
	}
	m->send = true;
	return 1;
}

/* Rate limit: may this packet go now? If not, hold it and arm the timer. */
static bool tx_rate_allows(struct net_queue *q, struct net_tx_meta *m)
{
	uint64_t now = now_us(), wake;

	if (net_rate_take(&q->rate, now, m->pkt.size, &wake))
		return true;
	*q->deferred = m->pkt;
	q->has_deferred = true;
	q->tx_waiting = true;
	atomic_fetch_add(&q->stats->tx_rate_waits, 1);
	arm_timer(q->rate_timer_fd, wake > now ? wake - now : 1);
	return false;
}

/* After the grant copy: write each packet to the TAP, set its status. */
static void tx_deliver(struct net_queue *q, struct net_tx_meta *m,
		       struct tally *t)
{
	uint8_t *frame = q->tx_arena + m->off;
	struct virtio_net_hdr vh;
	unsigned int i;
	ssize_t n;

	for (i = 0; i < m->nr_segs; i++) {
		int16_t st = q->segs[m->first_seg + i].status;

		if (st != GNTST_okay) {
			m->status = NETIF_RSP_ERROR;
			atomic_fetch_add(&q->stats->tx_errors, 1);
			xb_dev_log_ratelimited(
				q->dev, LOG_WARNING,
				"queue %u: guest packet dropped: grant copy "
				"from ref %u failed (%d)",
				q->index,
				q->segs[m->first_seg + i].source.foreign.ref,
				st);
			return;
		}
	}
	if (net_offload_from_guest(frame + HDR, m->pkt.size, m->pkt.flags,
				   m->pkt.gso ? m->pkt.gso_type
					      : XEN_NETIF_GSO_TYPE_NONE,
				   m->pkt.gso_size, &vh)) {
		/* Offload asked for on headers that do not parse. */
		m->status = NETIF_RSP_ERROR;
		atomic_fetch_add(&q->stats->tx_errors, 1);
		xb_dev_log_ratelimited(q->dev, LOG_WARNING,
				       "queue %u: guest packet dropped: "
				       "checksum/GSO offload on unparsable "
				       "headers",
				       q->index);
		return;
	}
	memcpy(frame, &vh, HDR);
	n = write(q->tap_fd, frame, HDR + (size_t)m->pkt.size);
	if (n < 0) {
		/* TAP down or host queue full: the guest's job is done. */
		atomic_fetch_add(&q->stats->tx_dropped, 1);
		return;
	}
	t->packets++;
	t->bytes += m->pkt.size;
	t->csum_partial += !!(vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	t->gso += vh.gso_type != VIRTIO_NET_HDR_GSO_NONE;
}

/* One batch; returns packets handled, or -1 on a protocol violation. */
static int tx_batch(struct net_queue *q)
{
	unsigned int npk = 0, nseg = 0, i;
	uint32_t pos = 0;
	struct tally t = { 0 };
	int rc = 0;

	while (npk < NET_BATCH && pos + NET_FRAME_MAX <= NET_ARENA_SIZE) {
		struct net_tx_meta *m = &q->txm[npk];

		rc = tx_next(q, m);
		if (rc <= 0)
			break;
		if (m->send && !tx_rate_allows(q, m))
			break;
		npk++;
		if (!m->send)
			continue;
		m->off = pos;
		tx_add_copies(q, m, &nseg);
		pos = align_up(pos + HDR + m->pkt.size);
	}
	if (nseg && xengnttab_grant_copy(q->dev->gnttab, nseg, q->segs)) {
		/* The whole call failed: every segment is in error. */
		for (i = 0; i < nseg; i++)
			q->segs[i].status = GNTST_general_error;
	}
	for (i = 0; i < npk; i++) {
		struct net_tx_meta *m = &q->txm[i];

		if (m->send)
			tx_deliver(q, m, &t);
		ring_netif_tx_respond(&q->tx, &m->pkt, m->status);
	}
	tally_flush(&t, &q->stats->tx_packets, &q->stats->tx_bytes,
		    &q->stats->tx_csum_partial, &q->stats->tx_gso,
		    &q->q_tx_packets);
	if (npk && ring_netif_tx_push(&q->tx))
		xb_evtchn_notify(&q->tx_ch);
	return rc < 0 ? -1 : (int)npk;
}

static void tx_work(struct net_queue *q)
{
	unsigned int done = 0;
	int n;

	if (q->tx_waiting)
		return;
	for (;;) {
		n = ring_netif_tx_pending(&q->tx);
		if (n < 0) {
			queue_fatal(q, "guest transmit ring",
				    RING_NETIF_E_PROD_OVERFLOW);
			return;
		}
		if (n == 0 && !q->has_deferred) {
			if (!ring_netif_tx_final_check(&q->tx))
				return;
			continue;
		}
		n = tx_batch(q);
		if (n < 0 || q->tx_waiting)
			return;
		done += (unsigned int)n;
		if (done >= NET_TX_BUDGET) {
			kick(q); /* come back after the other fds had a turn */
			return;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Guest receive                                                       */
/* ------------------------------------------------------------------ */

static unsigned int data_slots(uint32_t len)
{
	return (len + PAGE - 1) / PAGE;
}

/*
 * Judge a frame read from the TAP at arena offset off: its netif flags and
 * the number of ring slots it needs. 0, or -1: drop it.
 */
static int rx_prepare(struct net_queue *q, struct net_rx_meta *m,
		      uint32_t off, uint32_t frame_len, unsigned int *needed)
{
	uint8_t *frame = q->rx_arena + off;
	struct virtio_net_hdr vh;
	unsigned int slots;

	if (frame_len < HDR + RING_NETIF_MIN_PACKET)
		return -1;
	memcpy(&vh, frame, HDR);
	m->off = off;
	m->len = frame_len - HDR;
	if (!net_mcast_pass(q->mcast, frame + HDR))
		return -1;
	if (net_offload_to_guest(frame + HDR, m->len, &vh, &q->caps, &m->flags,
				 &m->gso_type, &m->gso_size))
		return -1;
	slots = data_slots(m->len);
	if (slots > RING_NETIF_MAX_SLOTS || (slots > 1 && !q->rx_sg))
		return -1;
	*needed = slots + (m->gso_type != XEN_NETIF_GSO_TYPE_NONE);
	return 0;
}

/* Take the guest's buffers for a prepared frame, queue its copies. */
static void rx_add_copies(struct net_queue *q, struct net_rx_meta *m,
			  unsigned int needed, unsigned int *nseg)
{
	const uint8_t *src = q->rx_arena + m->off + HDR;
	bool gso = m->gso_type != XEN_NETIF_GSO_TYPE_NONE;
	uint32_t left = m->len;
	unsigned int i;

	m->first_seg = (uint16_t)*nseg;
	m->nr_segs = 0;
	for (i = 0; i < needed; i++) {
		struct ring_netif_rx_slot slot;
		xengnttab_grant_copy_segment_t *g;
		uint32_t len;

		ring_netif_rx_fetch(&q->rx, &slot);
		m->id[i] = slot.id;
		if (gso && i == 1)
			continue; /* this buffer's slot carries the GSO extra */
		len = left < PAGE ? left : PAGE;
		g = &q->segs[(*nseg)++];
		g->source.virt = (void *)src;
		g->dest.foreign.ref = slot.gref;
		g->dest.foreign.offset = 0;
		g->dest.foreign.domid = (uint16_t)q->dev->domid;
		g->len = (uint16_t)len;
		g->flags = GNTCOPY_dest_gref;
		g->status = GNTST_okay;
		src += len;
		left -= len;
		m->nr_segs++;
	}
}

/* Responses for one frame, in the slots of the buffers it used. */
static void rx_respond(struct net_queue *q, const struct net_rx_meta *m,
		       struct tally *t)
{
	bool gso = m->gso_type != XEN_NETIF_GSO_TYPE_NONE, ok = true;
	unsigned int i, id_i = 0;

	for (i = 0; i < m->nr_segs; i++)
		if (q->segs[m->first_seg + i].status != GNTST_okay)
			ok = false;
	for (i = 0; i < m->nr_segs; i++) {
		const xengnttab_grant_copy_segment_t *g =
			&q->segs[m->first_seg + i];
		uint16_t flags = 0;

		if (i + 1 < m->nr_segs)
			flags |= NETRXF_more_data;
		if (i == 0) {
			flags |= m->flags;
			if (gso)
				flags |= NETRXF_extra_info;
		}
		ring_netif_rx_respond(&q->rx, m->id[id_i++], 0, flags,
				      ok ? (int16_t)g->len : NETIF_RSP_ERROR);
		if (i == 0 && gso) {
			ring_netif_rx_respond_gso(&q->rx, m->gso_type,
						  m->gso_size);
			id_i++;
		}
	}
	if (ok) {
		t->packets++;
		t->bytes += m->len;
		t->csum_partial += !!(m->flags & NETRXF_csum_blank);
		t->gso += gso;
	} else {
		atomic_fetch_add(&q->stats->rx_errors, 1);
		xb_dev_log_ratelimited(q->dev, LOG_WARNING,
				       "queue %u: grant copy into a guest "
				       "receive buffer failed",
				       q->index);
	}
}

/* The guest has no buffer for the frame at off: hold it at the start. */
static void rx_stage(struct net_queue *q, uint32_t off, uint32_t frame_len)
{
	if (off != 0)
		memmove(q->rx_arena, q->rx_arena + off, frame_len);
	q->staged_len = frame_len;
	if (!q->rx_blocked) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		q->rx_blocked = true;
		q->rx_blocked_since_ms = (uint64_t)ts.tv_sec * 1000u +
					 (uint64_t)ts.tv_nsec / 1000000u;
		atomic_fetch_add(&q->stats->rx_stalls, 1);
		arm_timer(q->stall_timer_fd, NET_RX_STALL_MS * 1000u);
	}
	set_tap_polled(q, false);
}

/*
 * One batch. Returns 1 if the TAP may hold more, 0 if it is empty or the
 * guest has no buffers, -1 on a protocol violation.
 */
static int rx_batch(struct net_queue *q)
{
	unsigned int npk = 0, nseg = 0, i, needed;
	uint32_t pos = 0, frame_len;
	struct tally t = { 0 };
	int avail, more = 1;

	avail = ring_netif_rx_pending(&q->rx);
	if (avail < 0) {
		queue_fatal(q, "guest receive ring",
			    RING_NETIF_E_PROD_OVERFLOW);
		return -1;
	}
	while (npk < NET_BATCH && pos + NET_FRAME_MAX <= NET_ARENA_SIZE) {
		struct net_rx_meta *m = &q->rxm[npk];

		if (q->staged_len && pos == 0) {
			frame_len = q->staged_len;
			q->staged_len = 0;
		} else {
			ssize_t n = read(q->tap_fd, q->rx_arena + pos,
					 NET_FRAME_MAX);

			if (n <= 0) {
				more = 0; /* EAGAIN: the TAP is empty */
				break;
			}
			frame_len = (uint32_t)n;
		}
		if (rx_prepare(q, m, pos, frame_len, &needed)) {
			atomic_fetch_add(&q->stats->rx_dropped, 1);
			continue;
		}
		if ((unsigned int)avail < needed) {
			if (ring_netif_rx_wait_for(&q->rx, needed))
				avail = ring_netif_rx_pending(&q->rx);
			if (avail < 0) {
				queue_fatal(q, "guest receive ring",
					    RING_NETIF_E_PROD_OVERFLOW);
				return -1;
			}
			if ((unsigned int)avail < needed) {
				/* Copy what we have first, then stage. */
				if (npk == 0) {
					rx_stage(q, pos, frame_len);
				} else {
					q->staged_len = frame_len;
					q->rx_blocked = false;
				}
				more = 0;
				break;
			}
		}
		avail -= (int)needed;
		rx_add_copies(q, m, needed, &nseg);
		pos = align_up(pos + frame_len);
		npk++;
	}
	if (nseg && xengnttab_grant_copy(q->dev->gnttab, nseg, q->segs)) {
		for (i = 0; i < nseg; i++)
			q->segs[i].status = GNTST_general_error;
	}
	for (i = 0; i < npk; i++)
		rx_respond(q, &q->rxm[i], &t);
	tally_flush(&t, &q->stats->rx_packets, &q->stats->rx_bytes,
		    &q->stats->rx_csum_partial, &q->stats->rx_gso,
		    &q->q_rx_packets);
	if (npk && ring_netif_rx_push(&q->rx))
		xb_evtchn_notify(rx_channel(q));
	if (q->staged_len && !q->rx_blocked) {
		/* Staged behind a batch: move it to the front now. */
		uint32_t len = q->staged_len;

		rx_stage(q, pos, len);
	}
	if (q->rx_blocked && !q->staged_len) {
		/* Delivered what was held: read the TAP again. */
		q->rx_blocked = false;
		set_tap_polled(q, true);
	}
	return more;
}

static void rx_work(struct net_queue *q)
{
	unsigned int rounds;

	/* Bounded: the TAP stays readable, the worker comes back. */
	for (rounds = 0; rounds < 4 && !q->dead; rounds++)
		if (rx_batch(q) <= 0)
			break;
}

/* The guest posted no buffer for too long: drop what the TAP holds. */
static void rx_drain_stalled(struct net_queue *q)
{
	uint64_t dropped = 0;

	if (q->staged_len) {
		q->staged_len = 0;
		dropped++;
	}
	while (read(q->tap_fd, q->rx_arena, NET_FRAME_MAX) > 0)
		dropped++;
	atomic_fetch_add(&q->stats->rx_dropped, dropped);
	q->rx_blocked = false;
	set_tap_polled(q, true);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

/* Rate credit is back: send what waited for it. */
static void on_rate_timer(struct net_queue *q)
{
	uint64_t ticks;

	if (read(q->rate_timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (q->tx_waiting) {
		q->tx_waiting = false;
		tx_work(q);
	}
}

/* The main thread changed the limit: a packet held may go sooner. */
static void take_rate_change(struct net_queue *q)
{
	if (!atomic_exchange(&q->rate_changed, false))
		return;
	net_rate_change(&q->rate, atomic_load(&q->rate_new_bytes),
			atomic_load(&q->rate_new_usec));
	q->tx_waiting = false; /* judged again now; the timer is re-armed */
}

void net_queue_set_rate(struct net_queue *q, uint64_t bytes, uint64_t usec)
{
	atomic_store(&q->rate_new_bytes, bytes);
	atomic_store(&q->rate_new_usec, usec);
	atomic_store(&q->rate_changed, true);
	kick(q);
}

/* NET_RX_STALL_MS after the guest ran out of buffers. */
static void on_stall_timer(struct net_queue *q)
{
	uint64_t ticks;

	if (read(q->stall_timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (!q->rx_blocked)
		return;
	rx_work(q);
	if (q->rx_blocked)
		rx_drain_stalled(q);
}

static void dispatch(struct net_queue *q, uint32_t tag)
{
	uint64_t v;

	switch (tag) {
	case EV_TX_CH:
		if (xb_evtchn_ack(&q->tx_ch) <= 0)
			return;
		tx_work(q);
		if (!q->split && !q->dead)
			rx_work(q);
		break;
	case EV_RX_CH:
		if (xb_evtchn_ack(&q->rx_ch) > 0)
			rx_work(q);
		break;
	case EV_TAP:
		rx_work(q);
		break;
	case EV_RATE_TIMER:
		on_rate_timer(q);
		break;
	case EV_STALL_TIMER:
		on_stall_timer(q);
		break;
	case EV_KICK:
		if (read(q->kick_fd, &v, sizeof(v)) > 0) {
			take_rate_change(q);
			tx_work(q);
		}
		break;
	}
}

/* The worker's one callback: our epoll set has something ready. */
static void on_queue_ready(void *arg, uint32_t events)
{
	struct net_queue *q = arg;
	struct epoll_event ev[8];
	int n, i;

	(void)events;
	n = epoll_wait(q->epfd, ev, 8, 0);
	for (i = 0; i < n && !q->dead; i++)
		dispatch(q, ev[i].data.u32);
	if (q->dead) {
		/* Serve nothing more; disconnect() comes from the main
		 * thread. Keep the set quiet meanwhile. */
		epoll_ctl(q->epfd, EPOLL_CTL_DEL, q->tap_fd, NULL);
		epoll_ctl(q->epfd, EPOLL_CTL_DEL, q->tx_ch.fd, NULL);
		if (q->split)
			epoll_ctl(q->epfd, EPOLL_CTL_DEL, q->rx_ch.fd, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* Set-up and tear-down                                                */
/* ------------------------------------------------------------------ */

void net_queue_init(struct net_queue *q)
{
	memset(q, 0, sizeof(*q));
	q->tap_fd = -1;
	q->epfd = q->rate_timer_fd = q->stall_timer_fd = q->kick_fd = -1;
	q->tx_ch.fd = q->rx_ch.fd = -1;
}

static int epoll_add(struct net_queue *q, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(q->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int alloc_buffers(struct net_queue *q)
{
	q->tx_arena = aligned_alloc(PAGE, NET_ARENA_SIZE);
	q->rx_arena = aligned_alloc(PAGE, NET_ARENA_SIZE);
	q->segs = calloc(NET_SEGS_MAX, sizeof(*q->segs));
	q->txm = calloc(NET_BATCH, sizeof(*q->txm));
	q->rxm = calloc(NET_BATCH, sizeof(*q->rxm));
	q->deferred = calloc(1, sizeof(*q->deferred));
	if (!q->tx_arena || !q->rx_arena || !q->segs || !q->txm || !q->rxm ||
	    !q->deferred)
		return -ENOMEM;
	return 0;
}

static void free_buffers(struct net_queue *q)
{
	free(q->tx_arena);
	free(q->rx_arena);
	free(q->segs);
	free(q->txm);
	free(q->rxm);
	free(q->deferred);
	q->tx_arena = q->rx_arena = NULL;
	q->segs = NULL;
	q->txm = NULL;
	q->rxm = NULL;
	q->deferred = NULL;
}

int net_queue_start(struct net_queue *q)
{
	RING_IDX tx_start, rx_start;
	int rc;

	rc = alloc_buffers(q);
	if (rc)
		return rc;
	/* Rings in use (the daemon restarted) carry on where they were. */
	rc = xb_ring_start_index(q->dev, &q->tx_map, RING_NETIF_TX_RING_SIZE,
				 &tx_start);
	if (!rc)
		rc = xb_ring_start_index(q->dev, &q->rx_map,
					 RING_NETIF_RX_RING_SIZE, &rx_start);
	if (rc)
		return rc;
	ring_netif_tx_attach_at(&q->tx, q->tx_map.addr, tx_start);
	ring_netif_rx_attach_at(&q->rx, q->rx_map.addr, rx_start);
	net_rate_init(&q->rate, q->rate_bytes, q->rate_usec, now_us());
	q->epfd = epoll_create1(EPOLL_CLOEXEC);
	q->rate_timer_fd = timerfd_create(CLOCK_MONOTONIC,
					  TFD_NONBLOCK | TFD_CLOEXEC);
	q->stall_timer_fd = timerfd_create(CLOCK_MONOTONIC,
					   TFD_NONBLOCK | TFD_CLOEXEC);
	q->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->epfd < 0 || q->rate_timer_fd < 0 || q->stall_timer_fd < 0 ||
	    q->kick_fd < 0)
		return -errno;
	if ((rc = epoll_add(q, q->tx_ch.fd, EV_TX_CH)) ||
	    (q->split && (rc = epoll_add(q, q->rx_ch.fd, EV_RX_CH))) ||
	    (rc = epoll_add(q, q->tap_fd, EV_TAP)) ||
	    (rc = epoll_add(q, q->rate_timer_fd, EV_RATE_TIMER)) ||
	    (rc = epoll_add(q, q->stall_timer_fd, EV_STALL_TIMER)) ||
	    (rc = epoll_add(q, q->kick_fd, EV_KICK)))
		return rc;
	q->tap_polled = true;

	q->worker = xb_worker_new(q->dev, q->name, NULL, NULL);
	if (!q->worker)
		return -errno;
	rc = xb_worker_add_fd(q->worker, q->epfd, EPOLLIN, on_queue_ready, q);
	if (rc)
		return rc;
	/* A close does not wait for us: we say when we have ended. */
	xb_worker_notify_end(q->worker);
	/* Requests posted before we looked: serve them at once. */
	kick(q);
	return xb_worker_start(q->worker);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void net_queue_stop(struct net_queue *q)
{
	xb_worker_free(q->worker); /* stops and joins it first */
	q->worker = NULL;
	close_fd(&q->epfd);
	close_fd(&q->rate_timer_fd);
	close_fd(&q->stall_timer_fd);
	close_fd(&q->kick_fd);
	free_buffers(q);
	q->staged_len = 0;
	q->rx_blocked = false;
	q->has_deferred = false;
	q->tx_waiting = false;
}
