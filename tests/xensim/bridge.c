// SPDX-License-Identifier: MIT
/*
 * bridge.c: a simulated guest's xenbus, one process per non-dom0 domain.
 *
 * It owns the guest side of the domain's xenstore ring (the page granted to
 * xenstored as GNTTAB_RESERVED_XENSTORE, and the event channel given to
 * XS_INTRODUCE) as a guest kernel's xenbus does, and serves the domain's
 * processes on a unix socket, <host>/d<domid>.xs, speaking the xenstore
 * wire protocol so that the real libxenstore talks to it (XENSTORED_PATH).
 * Like Linux's xenbus device it multiplexes several clients over the one
 * ring: request ids are rewritten and replies routed back by them; watch
 * tokens get a per-client prefix ("x<client>/") so events go to the client
 * that set the watch; a client may use only its own transactions; when a
 * client goes, its transactions are aborted and its watches removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/grant_table.h>
#include <xen/io/xs_wire.h>

#include "tests/xensim/hv.h"
#include "tests/xensim/xensim.h"

#define MAX_CLIENTS 64
#define CLIENT_OUT_MAX (1u << 20) /* queued for a client that never reads */
#define TO_RING_MAX (64u << 10)     /* queued for xenstored */
#define MSG_MAX (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)

struct buf {
	uint8_t *data;
	size_t len, cap;
};

struct client {
	int fd;
	uint32_t id;
	uint8_t in[MSG_MAX];
	size_t in_len;
	struct buf out;
	uint32_t *txs;
	unsigned int nr_txs;
	char **watches; /* "path\0token\0" as the client sent them */
	size_t *watch_len;
	unsigned int nr_watches;
};

struct pending {
	struct pending *next;
	uint32_t req_id;   /* ours, on the ring */
	uint32_t client;   /* 0: the bridge's own (cleanup) */
	bool gone;         /* the client left before the reply */
	uint32_t orig_req; /* the client's */
	uint32_t type;
	uint32_t tx_id;
	char *watch;       /* XS_WATCH/UNWATCH: the client's payload */
	size_t watch_len;
};

struct bridge {
	struct xsim_host *host;
	struct xsim_evh *ev;
	struct xenstore_domain_interface *ring;
	uint32_t port;
	int listen_fd;
	struct client *clients[MAX_CLIENTS];
	uint32_t next_client, next_req;
	struct pending *pending;
	struct buf to_ring;
	uint8_t from_ring[MSG_MAX];
	size_t from_len;
};

