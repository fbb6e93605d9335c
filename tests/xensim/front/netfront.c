// SPDX-License-Identifier: GPL-2.0-only
/*
 * netfront - a simulated guest's netif frontend, for tests.
 *
 * Plays the guest kernel's xen-netfront on a simulated Xen host
 * (tests/xensim/guest/xsg.h): follows Linux netfront's xenbus handshake
 * (tx-ring-ref/rx-ring-ref, event-channel or event-channel-tx/-rx,
 * multi-queue-num-queues with queue-N/, request-rx-copy, feature-rx-notify,
 * feature-sg, feature-gso-tcpv4/v6, feature-no-csum-offload,
 * feature-ipv6-csum-offload, state changes), and gives the guest a network
 * interface: a TAP device of its own (run it inside a network namespace),
 * whose frames go out on the tx ring and whose received frames come from
 * the rx ring. So ping, TCP and any other tool run "in the guest".
 *
 * It can also misbehave on purpose (--hostile CLASS): right after
 * connecting it sends one malformed packet of that class, prints what the
 * backend answered, and goes on serving (unless the backend gave up).
 * Class rewrite pushes valid frames for 2 s while another thread rewrites
 * the tx slots under the backend (XSA-155). Class bad-rx-ring instead
 * announces the last queue's rx ring as a page
 * never granted (the backend must not connect).
 *
 *   netfront --tap NAME [--devid N] [--queues N] [--split] [--no-sg]
 *            [--no-gso] [--no-csum] [--no-rx-buffers] [--hostile CLASS]
 *            [--ready FILE]
 *
 * Runs until SIGTERM/SIGINT (then closes the device as netfront does on
 * unplug) or until the backend closes the device. Prints one line per
 * event of interest to stdout ("connected", "hostile ...", "closed").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>
#include <xenstore.h>

#include "net/offload.h"
#include "tests/xensim/guest/xsg.h"

#define PAGE 4096u
#define RING_SZ 256u
#define MAXQ 8
#define HDR 10
#define FRAME_MAX (HDR + 65536 + 64)
#define MAX_SLOTS 18

static volatile sig_atomic_t stop_requested;

struct nfq {
	unsigned int idx;
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	int tx_ring_gref, rx_ring_gref;
	int tx_port, rx_port; /* equal unless split */
	uint8_t *tx_buf, *rx_buf;
	int tx_gref[RING_SZ], rx_gref[RING_SZ];
	uint16_t tx_free[RING_SZ];
	unsigned int tx_nfree;
	int tap_fd;
	uint8_t frame[FRAME_MAX];
	bool have_frame; /* read from the TAP, waiting for ring room */
	size_t frame_len;
};

static struct {
	struct xsg *g;
	struct xs_handle *xs;
	uint32_t domid, be_domid;
	unsigned int devid, nq, max_q;
	char fe[128], be[128];
	char tap[IFNAMSIZ];
	bool split, sg, gso, csum, post_rx, be_split;
	/* A hostile class broke a producer index: post nothing more, or
	 * the next push would write a sane index over the corruption
	 * before the backend looked (e.g. refilling the rx ring after the
	 * frames the host sends on a new vif). */
	bool rings_frozen;
	const char *hostile, *ready;
	struct nfq q[MAXQ];
	unsigned long tx_ok, tx_err, rx_ok, rx_err;
	unsigned int rsp_status[4]; /* DROPPED, ERROR, OKAY, NULL */
} nf = { .sg = true, .gso = true, .csum = true, .post_rx = true, .nq = 1 };

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "netfront: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* xenstore                                                            */
/* ------------------------------------------------------------------ */

static char *xs_get(const char *dir, const char *node)
{
	char path[256];
	unsigned int len;

	snprintf(path, sizeof(path), "%s/%s", dir, node);
	return xs_read(nf.xs, XBT_NULL, path, &len);
}

static long xs_get_num(const char *dir, const char *node, long def)
{
	char *s = xs_get(dir, node);
	long v = def;

	if (s)
		v = strtol(s, NULL, 10);
	free(s);
	return v;
}

static void xs_put(xs_transaction_t t, const char *node, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));
static void xs_put(xs_transaction_t t, const char *node, const char *fmt, ...)
{
	char path[256], val[64];
	va_list ap;

	snprintf(path, sizeof(path), "%s/%s", nf.fe, node);
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (!xs_write(nf.xs, t, path, val, strlen(val)))
		die("xenstore write %s: %s", path, strerror(errno));
}

static void set_state(enum xenbus_state s)
{
	xs_put(XBT_NULL, "state", "%d", s);
}

static int be_state(void)
{
	return (int)xs_get_num(nf.be, "state", XenbusStateUnknown);
}

