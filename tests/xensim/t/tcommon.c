// SPDX-License-Identifier: MIT
/* tcommon.c: see tcommon.h. */
#include "tests/xensim/t/tcommon.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/xensim/guest/xsg.h"

int t_failed;

void t_check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS: %s\n", name);
	} else {
		t_failed++;
		printf("FAIL: %s ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

struct req {
	long op, a, b, c, d;
};

static long serve(struct xsg *x, struct req *r)
{
	uint32_t frame;
	uint8_t *p;
	long i;
	int port;

	switch (r->op) {
	case G_ALLOC:
		return xsg_alloc_pages(x, r->a, &frame) ? (long)frame : -errno;
	case G_GRANT:
		return xsg_grant_access(x, r->a, r->b, r->c);
	case G_END:
		return xsg_end_access(x, r->a);
	case G_FLAGS:
		return xsg_grant_flags(x, r->a);
	case G_POKE:
		p = xsg_frame_ptr(x, r->a);
		if (!p)
			return -EINVAL;
		p[r->b] = r->c;
		return 0;
	case G_PEEK:
		p = xsg_frame_ptr(x, r->a);
		return p ? p[r->b] : -EINVAL;
	case G_RAW:
		return xsg_grant_raw(x, r->a, r->b, r->c, r->d);
	case G_UNBOUND:
		return xsg_evtchn_alloc_unbound(x, r->a);
	case G_NOTIFY:
		return xsg_evtchn_notify(x, r->a);
	case G_WAIT:
		return xsg_evtchn_wait(x, r->a);
	case G_CLOSE:
		return xsg_evtchn_close(x, r->a);
	case G_PINGPONG:
		for (i = 0; i < r->b; i++) {
			port = xsg_evtchn_wait(x, 5000);
			if (port != r->a)
				return port <= 0 ? -ETIMEDOUT : -EPROTO;
			xsg_evtchn_notify(x, r->a);
		}
		return 0;
	default:
		return -ENOSYS;
	}
}

int guest_start(struct guest *g, uint32_t domid)
{
	int down[2], up[2];
	char d[16];

	if (pipe(down) < 0 || pipe(up) < 0)
		return -1;
	g->domid = domid;
	g->pid = fork();
	if (g->pid < 0)
		return -1;
	if (g->pid == 0) {
		struct xsg *x;
		struct req r;
		long ret;

		close(down[1]);
		close(up[0]);
		snprintf(d, sizeof(d), "%u", domid);
		setenv("XENSIM_DOMID", d, 1);
		x = xsg_open();
		ret = x ? 0 : -errno;
		if (write(up[1], &ret, sizeof(ret)) != sizeof(ret) || !x)
			_exit(1);
		while (read(down[0], &r, sizeof(r)) == sizeof(r) &&
		       r.op != G_EXIT) {
			ret = serve(x, &r);
			if (write(up[1], &ret, sizeof(ret)) != sizeof(ret))
				break;
		}
		xsg_close(x);
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	g->to = down[1];
	g->from = up[0];
	{
		long ret;

		if (read(g->from, &ret, sizeof(ret)) != sizeof(ret) || ret) {
			fprintf(stderr, "guest %u: xsg_open: %s\n", domid,
				strerror(ret ? -ret : EIO));
			return -1;
		}
	}
	return 0;
}

long guest_call(struct guest *g, enum guest_op op, long a, long b, long c,
		long d)
{
	struct req r = { op, a, b, c, d };
	long ret;

	if (write(g->to, &r, sizeof(r)) != sizeof(r) ||
	    read(g->from, &ret, sizeof(ret)) != sizeof(ret))
		return -EPIPE;
	return ret;
}

void guest_stop(struct guest *g)
{
	struct req r = { .op = G_EXIT };
	int st;

	if (write(g->to, &r, sizeof(r)) < 0)
		kill(g->pid, SIGKILL);
	close(g->to);
	close(g->from);
	waitpid(g->pid, &st, 0);
}
