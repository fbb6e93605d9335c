/*
 * xbtfront - a frontend for the "xbt" test kind, playing one simulated
 * guest (run it under `xensim run HOST DOMID -- xbtfront`). The test
 * drives it through stdin, one command a line, and reads one answer line,
 * "ok ..." or "err ...", from stdout:
 *
 *   connect DEVID [ORDER]  grant 2^ORDER ring pages and an event channel,
 *                          write ring-ref(s), event-channel, Initialised,
 *                          wait for the backend's Connected, go Connected
 *   prepare DEVID [ORDER]  the same, but do not wait for the backend
 *   ping DEVID             bump req, notify, wait for rsp == req
 *   pages DEVID            how many pages the backend says it mapped
 *   state DEVID N          write the frontend state N as is
 *   close DEVID            Closing, wait backend Closing/Closed, Closed,
 *                          wait backend Closed, end access to the grants
 *                          ("err busy" if the backend still maps them)
 *   quit
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "tests/core/testkind.h"
#include "tests/xensim/guest/xsg.h"

#define MAX_DEVS 8
#define MAX_PAGES 16
#define WAIT_MS 5000

struct fdev {
	unsigned int devid;
	bool used;
	void *pages;
	unsigned int nr;
	uint32_t frame;
	int grefs[MAX_PAGES];
	int port;
	char fe[128];
	char be[128];
};

static struct xsg *g;
static struct xs_handle *xs;
static struct fdev devs[MAX_DEVS];

static void answer(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static struct fdev *dev_of(unsigned int devid, bool create)
{
	struct fdev *free_slot = NULL;

	for (int i = 0; i < MAX_DEVS; i++) {
		if (devs[i].used && devs[i].devid == devid)
			return &devs[i];
		if (!devs[i].used && !free_slot)
			free_slot = &devs[i];
	}
	if (!create || !free_slot)
		return NULL;
	*free_slot = (struct fdev){ .used = true, .devid = devid, .port = -1 };
	snprintf(free_slot->fe, sizeof(free_slot->fe),
		 "/local/domain/%u/device/xbt/%u", xsg_domid(g), devid);
	return free_slot;
}

static const char *sim_node(struct fdev *d, const char *node)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", d->fe, node);
	return path;
}

static bool write_node(struct fdev *d, const char *node, const char *fmt, ...)
{
	char path[256], value[64];
	va_list ap;

	snprintf(path, sizeof(path), "%s/%s", d->fe, node);
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	return xs_write(xs, XBT_NULL, path, value, strlen(value));
}

static int read_backend_state(struct fdev *d)
{
	char path[256], *v;
	unsigned int len;
	int s;

	snprintf(path, sizeof(path), "%s/state", d->be);
	v = xs_read(xs, XBT_NULL, path, &len);
	if (!v)
		return -1;
	s = atoi(v);
	free(v);
	return s;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the backend state is one of a or b. */
static bool wait_backend(struct fdev *d, int a, int b)
{
	long end = now_ms() + WAIT_MS;

	while (now_ms() < end) {
		int s = read_backend_state(d);

		if (s == a || s == b)
			return true;
		usleep(5000);
	}
	return false;
}

static bool find_backend(struct fdev *d)
{
	char path[256], *v;
	unsigned int len;

	snprintf(path, sizeof(path), "%s/backend", d->fe);
	v = xs_read(xs, XBT_NULL, path, &len);
	if (!v)
		return false;
	snprintf(d->be, sizeof(d->be), "%s", v);
	free(v);
	return true;
}

static void cmd_connect(unsigned int devid, unsigned int order, bool wait)
{
	struct fdev *d = dev_of(devid, true);

	if (!d || !find_backend(d)) {
		answer("err no backend node");
		return;
	}
	d->nr = 1U << order;
	if (!d->pages)
		d->pages = xsg_alloc_pages(g, MAX_PAGES, &d->frame);
	if (!d->pages) {
		answer("err alloc");
		return;
	}
	memset(d->pages, 0, 4096);
	for (unsigned int i = 0; i < d->nr; i++) {
		d->grefs[i] = xsg_grant_access(g, 0, d->frame + i, false);
		if (d->grefs[i] < 0) {
			answer("err grant %d", d->grefs[i]);
			return;
		}
	}
	d->port = xsg_evtchn_alloc_unbound(g, 0);
	if (d->port < 0) {
		answer("err evtchn %d", d->port);
		return;
	}
	/* No stale nodes of an earlier connection. */
	xs_rm(xs, XBT_NULL, sim_node(d, "ring-page-order"));
	xs_rm(xs, XBT_NULL, sim_node(d, "ring-ref"));
	for (unsigned int i = 0; i < MAX_PAGES; i++) {
		char node[32];

		snprintf(node, sizeof(node), "ring-ref%u", i);
		xs_rm(xs, XBT_NULL, sim_node(d, node));
	}
	if (order == 0) {
		write_node(d, "ring-ref", "%d", d->grefs[0]);
	} else {
		write_node(d, "ring-page-order", "%u", order);
		for (unsigned int i = 0; i < d->nr; i++) {
			char node[32];

			snprintf(node, sizeof(node), "ring-ref%u", i);
			write_node(d, node, "%d", d->grefs[i]);
		}
	}
	write_node(d, "event-channel", "%d", d->port);
	write_node(d, "state", "3");
	if (!wait) {
		answer("ok");
		return;
	}
	if (!wait_backend(d, 4, 4)) {
		answer("err backend state %d", read_backend_state(d));
		return;
	}
	write_node(d, "state", "4");
	answer("ok");
}