/* Wait (bounded) for the backend to reach one of two states. */
static int wait_be_state(int a, int b, int timeout_ms)
{
	int s, waited = 0;

	for (;;) {
		s = be_state();
		if (s == a || s == b || waited >= timeout_ms || stop_requested)
			return s;
		usleep(10000);
		waited += 10;
	}
}

/* ------------------------------------------------------------------ */
/* Rings and buffers                                                   */
/* ------------------------------------------------------------------ */

static int grant(uint32_t frame, bool ro)
{
	int ref = xsg_grant_access(nf.g, nf.be_domid, frame, ro);

	if (ref < 0)
		die("grant: %s", strerror(-ref));
	return ref;
}

static void *alloc_granted(unsigned int n, bool ro, int *grefs)
{
	uint32_t first;
	void *va = xsg_alloc_pages(nf.g, n, &first);
	unsigned int i;

	if (!va)
		die("out of guest memory");
	for (i = 0; i < n; i++)
		grefs[i] = grant(first + i, ro);
	return va;
}

static int alloc_port(void)
{
	int p = xsg_evtchn_alloc_unbound(nf.g, nf.be_domid);

	if (p < 0)
		die("event channel: %s", strerror(-p));
	return p;
}

static int open_tap_queue(void)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	int hdr = HDR;
	unsigned int off = 0;

	if (fd < 0)
		die("/dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nf.tap);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		die("TAP %s: %s", nf.tap, strerror(errno));
	/* What the guest stack may hand us: what the backend accepts. */
	if (nf.csum)
		off |= TUN_F_CSUM;
	if (nf.csum && nf.gso && nf.sg)
		off |= TUN_F_TSO4 | TUN_F_TSO6;
	if (ioctl(fd, TUNSETOFFLOAD, off) < 0)
		die("TAP offload: %s", strerror(errno));
	return fd;
}

static void setup_queue(struct nfq *q)
{
	uint32_t frame;
	void *page;
	unsigned int i;

	page = xsg_alloc_pages(nf.g, 1, &frame);
	if (!page)
		die("out of guest memory");
	SHARED_RING_INIT((netif_tx_sring_t *)page);
	FRONT_RING_INIT(&q->tx, (netif_tx_sring_t *)page, PAGE);
	q->tx_ring_gref = grant(frame, false);
	page = xsg_alloc_pages(nf.g, 1, &frame);
	if (!page)
		die("out of guest memory");
	SHARED_RING_INIT((netif_rx_sring_t *)page);
	FRONT_RING_INIT(&q->rx, (netif_rx_sring_t *)page, PAGE);
	q->rx_ring_gref = grant(frame, false);

	q->tx_buf = alloc_granted(RING_SZ, true, q->tx_gref);
	q->rx_buf = alloc_granted(RING_SZ, false, q->rx_gref);
	for (i = 0; i < RING_SZ; i++)
		q->tx_free[i] = (uint16_t)i;
	q->tx_nfree = RING_SZ;
	q->tx_port = alloc_port();
	q->rx_port = nf.split ? alloc_port() : q->tx_port;
	q->tap_fd = open_tap_queue();
}

static void notify_tx(struct nfq *q)
{
	int notify;

	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, notify);
	if (notify)
		xsg_evtchn_notify(nf.g, q->tx_port);
}

static void post_rx_buffers(struct nfq *q)
{
	int notify;
	bool any = false;

	if (!nf.post_rx || nf.rings_frozen)
		return;
	while (q->rx.req_prod_pvt - q->rx.rsp_cons < RING_SZ) {
		RING_IDX i = q->rx.req_prod_pvt++;
		netif_rx_request_t *r = RING_GET_REQUEST(&q->rx, i);

		r->id = (uint16_t)(i & (RING_SZ - 1));
		r->gref = (grant_ref_t)q->rx_gref[i & (RING_SZ - 1)];
		any = true;
	}
	if (!any)
		return;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
	if (notify)
		xsg_evtchn_notify(nf.g, q->rx_port);
}

/* ------------------------------------------------------------------ */
/* Handshake                                                           */
/* ------------------------------------------------------------------ */

static void write_queue_nodes(xs_transaction_t t, struct nfq *q)
{
	char pre[16] = "";

	if (nf.nq > 1)
		snprintf(pre, sizeof(pre), "queue-%u/", q->idx);
#define PUT(node, ...)                                                      \
	do {                                                                \
		char n_[64];                                                \
		snprintf(n_, sizeof(n_), "%s%s", pre, node);                \
		xs_put(t, n_, __VA_ARGS__);                                 \
	} while (0)
	PUT("tx-ring-ref", "%d", q->tx_ring_gref);
	/* Hostile: the last queue's rx ring is a page never granted. */
	PUT("rx-ring-ref", "%d",
	    nf.hostile && !strcmp(nf.hostile, "bad-rx-ring") &&
			    q->idx + 1 == nf.nq ?
		    0x7f00 :
		    q->rx_ring_gref);
	if (nf.split) {
		PUT("event-channel-tx", "%d", q->tx_port);
		PUT("event-channel-rx", "%d", q->rx_port);
	} else {
		PUT("event-channel", "%d", q->tx_port);
	}
#undef PUT
}

