// SPDX-License-Identifier: MIT
/*
 * t_xs.c: the real libxenstore as a guest (domain $1, default 5) through
 * its bridge to the xenstore ring, and as dom0 over xenstored's socket:
 * permissions, transactions, watches routed per client.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#include "tests/xensim/guest/xsg.h"
#include "tests/xensim/t/tcommon.h"

static uint32_t dom;
static struct xsg *g;

static struct xs_handle *open_dom0(void)
{
	char rundir[512];

	snprintf(rundir, sizeof(rundir), "%s/xenstored", getenv("XENSIM_HOST"));
	unsetenv("XENSTORED_PATH");
	setenv("XENSTORED_RUNDIR", rundir, 1);
	return xs_open(0);
}

static char *rd(struct xs_handle *h, xs_transaction_t t, const char *p)
{
	unsigned int len;

	return xs_read(h, t, p, &len);
}

/* The next watch event's path on h within ms, NULL if none. */
static char *next_event(struct xs_handle *h, int ms, char *token, size_t n)
{
	struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
	unsigned int num;
	char **v;
	static char path[256];

	if (poll(&p, 1, ms) <= 0)
		return NULL;
	v = xs_read_watch(h, &num);
	if (!v)
		return NULL;
	snprintf(path, sizeof(path), "%s", v[XS_WATCH_PATH]);
	if (token)
		snprintf(token, n, "%s", v[XS_WATCH_TOKEN]);
	free(v);
	return path;
}

static void test_permissions(struct xs_handle *gx, struct xs_handle *d0)
{
	char path[64], *v;
	bool ok;

	v = rd(gx, XBT_NULL, "/local/domain/0/name");
	t_check(!v && errno == EACCES, "guest reading dom0's node: EACCES",
		"v %s errno %d", v ? v : "(null)", errno);
	free(v);
	v = rd(gx, XBT_NULL, "domid");
	snprintf(path, sizeof(path), "%u", dom);
	t_check(v && !strcmp(v, path),
		"guest's relative path is its own /local/domain/N", "v %s",
		v ? v : "(null)");
	free(v);
	ok = xs_write(gx, XBT_NULL, "name", "x", 1);
	t_check(!ok && errno == EACCES,
		"guest cannot overwrite the toolstack's name node", "");
	ok = xs_write(gx, XBT_NULL, "data/t", "v1", 2);
	snprintf(path, sizeof(path), "/local/domain/%u/data/t", dom);
	v = rd(d0, XBT_NULL, path);
	t_check(ok && v && !strcmp(v, "v1"),
		"guest writes its data/, dom0 reads it", "");
	free(v);
	{
		unsigned int n = 0;
		struct xs_permissions *p = xs_get_permissions(d0, XBT_NULL,
							      path, &n);

		t_check(p && n >= 1 && p[0].id == dom,
			"a node the guest made is owned by the guest",
			"owner %d", p && n ? (int)p[0].id : -1);
		free(p);
	}
}

static void test_transaction_conflict(struct xs_handle *gx,
				      struct xs_handle *d0)
{
	char path[64], *v;
	xs_transaction_t t;
	bool ok;

	snprintf(path, sizeof(path), "/local/domain/%u/data/c", dom);
	xs_write(gx, XBT_NULL, "data/c", "0", 1);
	t = xs_transaction_start(gx);
	v = rd(gx, t, "data/c");
	free(v);
	xs_write(d0, XBT_NULL, path, "1", 1);
	xs_write(gx, t, "data/c", "2", 1);
	ok = xs_transaction_end(gx, t, false);
	t_check(!ok && errno == EAGAIN,
		"conflicting transaction answered EAGAIN", "ok %d errno %d", ok,
		errno);
	v = rd(d0, XBT_NULL, path);
	t_check(v && !strcmp(v, "1"), "and its write discarded", "v %s",
		v ? v : "(null)");
	free(v);
	t = xs_transaction_start(gx);
	xs_write(gx, t, "data/c", "3", 1);
	ok = xs_transaction_end(gx, t, false);
	t_check(ok, "retried transaction commits", "errno %d", errno);
}