static void cmd_ping(unsigned int devid)
{
	struct fdev *d = dev_of(devid, false);
	volatile struct xbt_page *p;
	long end = now_ms() + WAIT_MS;

	if (!d || !d->pages || d->port < 0) {
		answer("err not connected");
		return;
	}
	p = d->pages;
	p->req++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	xsg_evtchn_notify(g, d->port);
	while (now_ms() < end) {
		int port = xsg_evtchn_wait(g, 100);

		if (p->rsp == p->req) {
			answer("ok %u", p->rsp);
			return;
		}
		(void)port;
	}
	answer("err no response (req %u rsp %u)", p->req, p->rsp);
}

static void cmd_close(unsigned int devid)
{
	struct fdev *d = dev_of(devid, false);
	bool busy = false;

	if (!d) {
		answer("err unknown device");
		return;
	}
	write_node(d, "state", "5");
	if (!wait_backend(d, 5, 6)) {
		answer("err backend state %d after Closing",
		       read_backend_state(d));
		return;
	}
	write_node(d, "state", "6");
	if (!wait_backend(d, 6, 6)) {
		answer("err backend state %d after Closed",
		       read_backend_state(d));
		return;
	}
	for (unsigned int i = 0; i < d->nr; i++) {
		if (d->grefs[i] >= 0 && xsg_end_access(g, d->grefs[i]) == -EBUSY)
			busy = true;
		d->grefs[i] = -1;
	}
	if (d->port >= 0)
		xsg_evtchn_close(g, d->port);
	d->port = -1;
	answer(busy ? "err busy" : "ok");
}

/* Ends access without any handshake: "busy" while the backend maps. */
static void cmd_endaccess(unsigned int devid)
{
	struct fdev *d = dev_of(devid, false);
	bool busy = false;

	if (!d) {
		answer("err unknown device");
		return;
	}
	for (unsigned int i = 0; i < d->nr; i++) {
		if (d->grefs[i] >= 0 && xsg_end_access(g, d->grefs[i]) == -EBUSY)
			busy = true;
		else
			d->grefs[i] = -1;
	}
	answer(busy ? "err busy" : "ok");
}

int main(void)
{
	char line[256];

	g = xsg_open();
	if (!g) {
		answer("err xsg_open: %s", strerror(errno));
		return 1;
	}
	xs = xsg_xs_open(g);
	if (!xs) {
		answer("err xenstore: %s", strerror(errno));
		return 1;
	}
	answer("ok ready %u", xsg_domid(g));
	while (fgets(line, sizeof(line), stdin)) {
		unsigned int devid = 0, a = 0;
		char cmd[32];
		int n = sscanf(line, "%31s %u %u", cmd, &devid, &a);

		if (n < 1)
			continue;
		if (!strcmp(cmd, "quit"))
			break;
		else if (!strcmp(cmd, "connect"))
			cmd_connect(devid, n >= 3 ? a : 0, true);
		else if (!strcmp(cmd, "prepare"))
			cmd_connect(devid, n >= 3 ? a : 0, false);
		else if (!strcmp(cmd, "ping"))
			cmd_ping(devid);
		else if (!strcmp(cmd, "pages")) {
			struct fdev *d = dev_of(devid, false);

			if (d && d->pages)
				answer("ok %u",
				       ((volatile struct xbt_page *)d->pages)->pages);
			else
				answer("err unknown device");
		} else if (!strcmp(cmd, "state")) {
			struct fdev *d = dev_of(devid, true);

			answer(d && write_node(d, "state", "%u", a) ? "ok"
								    : "err");
		} else if (!strcmp(cmd, "close"))
			cmd_close(devid);
		else if (!strcmp(cmd, "endaccess"))
			cmd_endaccess(devid);
		else
			answer("err unknown command %s", cmd);
	}
	xs_close(xs);
	xsg_close(g);
	return 0;
}