static void talk_to_backend(void)
{
	xs_transaction_t t;
	unsigned int i;

	for (;;) {
		t = xs_transaction_start(nf.xs);
		if (!t)
			die("transaction: %s", strerror(errno));
		if (nf.nq > 1)
			xs_put(t, "multi-queue-num-queues", "%u", nf.nq);
		for (i = 0; i < nf.nq; i++)
			write_queue_nodes(t, &nf.q[i]);
		xs_put(t, "request-rx-copy", "1");
		xs_put(t, "feature-rx-notify", "1");
		xs_put(t, "feature-sg", "%d", nf.sg);
		xs_put(t, "feature-gso-tcpv4", "%d", nf.gso && nf.sg);
		xs_put(t, "feature-gso-tcpv6", "%d", nf.gso && nf.sg);
		xs_put(t, "feature-no-csum-offload", "%d", !nf.csum);
		xs_put(t, "feature-ipv6-csum-offload", "%d", nf.csum);
		if (xs_transaction_end(nf.xs, t, false))
			break;
		if (errno != EAGAIN)
			die("transaction end: %s", strerror(errno));
	}
}

static void find_paths(void)
{
	char *s;

	snprintf(nf.fe, sizeof(nf.fe), "/local/domain/%u/device/vif/%u",
		 nf.domid, nf.devid);
	s = xs_get(nf.fe, "backend");
	if (!s)
		die("no %s/backend (the toolstack writes it)", nf.fe);
	snprintf(nf.be, sizeof(nf.be), "%s", s);
	free(s);
	nf.be_domid = (uint32_t)xs_get_num(nf.fe, "backend-id", 0);
}

static void connect_device(void)
{
	unsigned int i;
	int s;

	find_paths();
	s = wait_be_state(XenbusStateInitWait, XenbusStateConnected, 20000);
	if (s != XenbusStateInitWait && s != XenbusStateConnected)
		die("backend %s in state %d, not InitWait", nf.be, s);
	nf.max_q = (unsigned int)xs_get_num(nf.be, "multi-queue-max-queues", 1);
	nf.be_split = xs_get_num(nf.be, "feature-split-event-channels", 0);
	if (nf.nq > nf.max_q)
		nf.nq = nf.max_q;
	if (nf.split && !nf.be_split)
		nf.split = false;
	for (i = 0; i < nf.nq; i++) {
		nf.q[i].idx = i;
		setup_queue(&nf.q[i]);
	}
	for (i = 0; i < nf.nq; i++)
		post_rx_buffers(&nf.q[i]);
	talk_to_backend();
	set_state(XenbusStateConnected);
	s = wait_be_state(XenbusStateConnected, XenbusStateClosed, 20000);
	if (s != XenbusStateConnected)
		die("backend did not connect (state %d)", s);
	say("connected queues=%u split=%d sg=%d gso=%d csum=%d", nf.nq,
	    nf.split, nf.sg, nf.gso, nf.csum);
	if (nf.ready) {
		FILE *f = fopen(nf.ready, "w");

		if (f)
			fclose(f);
	}
}

static void close_device(void)
{
	set_state(XenbusStateClosing);
	wait_be_state(XenbusStateClosing, XenbusStateClosed, 10000);
	set_state(XenbusStateClosed);
	wait_be_state(XenbusStateClosed, XenbusStateClosed, 10000);
	say("closed");
}

/* ------------------------------------------------------------------ */
/* Guest transmit: TAP -> tx ring                                      */
/* ------------------------------------------------------------------ */

static void tx_slot(struct nfq *q, uint16_t id, uint16_t off, uint16_t flags,
		    uint16_t size)
{
	netif_tx_request_t *r = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++);

	r->gref = (grant_ref_t)q->tx_gref[id];
	r->offset = off;
	r->flags = flags;
	r->id = id;
	r->size = size;
}

static void tx_extra(struct nfq *q, const struct netif_extra_info *x)
{
	void *slot = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++);

	memset(slot, 0, sizeof(netif_tx_request_t));
	memcpy(slot, x, sizeof(*x));
}