static void test_watch_routing(void)
{
	struct xs_handle *a = xsg_xs_open(g), *b = xsg_xs_open(g);
	char tok[64], *p;

	t_check(a && b, "two guest clients on one bridge", "");
	if (!a || !b)
		return;
	/* Same token in both clients: the bridge must keep them apart. */
	xs_watch(a, "data/wa", "tok");
	xs_watch(b, "data/wb", "tok");
	p = next_event(a, 1000, tok, sizeof(tok)); /* initial firing */
	t_check(p && strstr(p, "data/wa") && !strcmp(tok, "tok"),
		"watch fires once when set, token as given", "p %s tok %s",
		p ? p : "(null)", tok);
	p = next_event(b, 1000, NULL, 0);
	xs_write(a, XBT_NULL, "data/wb", "x", 1);
	p = next_event(b, 1000, tok, sizeof(tok));
	t_check(p && strstr(p, "data/wb") && !strcmp(tok, "tok"),
		"event reaches the client that set the watch", "p %s",
		p ? p : "(null)");
	p = next_event(a, 200, NULL, 0);
	t_check(!p, "and not the other client", "p %s", p ? p : "(null)");

	/* A client that goes takes its transaction and watches along. */
	xs_transaction_start(b);
	xs_close(b);
	xs_write(a, XBT_NULL, "data/wb", "y", 1);
	t_check(xs_write(a, XBT_NULL, "data/wa", "z", 1) &&
			next_event(a, 1000, NULL, 0),
		"bridge carries on after a client left mid-transaction", "");
	xs_close(a);
}

/* Messages larger than the 1 KiB ring halves cross it in pieces (2000
 * bytes: xenstored's default node size quota is 2048). */
static void test_big_values(struct xs_handle *gx, struct xs_handle *d0)
{
	static char big[2000];
	char path[64], *v;
	unsigned int len = 0, n = 0, i;
	char **dir;
	bool ok = true;

	for (i = 0; i < sizeof(big); i++)
		big[i] = 'a' + i % 26;
	ok = xs_write(gx, XBT_NULL, "data/big", big, sizeof(big));
	snprintf(path, sizeof(path), "/local/domain/%u/data/big", dom);
	v = xs_read(d0, XBT_NULL, path, &len);
	t_check(ok && v && len == sizeof(big) && !memcmp(v, big, len),
		"a 2000-byte value written by the guest", "len %u", len);
	free(v);
	v = xs_read(gx, XBT_NULL, "data/big", &len);
	t_check(v && len == sizeof(big) && !memcmp(v, big, len),
		"and read back through the ring", "len %u", len);
	free(v);
	/* A guest's own nodes are limited to 2048 bytes, children names
	 * included: dom0 makes the big directory, the guest lists it. */
	for (i = 0; i < 300 && ok; i++) {
		snprintf(path, sizeof(path),
			 "/local/domain/%u/data/many/entry-with-a-long-name-%u",
			 dom, i);
		ok = xs_write(d0, XBT_NULL, path, "x", 1);
	}
	dir = xs_directory(gx, XBT_NULL, "data/many", &n);
	t_check(ok && dir && n == 300,
		"the guest lists a directory larger than one message "
		"(XS_DIRECTORY_PART through the bridge)",
		"ok %d n %u", ok, n);
	free(dir);
	snprintf(path, sizeof(path), "/local/domain/%u/data/many", dom);
	xs_rm(d0, XBT_NULL, path);
}

/* xenstored's per-domain quotas (128 watches, 10 transactions) would
 * refuse these rounds if the bridge left a departed client's watches or
 * transactions behind. */
static void test_cleanup_on_leave(void)
{
	int round, i, watches = 0, txs = 0;
	char tok[32];

	for (round = 0; round < 3; round++) {
		struct xs_handle *c = xsg_xs_open(g);

		if (!c)
			break;
		for (i = 0; i < 100; i++) {
			snprintf(tok, sizeof(tok), "t%d", i);
			watches += xs_watch(c, "data", tok);
		}
		for (i = 0; i < 8; i++)
			txs += xs_transaction_start(c) != XBT_NULL;
		xs_close(c);
	}
	t_check(watches == 300,
		"a departed client's watches are removed (quota not hit)",
		"%d of 300 set", watches);
	t_check(txs == 24,
		"a departed client's transactions are ended (quota not hit)",
		"%d of 24 started", txs);
}

int main(int argc, char **argv)
{
	struct xs_handle *gx, *d0;
	char d[16];

	dom = argc > 1 ? atoi(argv[1]) : 5;
	d0 = open_dom0();
	snprintf(d, sizeof(d), "%u", dom);
	setenv("XENSIM_DOMID", d, 1);
	g = xsg_open();
	t_check(g != NULL && d0 != NULL, "guest library and dom0 xenstore open",
		"errno %d", errno);
	if (!g || !d0)
		return 1;
	gx = xsg_xs_open(g);
	t_check(gx != NULL, "libxenstore as the guest through its bridge",
		"errno %d", errno);
	if (!gx)
		return 1;
	test_permissions(gx, d0);
	test_transaction_conflict(gx, d0);
	test_watch_routing();
	test_cleanup_on_leave();
	test_big_values(gx, d0);
	xs_close(gx);
	xs_close(d0);
	xsg_close(g);
	return t_failed ? 1 : 0;
}