static int buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *d;

		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_drop(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

/* ---- the ring (guest side) ---- */

static void ring_push(struct bridge *br)
{
	struct xenstore_domain_interface *r = br->ring;
	XENSTORE_RING_IDX cons, prod;
	size_t done = 0;

	while (done < br->to_ring.len) {
		uint32_t space, chunk, off;

		cons = __atomic_load_n(&r->req_cons, __ATOMIC_ACQUIRE);
		prod = r->req_prod;
		if (prod - cons > XENSTORE_RING_SIZE)
			break; /* xenstored broke the ring; wait */
		space = XENSTORE_RING_SIZE - (prod - cons);
		if (!space)
			break;
		off = MASK_XENSTORE_IDX(prod);
		chunk = XENSTORE_RING_SIZE - off;
		if (chunk > space)
			chunk = space;
		if (chunk > br->to_ring.len - done)
			chunk = br->to_ring.len - done;
		memcpy(r->req + off, br->to_ring.data + done, chunk);
		__atomic_store_n(&r->req_prod, prod + chunk, __ATOMIC_RELEASE);
		done += chunk;
	}
	if (done) {
		buf_drop(&br->to_ring, done);
		xsim_ev_notify(br->ev, br->port);
	}
}

static int send_to_ring(struct bridge *br, const struct xsd_sockmsg *h,
			const void *payload)
{
	if (buf_add(&br->to_ring, h, sizeof(*h)) < 0 ||
	    buf_add(&br->to_ring, payload, h->len) < 0)
		return -1;
	ring_push(br);
	return 0;
}

/* ---- clients ---- */

static struct client *find_client(struct bridge *br, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (br->clients[i] && br->clients[i]->id == id)
			return br->clients[i];
	return NULL;
}

static void client_queue(struct client *c, const struct xsd_sockmsg *h,
			 const void *payload)
{
	if (c->out.len > CLIENT_OUT_MAX)
		return; /* it does not read; it will be dropped on EPIPE */
	buf_add(&c->out, h, sizeof(*h));
	buf_add(&c->out, payload, h->len);
}

static void client_error(struct client *c, const struct xsd_sockmsg *req,
			 const char *err)
{
	struct xsd_sockmsg h = *req;

	h.type = XS_ERROR;
	h.len = strlen(err) + 1;
	client_queue(c, &h, err);
}

static int remember_tx(struct client *c, uint32_t tx)
{
	uint32_t *t = realloc(c->txs, (c->nr_txs + 1) * sizeof(*t));

	if (!t)
		return -1;
	c->txs = t;
	c->txs[c->nr_txs++] = tx;
	return 0;
}

static bool owns_tx(struct client *c, uint32_t tx)
{
	unsigned int i;

	for (i = 0; i < c->nr_txs; i++)
		if (c->txs[i] == tx)
			return true;
	return false;
}

static void forget_tx(struct client *c, uint32_t tx)
{
	unsigned int i;

	for (i = 0; i < c->nr_txs; i++)
		if (c->txs[i] == tx) {
			c->txs[i] = c->txs[--c->nr_txs];
			return;
		}
}

static void remember_watch(struct client *c, const char *w, size_t len)
{
	char **ws = realloc(c->watches, (c->nr_watches + 1) * sizeof(*ws));
	size_t *ls;

	if (!ws)
		return;
	c->watches = ws;
	ls = realloc(c->watch_len, (c->nr_watches + 1) * sizeof(*ls));
	if (!ls)
		return;
	c->watch_len = ls;
	c->watches[c->nr_watches] = malloc(len);
	if (!c->watches[c->nr_watches])
		return;
	memcpy(c->watches[c->nr_watches], w, len);
	c->watch_len[c->nr_watches++] = len;
}

static void forget_watch(struct client *c, const char *w, size_t len)
{
	unsigned int i;

	for (i = 0; i < c->nr_watches; i++)
		if (c->watch_len[i] == len && !memcmp(c->watches[i], w, len)) {
			free(c->watches[i]);
			c->watches[i] = c->watches[--c->nr_watches];
			c->watch_len[i] = c->watch_len[c->nr_watches];
			return;
		}
}

/* "path\0token\0" -> "path\0x<id>/token\0"; 0 or -1 if malformed/long. */
static int prefix_token(uint32_t id, const char *in, size_t len, char *out,
			size_t *out_len)
{
	const char *tok;
	size_t plen;
	int n;

	if (!len || in[len - 1])
		return -1;
	plen = strnlen(in, len);
	if (plen + 1 >= len)
		return -1;
	tok = in + plen + 1;
	n = snprintf(out, XENSTORE_PAYLOAD_MAX + 1, "%s%cx%u/%s", in, 0, id,
		     tok);
	if (n < 0 || (size_t)n + 1 > XENSTORE_PAYLOAD_MAX)
		return -1;
	*out_len = n + 1;
	return 0;
}

static int forward(struct bridge *br, uint32_t client,
		   const struct xsd_sockmsg *req, const void *payload,
		   const char *watch, size_t watch_len)
{
	struct pending *p = calloc(1, sizeof(*p));
	struct xsd_sockmsg h = *req;

	if (!p)
		return -1;
	do
		br->next_req++;
	while (!br->next_req);
	p->req_id = br->next_req;
	p->client = client;
	p->orig_req = req->req_id;
	p->type = req->type;
	p->tx_id = req->tx_id;
	if (watch) {
		p->watch = malloc(watch_len);
		if (p->watch) {
			memcpy(p->watch, watch, watch_len);
			p->watch_len = watch_len;
		}
	}
	p->next = br->pending;
	br->pending = p;
	h.req_id = p->req_id;
	return send_to_ring(br, &h, payload);
}

static void client_request(struct bridge *br, struct client *c,
			   const struct xsd_sockmsg *req, const char *payload)
{
	char rewritten[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg h = *req;
	size_t len;
	unsigned int i;

	if (req->tx_id && req->type != XS_TRANSACTION_START &&
	    !owns_tx(c, req->tx_id)) {
		client_error(c, req, "EACCES");
		return;
	}
	switch (req->type) {
	case XS_WATCH:
	case XS_UNWATCH:
		if (prefix_token(c->id, payload, req->len, rewritten, &len)) {
			client_error(c, req, "EINVAL");
			return;
		}
		h.len = len;
		forward(br, c->id, &h, rewritten, payload, req->len);
		return;
	case XS_RESET_WATCHES:
		/* The ring is shared: reset only this client's watches. */
		for (i = 0; i < c->nr_watches; i++) {
			struct xsd_sockmsg u = { .type = XS_UNWATCH };

			if (prefix_token(c->id, c->watches[i], c->watch_len[i],
					 rewritten, &len))
				continue;
			u.len = len;
			forward(br, 0, &u, rewritten, NULL, 0);
			free(c->watches[i]);
		}
		c->nr_watches = 0;
		h.len = 3;
		client_queue(c, &h, "OK");
		return;
	default:
		forward(br, c->id, req, payload, NULL, 0);
	}
}

static void client_gone(struct bridge *br, unsigned int slot)
{
	struct client *c = br->clients[slot];
	char rewritten[XENSTORE_PAYLOAD_MAX + 1];
	struct pending *p;
	unsigned int i;
	size_t len;

	for (i = 0; i < c->nr_txs; i++) {
		struct xsd_sockmsg h = { .type = XS_TRANSACTION_END,
					 .tx_id = c->txs[i], .len = 2 };

		forward(br, 0, &h, "F", NULL, 0);
	}
	for (i = 0; i < c->nr_watches; i++) {
		struct xsd_sockmsg h = { .type = XS_UNWATCH };

		if (!prefix_token(c->id, c->watches[i], c->watch_len[i],
				  rewritten, &len)) {
			h.len = len;
			forward(br, 0, &h, rewritten, NULL, 0);
		}
		free(c->watches[i]);
	}
	for (p = br->pending; p; p = p->next)
		if (p->client == c->id)
			p->gone = true;
	close(c->fd);
	free(c->out.data);
	free(c->txs);
	free(c->watches);
	free(c->watch_len);
	free(c);
	br->clients[slot] = NULL;
}

/* Read what a client sent; false if it has gone or broke the protocol. */
static bool client_input(struct bridge *br, struct client *c)
{
	ssize_t n = read(c->fd, c->in + c->in_len, MSG_MAX - c->in_len);
	struct xsd_sockmsg h;
	size_t need;

	if (n <= 0)
		return n < 0 && errno == EAGAIN;
	c->in_len += n;
	while (c->in_len >= sizeof(h)) {
		memcpy(&h, c->in, sizeof(h));
		if (h.len > XENSTORE_PAYLOAD_MAX || h.type >= XS_TYPE_COUNT)
			return false;
		need = sizeof(h) + h.len;
		if (c->in_len < need)
			break;
		client_request(br, c, &h, (char *)c->in + sizeof(h));
		memmove(c->in, c->in + need, c->in_len - need);
		c->in_len -= need;
	}
	return true;
}

static bool client_output(struct client *c)
{
	ssize_t n;

	if (!c->out.len)
		return true;
	n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN;
	buf_drop(&c->out, n);
	return true;
}

/* ---- replies and events from xenstored ---- */

static void deliver_event(struct bridge *br, struct xsd_sockmsg *h,
			  char *payload)
{
	char *tok, *slash, out[XENSTORE_PAYLOAD_MAX + 1];
	size_t plen, tlen;
	struct client *c;
	uint32_t id;

	if (!h->len || payload[h->len - 1])
		return;
	plen = strnlen(payload, h->len);
	if (plen + 1 >= h->len)
		return;
	tok = payload + plen + 1;
	if (tok[0] != 'x')
		return;
	id = strtoul(tok + 1, &slash, 10);
	if (*slash != '/')
		return;
	c = find_client(br, id);
	if (!c)
		return;
	tlen = strlen(slash + 1);
	memcpy(out, payload, plen + 1);
	memcpy(out + plen + 1, slash + 1, tlen + 1);
	h->len = plen + 1 + tlen + 1;
	client_queue(c, h, out);
}

/* A transaction or watch made for a client that left before the reply
 * came: end it as client_gone() ends the others. */
static void undo_for_gone_client(struct bridge *br, struct pending *p,
				 const char *payload)
{
	char rewritten[XENSTORE_PAYLOAD_MAX + 1];
	size_t len;

	if (p->type == XS_TRANSACTION_START) {
		struct xsd_sockmsg h = { .type = XS_TRANSACTION_END,
					 .tx_id = strtoul(payload, NULL, 10),
					 .len = 2 };

		forward(br, 0, &h, "F", NULL, 0);
	} else if (p->type == XS_WATCH && p->watch &&
		   !prefix_token(p->client, p->watch, p->watch_len, rewritten,
				 &len)) {
		struct xsd_sockmsg h = { .type = XS_UNWATCH, .len = len };

		forward(br, 0, &h, rewritten, NULL, 0);
	}
}

static void deliver_reply(struct bridge *br, struct xsd_sockmsg *h,
			  char *payload)
{
	struct pending **pp, *p;
	struct client *c;

	for (pp = &br->pending; (p = *pp); pp = &p->next)
		if (p->req_id == h->req_id)
			break;
	if (!p)
		return;
	*pp = p->next;
	if (p->gone && h->type != XS_ERROR && h->len && !payload[h->len - 1])
		undo_for_gone_client(br, p, payload);
	c = p->client && !p->gone ? find_client(br, p->client) : NULL;
	if (c && h->type != XS_ERROR) {
		if (p->type == XS_TRANSACTION_START && h->len)
			remember_tx(c, strtoul(payload, NULL, 10));
		else if (p->type == XS_TRANSACTION_END)
			forget_tx(c, p->tx_id);
		else if (p->type == XS_WATCH && p->watch)
			remember_watch(c, p->watch, p->watch_len);
		else if (p->type == XS_UNWATCH && p->watch)
			forget_watch(c, p->watch, p->watch_len);
	}
	if (c && p->type == XS_TRANSACTION_END && h->type == XS_ERROR)
		forget_tx(c, p->tx_id); /* xenstored ended it anyway */
	if (c) {
		h->req_id = p->orig_req;
		client_queue(c, h, payload);
	}
	free(p->watch);
	free(p);
}

static int ring_pull(struct bridge *br)
{
	struct xenstore_domain_interface *r = br->ring;
	XENSTORE_RING_IDX cons, prod;
	bool any = false;

	for (;;) {
		struct xsd_sockmsg h;
		uint32_t avail, off, chunk;

		prod = __atomic_load_n(&r->rsp_prod, __ATOMIC_ACQUIRE);
		cons = r->rsp_cons;
		if (prod - cons > XENSTORE_RING_SIZE)
			return -EPROTO;
		avail = prod - cons;
		if (!avail)
			break;
		off = MASK_XENSTORE_IDX(cons);
		chunk = XENSTORE_RING_SIZE - off;
		if (chunk > avail)
			chunk = avail;
		if (chunk > MSG_MAX - br->from_len)
			chunk = MSG_MAX - br->from_len;
		memcpy(br->from_ring + br->from_len, r->rsp + off, chunk);
		br->from_len += chunk;
		__atomic_store_n(&r->rsp_cons, cons + chunk, __ATOMIC_RELEASE);
		any = true;
		while (br->from_len >= sizeof(h)) {
			size_t need;

			memcpy(&h, br->from_ring, sizeof(h));
			if (h.len > XENSTORE_PAYLOAD_MAX)
				return -EPROTO;
			need = sizeof(h) + h.len;
			if (br->from_len < need)
				break;
			if (h.type == XS_WATCH_EVENT)
				deliver_event(br, &h, (char *)br->from_ring +
							      sizeof(h));
			else
				deliver_reply(br, &h, (char *)br->from_ring +
							      sizeof(h));
			memmove(br->from_ring, br->from_ring + need,
				br->from_len - need);
			br->from_len -= need;
		}
	}
	if (any)
		xsim_ev_notify(br->ev, br->port);
	return 0;
}

/* ---- set-up and loop ---- */

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void accept_client(struct bridge *br)
{
	struct client *c;
	unsigned int i;
	int fd;

	fd = accept4(br->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (i = 0; i < MAX_CLIENTS && br->clients[i]; i++)
		;
	c = i < MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		fprintf(stderr, "bridge: too many clients\n");
		close(fd);
		return;
	}
	c->fd = fd;
	c->id = ++br->next_client;
	br->clients[i] = c;
}

static int bridge_setup(struct bridge *br, const char *host, uint32_t domid)
{
	char path[400];
	uint8_t *mem;
	int slot, frame, port;

	br->host = xsim_host_get();
	if (!br->host)
		return -1;
	slot = xsim_dom_slot(br->host->hv, domid);
	if (slot < 0 || br->host->domid != domid) {
		errno = ESRCH;
		return -1;
	}
	mem = xsim_dom_mem(br->host, slot, NULL);
	br->ev = xsim_evh_open(1);
	if (!mem || !br->ev)
		return -1;
	frame = xsim_page_alloc(br->host, slot, 1);
	if (frame < 0) {
		errno = -frame;
		return -1;
	}
	br->ring = (void *)(mem + (size_t)frame * XSIM_PAGE_SIZE);
	memset(br->ring, 0, XSIM_PAGE_SIZE);
	br->ring->connection = XENSTORE_CONNECTED;
	/* What the toolstack seeds on Xen: the store page granted to the
	 * xenstore domain under the reserved reference. */
	xsim_grant_write(br->host, slot, GNTTAB_RESERVED_XENSTORE, 0, frame,
			 GTF_permit_access);
	port = xsim_ev_bind_unbound(br->ev, 0);
	if (port < 0) {
		errno = -port;
		return -1;
	}
	br->port = port;
	snprintf(path, sizeof(path), "%s/d%u.xs", host, domid);
	br->listen_fd = listen_on(path);
	if (br->listen_fd < 0)
		return -1;
	return frame;
}

int xsim_bridge_main(const char *host, uint32_t domid, int ready_fd)
{
	struct pollfd pfd[MAX_CLIENTS + 2];
	struct bridge br = { .listen_fd = -1 };
	unsigned int i, n;
	char msg[64];
	int frame, len;

	signal(SIGPIPE, SIG_IGN);
	frame = bridge_setup(&br, host, domid);
	if (frame < 0) {
		perror("bridge: set-up");
		return 1;
	}
	fcntl(br.ev->fd, F_SETFL, fcntl(br.ev->fd, F_GETFL) | O_NONBLOCK);
	len = snprintf(msg, sizeof(msg), "%d %u\n", frame, br.port);
	if (write(ready_fd, msg, len) != len)
		return 1;
	close(ready_fd);
	for (;;) {
		struct client *map[MAX_CLIENTS];

		pfd[0] = (struct pollfd){ .fd = br.listen_fd,
					  .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = br.ev->fd, .events = POLLIN };
		n = 2;
		for (i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = br.clients[i];

			if (!c)
				continue;
			map[n - 2] = c;
			/* Back-pressure: a client flooding requests waits
			 * while xenstored is behind, as a writer of Linux's
			 * xenbus device blocks. */
			pfd[n++] = (struct pollfd){
				.fd = c->fd,
				.events = (br.to_ring.len < TO_RING_MAX ?
						   POLLIN : 0) |
					  (c->out.len ? POLLOUT : 0)
			};
		}
		if (poll(pfd, n, br.to_ring.len ? 10 : -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("bridge: poll");
			return 1;
		}
		if (pfd[1].revents & POLLIN) {
			int port = xsim_ev_pending(br.ev);

			if (port > 0)
				xsim_ev_unmask(br.ev, port);
		}
		if (pfd[0].revents & POLLIN)
			accept_client(&br);
		for (i = 2; i < n; i++) {
			struct client *c = map[i - 2];
			bool ok = true;

			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				ok = client_input(&br, c);
			if (!ok) {
				unsigned int s;

				for (s = 0; s < MAX_CLIENTS; s++)
					if (br.clients[s] == c)
						client_gone(&br, s);
			}
		}
		ring_push(&br);
		if (ring_pull(&br) < 0) {
			fprintf(stderr, "bridge: xenstored broke the ring\n");
			return 1;
		}
		for (i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = br.clients[i];

			if (c && !client_output(c))
				client_gone(&br, i);
		}
	}
}