/* Put the frame held in q->frame on the ring; false: no room yet. */
static bool tx_frame(struct nfq *q)
{
	struct virtio_net_hdr vh;
	const uint8_t *data = q->frame + HDR;
	size_t len = q->frame_len - HDR, left;
	unsigned int slots = (unsigned int)((len + PAGE - 1) / PAGE), i;
	bool gso;
	uint16_t flags = 0;

	memcpy(&vh, q->frame, HDR);
	gso = vh.gso_type != VIRTIO_NET_HDR_GSO_NONE;
	if (len < 14 || len > 65535 || slots > MAX_SLOTS ||
	    (slots > 1 && !nf.sg)) {
		nf.tx_err++;
		return true; /* the guest driver drops it */
	}
	if (RING_FREE_REQUESTS(&q->tx) < slots + 1 || q->tx_nfree < slots)
		return false;
	if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		flags |= NETTXF_csum_blank | NETTXF_data_validated;
	else if (vh.flags & VIRTIO_NET_HDR_F_DATA_VALID)
		flags |= NETTXF_data_validated;
	left = len;
	for (i = 0; i < slots; i++) {
		uint16_t id = q->tx_free[--q->tx_nfree];
		size_t n = left < PAGE ? left : PAGE;
		uint16_t f = (uint16_t)(i + 1 < slots ? NETTXF_more_data : 0);

		memcpy(q->tx_buf + (size_t)id * PAGE, data + (len - left), n);
		if (i == 0) {
			f |= flags;
			if (gso)
				f |= NETTXF_extra_info;
			tx_slot(q, id, 0, f, (uint16_t)len);
			if (gso) {
				struct netif_extra_info x = { 0 };

				x.type = XEN_NETIF_EXTRA_TYPE_GSO;
				x.u.gso.size = vh.gso_size;
				x.u.gso.type =
					(vh.gso_type & 0x7f) ==
							VIRTIO_NET_HDR_GSO_TCPV6
						? XEN_NETIF_GSO_TYPE_TCPV6
						: XEN_NETIF_GSO_TYPE_TCPV4;
				tx_extra(q, &x);
			}
		} else {
			tx_slot(q, id, 0, f, (uint16_t)n);
		}
		left -= n;
	}
	return true;
}

static void tx_from_tap(struct nfq *q)
{
	unsigned int n = 0;

	if (nf.rings_frozen)
		return;
	for (;;) {
		if (!q->have_frame) {
			ssize_t r = read(q->tap_fd, q->frame, sizeof(q->frame));

			if (r <= 0)
				break;
			q->frame_len = (size_t)r;
			q->have_frame = true;
		}
		if (!tx_frame(q))
			break;
		q->have_frame = false;
		if (++n == 64) {
			notify_tx(q);
			n = 0;
		}
	}
	if (n)
		notify_tx(q);
}

static void tx_responses(struct nfq *q)
{
	RING_IDX prod, i;
	int more;

	do {
		prod = q->tx.sring->rsp_prod;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		for (i = q->tx.rsp_cons; i != prod; i++) {
			netif_tx_response_t *r = RING_GET_RESPONSE(&q->tx, i);

			if (r->status >= -2 && r->status <= 1)
				nf.rsp_status[r->status + 2]++;
			if (r->status == NETIF_RSP_NULL)
				continue;
			if (r->status == NETIF_RSP_OKAY)
				nf.tx_ok++;
			else
				nf.tx_err++;
			if (r->id < RING_SZ && q->tx_nfree < RING_SZ)
				q->tx_free[q->tx_nfree++] = r->id;
		}
		q->tx.rsp_cons = prod;
		RING_FINAL_CHECK_FOR_RESPONSES(&q->tx, more);
	} while (more);
}

/* ------------------------------------------------------------------ */
/* Guest receive: rx ring -> TAP                                       */
/* ------------------------------------------------------------------ */

/* Responses of one packet available from i? Count its slots. */
static bool rx_packet_complete(struct nfq *q, RING_IDX i, RING_IDX prod,
			       unsigned int *nslots)
{
	netif_rx_response_t *r;
	bool extra_follows, more;
	unsigned int n = 0;

	if (i == prod)
		return false;
	r = RING_GET_RESPONSE(&q->rx, i);
	extra_follows = r->flags & NETRXF_extra_info;
	more = r->flags & NETRXF_more_data;
	i++;
	n++;
	while (extra_follows) {
		struct netif_extra_info *x;

		if (i == prod)
			return false;
		x = (struct netif_extra_info *)RING_GET_RESPONSE(&q->rx, i);
		extra_follows = x->flags & XEN_NETIF_EXTRA_FLAG_MORE;
		i++;
		n++;
	}
	while (more) {
		if (i == prod)
			return false;
		r = RING_GET_RESPONSE(&q->rx, i);
		more = r->flags & NETRXF_more_data;
		i++;
		n++;
	}
	*nslots = n;
	return true;
}

static void rx_deliver(struct nfq *q, RING_IDX i, unsigned int nslots)
{
	struct virtio_net_hdr vh = { 0 };
	uint8_t *out = q->frame + HDR;
	size_t len = 0;
	bool bad = false, first = true, extras = false;
	uint16_t flags0 = 0;
	unsigned int k;

	for (k = 0; k < nslots; k++, i++) {
		netif_rx_response_t *r = RING_GET_RESPONSE(&q->rx, i);
		unsigned int buf = i & (RING_SZ - 1);

		if (extras) {
			struct netif_extra_info *x = (void *)r;

			if (x->type == XEN_NETIF_EXTRA_TYPE_GSO) {
				vh.gso_size = x->u.gso.size;
				vh.gso_type = x->u.gso.type ==
							      XEN_NETIF_GSO_TYPE_TCPV6
						      ? VIRTIO_NET_HDR_GSO_TCPV6
						      : VIRTIO_NET_HDR_GSO_TCPV4;
			}
			extras = x->flags & XEN_NETIF_EXTRA_FLAG_MORE;
			continue;
		}
		if (r->status < 0 || (unsigned int)(r->offset + r->status) > PAGE ||
		    len + (size_t)r->status > 65536 + 64) {
			bad = true;
		} else {
			memcpy(out + len, q->rx_buf + (size_t)buf * PAGE +
						  r->offset,
			       (size_t)r->status);
			len += (size_t)r->status;
		}
		if (first) {
			flags0 = r->flags;
			extras = r->flags & NETRXF_extra_info;
			first = false;
		}
	}
	if (bad || len < 14) {
		nf.rx_err++;
		return;
	}
	if (flags0 & NETRXF_csum_blank) {
		struct net_l4 l4;

		if (net_offload_parse(out, len, &l4)) {
			nf.rx_err++;
			return;
		}
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.csum_start = l4.l4_off;
		vh.csum_offset = l4.csum_off;
		if (vh.gso_type)
			vh.hdr_len = (uint16_t)(l4.l4_off + l4.l4_hdr_len);
	} else if (flags0 & NETRXF_data_validated) {
		vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	memcpy(q->frame, &vh, HDR);
	if (write(q->tap_fd, q->frame, HDR + len) < 0)
		nf.rx_err++;
	else
		nf.rx_ok++;
}

static void rx_responses(struct nfq *q)
{
	RING_IDX prod;
	unsigned int n;
	int more;

	do {
		prod = q->rx.sring->rsp_prod;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		while (rx_packet_complete(q, q->rx.rsp_cons, prod, &n)) {
			/* The TAP frame buffer is shared with tx: only when
			 * no tx frame is held. */
			if (q->have_frame) {
				static uint8_t save[FRAME_MAX];
				size_t l = q->frame_len;

				memcpy(save, q->frame, l);
				rx_deliver(q, q->rx.rsp_cons, n);
				memcpy(q->frame, save, l);
			} else {
				rx_deliver(q, q->rx.rsp_cons, n);
			}
			q->rx.rsp_cons += n;
		}
		post_rx_buffers(q);
		RING_FINAL_CHECK_FOR_RESPONSES(&q->rx, more);
	} while (more);
}

/* ------------------------------------------------------------------ */
/* Hostile packets                                                     */
/* ------------------------------------------------------------------ */

/* A plausible Ethernet frame in tx buffer id (broadcast, ARP type). */
static void fill_frame(struct nfq *q, uint16_t id, uint16_t off, size_t len)
{
	uint8_t *p = q->tx_buf + (size_t)id * PAGE + off;

	memset(p, 0xff, 6);
	memcpy(p + 6, "\x00\x16\x3e\x00\x00\x01", 6);
	p[12] = 0x08;
	p[13] = 0x06;
	if (len > 14)
		memset(p + 14, 0, len - 14 > PAGE - off - 14 ? 0 : len - 14);
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

/*
 * A 60-byte Ethernet frame to the host's TAP MAC carrying a UDP datagram
 * from src to dst:port with both checksums right, from "SRC,DST,PORT":
 * the host's stack takes it only if every header byte arrived in order.
 */
static void udp_frame(uint8_t *f, const char *spec)
{
	char src[32], dst[32];
	unsigned int port;
	uint8_t *ip = f + 14, *udp = ip + 20, pseudo[12];
	static const char payload[] = "xenbackd-xsa-423!";

	if (sscanf(spec, "%31[^,],%31[^,],%u", src, dst, &port) != 3 ||
	    inet_pton(AF_INET, src, ip + 12) != 1 ||
	    inet_pton(AF_INET, dst, ip + 16) != 1)
		die("hostile frame: want SRC,DST,PORT, got %s", spec);
	memcpy(f, "\xfe\xff\xff\xff\xff\xff\x00\x16\x3e\x00\x00\x01\x08\x00",
	       14);
	ip[0] = 0x45;
	ip[1] = 0;
	ip[2] = 0;
	ip[3] = 46; /* 20 + 8 + 18 */
	memset(ip + 4, 0, 4);
	ip[8] = 64;
	ip[9] = 17;
	ip[10] = ip[11] = 0;
	udp[0] = 0xc3;
	udp[1] = 0x50;
	udp[2] = (uint8_t)(port >> 8);
	udp[3] = (uint8_t)port;
	udp[4] = 0;
	udp[5] = 26;
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, payload, 18);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	pseudo[10] = 0;
	pseudo[11] = 26;
	{
		uint16_t ic = csum_fold(csum_add(0, ip, 20));
		uint16_t uc = csum_fold(csum_add(csum_add(0, pseudo, 12),
						 udp, 26));

		ip[10] = (uint8_t)(ic >> 8);
		ip[11] = (uint8_t)ic;
		udp[6] = (uint8_t)(uc >> 8);
		udp[7] = (uint8_t)uc;
	}
}

/*
 * The frame f in n slots of the given sizes, each in a page of its own,
 * odd ones ending at their page's end: headers split across slots.
 */
static void tx_split(struct nfq *q, const uint8_t *f, size_t len,
		     const uint16_t *size, unsigned int n)
{
	size_t pos = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint16_t off = (uint16_t)(i & 1 ? PAGE - size[i] : 0);

		memcpy(q->tx_buf + (size_t)i * PAGE + off, f + pos, size[i]);
		tx_slot(q, (uint16_t)i, off,
			(uint16_t)(i + 1 < n ? NETTXF_more_data : 0),
			(uint16_t)(i ? size[i] : len));
		pos += size[i];
	}
}

/* XSA-155: a thread rewrites every tx slot while the backend reads them. */
struct rewriter {
	struct nfq *q;
	volatile bool stop;
	unsigned long passes;
};

static void *rewrite_slots(void *arg)
{
	struct rewriter *w = arg;
	unsigned int k = 0, i;

	while (!w->stop) {
		uint16_t off = k & 4 ? 0 : 4090;
		uint16_t flags = k & 8 ? NETTXF_more_data : 0;
		uint16_t size = k & 1 ? 60 : k & 2 ? 0 : 5000;

		/* Bytes 4-11 only: a response is bytes 0-3 of the slot. */
		for (i = 0; i < RING_SZ; i++) {
			volatile uint8_t *s =
				(uint8_t *)&w->q->tx.sring->ring[i];

			memcpy((uint8_t *)s + 4, &off, 2);
			memcpy((uint8_t *)s + 6, &flags, 2);
			memcpy((uint8_t *)s + 10, &size, 2);
		}
		k++;
		w->passes++;
	}
	return NULL;
}

/* Valid 60-byte frames pushed for 2 s while the slots are rewritten. */
static void send_rewritten(struct nfq *q)
{
	struct rewriter w = { .q = q };
	struct timespec t0, t;
	unsigned long sent = 0;
	pthread_t th;

	if (pthread_create(&th, NULL, rewrite_slots, &w))
		die("thread: %s", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		unsigned int n = 0;

		tx_responses(q);
		while (q->tx_nfree && RING_FREE_REQUESTS(&q->tx) && n < 32) {
			uint16_t id = q->tx_free[--q->tx_nfree];

			fill_frame(q, id, 0, 60);
			tx_slot(q, id, 0, 0, 60);
			n++;
		}
		sent += n;
		RING_PUSH_REQUESTS(&q->tx);
		xsg_evtchn_notify(nf.g, q->tx_port);
		usleep(200);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 2 && be_state() == XenbusStateConnected);
	w.stop = true;
	pthread_join(th, NULL);
	say("# rewrite: %lu packets sent, %lu passes over the ring", sent,
	    w.passes);
}

static bool send_hostile(struct nfq *q, const char *cls)
{
	unsigned int i, n;

	if (!strcmp(cls, "too-many-slots") || !strcmp(cls, "fatal-slots")) {
		n = !strcmp(cls, "too-many-slots") ? 19 : 24;
		fill_frame(q, 0, 0, 60);
		tx_slot(q, 0, 0, NETTXF_more_data, (uint16_t)(60 + n - 1));
		for (i = 1; i < n; i++)
			tx_slot(q, (uint16_t)i, 0,
				i + 1 < n ? NETTXF_more_data : 0, 1);
	} else if (!strncmp(cls, "split-header:", 13)) {
		/* XSA-423: Ethernet, IP and UDP headers cut across 5 slots. */
		static const uint16_t size[] = { 7, 13, 9, 5, 26 };
		uint8_t f[60];

		udp_frame(f, cls + 13);
		tx_split(q, f, sizeof(f), size, 5);
	} else if (!strncmp(cls, "max-frag:", 9)) {
		/* XSA-432: a tiny packet in the most slots allowed (18). */
		uint16_t size[MAX_SLOTS];
		uint8_t f[60];

		udp_frame(f, cls + 9);
		for (i = 0; i < MAX_SLOTS; i++)
			size[i] = i + 1 < MAX_SLOTS ? 1 : 60 - (MAX_SLOTS - 1);
		tx_split(q, f, sizeof(f), size, MAX_SLOTS);
	} else if (!strcmp(cls, "rewrite")) {
		send_rewritten(q);
		return true;
	} else if (!strcmp(cls, "cross-page")) {
		fill_frame(q, 0, 4000, 60);
		tx_slot(q, 0, 4000, 0, 200);
	} else if (!strcmp(cls, "slot-too-big")) {
		fill_frame(q, 0, 0, 60);
		tx_slot(q, 0, 0, NETTXF_more_data, 100);
		tx_slot(q, 1, 0, 0, 3000);
	} else if (!strcmp(cls, "runt")) {
		fill_frame(q, 0, 0, 14);
		tx_slot(q, 0, 0, 0, 10);
	} else if (!strcmp(cls, "bad-gref")) {
		netif_tx_request_t *r =
			RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++);

		r->gref = 30000; /* never granted */
		r->offset = 0;
		r->flags = 0;
		r->id = 0;
		r->size = 60;
	} else if (!strcmp(cls, "zero-frag")) {
		fill_frame(q, 0, 0, 60);
		tx_slot(q, 0, 0, NETTXF_more_data, 60);
		tx_slot(q, 1, 0, NETTXF_more_data, 0);
		tx_slot(q, 2, 0, 0, 0);
	} else if (!strcmp(cls, "bad-extra")) {
		struct netif_extra_info x = { .type = 9 };

		fill_frame(q, 0, 0, 60);
		tx_slot(q, 0, 0, NETTXF_extra_info, 60);
		tx_extra(q, &x);
	} else if (!strcmp(cls, "bad-gso")) {
		struct netif_extra_info x = { .type = XEN_NETIF_EXTRA_TYPE_GSO };

		fill_frame(q, 0, 0, 60);
		tx_slot(q, 0, 0, NETTXF_extra_info, 60);
		tx_extra(q, &x); /* size 0 */
	} else if (!strcmp(cls, "truncated")) {
		fill_frame(q, 0, 0, 60);
		tx_slot(q, 0, 0, NETTXF_more_data, 60);
	} else if (!strcmp(cls, "prod-overflow")) {
		nf.rings_frozen = true;
		q->tx.sring->req_prod = q->tx.req_prod_pvt + 1000;
		xsg_evtchn_notify(nf.g, q->tx_port);
		return false;
	} else if (!strcmp(cls, "rx-prod-overflow")) {
		nf.rings_frozen = true;
		q->rx.sring->req_prod = q->rx.req_prod_pvt + 1000;
		xsg_evtchn_notify(nf.g, q->rx_port);
		return false;
	} else if (!strcmp(cls, "event-storm")) {
		for (i = 0; i < 200000; i++)
			xsg_evtchn_notify(nf.g, q->tx_port);
		return false;
	} else {
		die("unknown hostile class %s", cls);
	}
	/* These slots are not taken from the free list: keep ids away. */
	for (i = 0; i < RING_SZ; i++)
		q->tx_free[i] = (uint16_t)(RING_SZ - 1 - i);
	q->tx_nfree = RING_SZ - 32;
	/* Always kick: the hostile packet must be looked at now. */
	RING_PUSH_REQUESTS(&q->tx);
	xsg_evtchn_notify(nf.g, q->tx_port);
	return true;
}

/* Wait (bounded) for the hostile packet's responses and report them. */
static void report_hostile(struct nfq *q, bool expect_responses)
{
	unsigned int waited = 0;

	memset(nf.rsp_status, 0, sizeof(nf.rsp_status));
	while (expect_responses && waited < 3000 &&
	       q->tx.rsp_cons != q->tx.req_prod_pvt) {
		usleep(10000);
		waited += 10;
		tx_responses(q);
	}
	say("hostile %s: responses okay=%u error=%u dropped=%u null=%u "
	    "pending=%u backend-state=%d",
	    nf.hostile, nf.rsp_status[2], nf.rsp_status[1], nf.rsp_status[0],
	    nf.rsp_status[3], q->tx.req_prod_pvt - q->tx.rsp_cons, be_state());
	/* Give the ids back in their normal order. */
	if (q->tx.rsp_cons == q->tx.req_prod_pvt) {
		unsigned int i;

		for (i = 0; i < RING_SZ; i++)
			q->tx_free[i] = (uint16_t)i;
		q->tx_nfree = RING_SZ;
	}
}

/* ------------------------------------------------------------------ */
/* Main loop                                                           */
/* ------------------------------------------------------------------ */

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void handle_events(void)
{
	int port;
	unsigned int i;

	while ((port = xsg_evtchn_wait(nf.g, 0)) > 0) {
		for (i = 0; i < nf.nq; i++) {
			struct nfq *q = &nf.q[i];

			if (port == q->tx_port) {
				tx_responses(q);
				if (!nf.split)
					rx_responses(q);
			} else if (port == q->rx_port) {
				rx_responses(q);
			}
		}
	}
}

static void run(void)
{
	struct pollfd pfd[MAXQ + 1];
	unsigned int i, ticks = 0;

	for (i = 0; i < nf.nq; i++) {
		pfd[i].fd = nf.q[i].tap_fd;
		pfd[i].events = POLLIN;
	}
	pfd[nf.nq].fd = xsg_evtchn_fd(nf.g);
	pfd[nf.nq].events = POLLIN;
	while (!stop_requested) {
		int n = poll(pfd, nf.nq + 1, 100);

		if (n < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (pfd[nf.nq].revents)
			handle_events();
		for (i = 0; i < nf.nq; i++) {
			struct nfq *q = &nf.q[i];

			/* A frame waiting for ring room: retry after the
			 * responses came back; else poll the TAP again. */
			tx_responses(q);
			if (pfd[i].revents || q->have_frame)
				tx_from_tap(q);
			pfd[i].events = q->have_frame || nf.rings_frozen ? 0 : POLLIN;
		}
		if (++ticks % 10 == 0) {
			int s = be_state();

			if (s != XenbusStateConnected) {
				say("backend left Connected (state %d)", s);
				/* As netfront: the backend closing closes us. */
				if (s == XenbusStateClosing ||
				    s == XenbusStateClosed)
					set_state(XenbusStateClosed);
				break;
			}
		}
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: netfront --tap NAME [--devid N] [--queues N] "
		"[--split] [--no-sg] [--no-gso] [--no-csum] "
		"[--no-rx-buffers] [--hostile CLASS] [--ready FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tap", required_argument, NULL, 't' },
		{ "devid", required_argument, NULL, 'd' },
		{ "queues", required_argument, NULL, 'q' },
		{ "split", no_argument, NULL, 's' },
		{ "no-sg", no_argument, NULL, 'S' },
		{ "no-gso", no_argument, NULL, 'G' },
		{ "no-csum", no_argument, NULL, 'C' },
		{ "no-rx-buffers", no_argument, NULL, 'R' },
		{ "hostile", required_argument, NULL, 'H' },
		{ "ready", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			snprintf(nf.tap, sizeof(nf.tap), "%s", optarg);
			break;
		case 'd':
			nf.devid = (unsigned int)atoi(optarg);
			break;
		case 'q':
			nf.nq = (unsigned int)atoi(optarg);
			if (nf.nq < 1 || nf.nq > MAXQ)
				usage();
			break;
		case 's':
			nf.split = true;
			break;
		case 'S':
			nf.sg = false;
			break;
		case 'G':
			nf.gso = false;
			break;
		case 'C':
			nf.csum = false;
			break;
		case 'R':
			nf.post_rx = false;
			break;
		case 'H':
			nf.hostile = optarg;
			break;
		case 'r':
			nf.ready = optarg;
			break;
		default:
			usage();
		}
	}
	if (!nf.tap[0])
		usage();
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	nf.g = xsg_open();
	if (!nf.g)
		die("xsg_open: %s (run under xensim run)", strerror(errno));
	nf.domid = xsg_domid(nf.g);
	nf.xs = xsg_xs_open(nf.g);
	if (!nf.xs)
		die("xenstore: %s", strerror(errno));
	connect_device();
	if (nf.hostile)
		report_hostile(&nf.q[0], send_hostile(&nf.q[0], nf.hostile));
	run();
	if (be_state() == XenbusStateConnected || stop_requested)
		close_device();
	say("stats tx_ok=%lu tx_err=%lu rx_ok=%lu rx_err=%lu", nf.tx_ok,
	    nf.tx_err, nf.rx_ok, nf.rx_err);
	xs_close(nf.xs);
	xsg_close(nf.g);
	return 0;
}
