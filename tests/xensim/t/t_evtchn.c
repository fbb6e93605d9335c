// SPDX-License-Identifier: MIT
/*
 * t_evtchn.c: event channels of the simulated host between dom0 (this
 * process, libxenevtchn) and a guest (a child, the guest library).
 * Prints the round-trip latency of a notification ping-pong.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xen/event_channel.h>
#include <xen/xen.h>
#include <xenevtchn.h>

#include "tests/xensim/t/tcommon.h"

static struct guest gu;
static uint32_t dom;

/* Next port delivered to x within ms (unmasked), 0 on timeout. */
static int wait_port(xenevtchn_handle *x, int ms)
{
	struct pollfd p = { .fd = xenevtchn_fd(x), .events = POLLIN };
	int port;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	port = xenevtchn_pending(x);
	if (port > 0)
		xenevtchn_unmask(x, port);
	return port;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void drain(xenevtchn_handle *x)
{
	while (wait_port(x, 0) > 0)
		;
}

static void test_bind_and_roundtrip(xenevtchn_handle *x)
{
	long gport = guest_call(&gu, G_UNBOUND, 0, 0, 0, 0);
	int port, got, i, rounds = 2000;
	double t0, t1;

	t_check(gport > 0, "guest allocates an unbound port for dom0", "%ld",
		gport);
	port = xenevtchn_bind_interdomain(x, dom, gport);
	t_check(port > 0, "dom0 binds to it", "errno %d", errno);
	if (port <= 0 || gport <= 0)
		return;
	/* Xen sets the new local port pending on bind. */
	got = wait_port(x, 1000);
	t_check(got == port, "bind leaves the local port pending once",
		"got %d", got);
	drain(x);

	xenevtchn_notify(x, port);
	got = guest_call(&gu, G_WAIT, 1000, 0, 0, 0);
	t_check(got == gport, "dom0 -> guest notification", "got %d", got);
	guest_call(&gu, G_NOTIFY, gport, 0, 0, 0);
	got = wait_port(x, 1000);
	t_check(got == port, "guest -> dom0 notification", "got %d", got);

	/* Ping-pong: the guest answers each notification. */
	if (write(gu.to, &(long[5]){ G_PINGPONG, gport, rounds, 0, 0 },
		  5 * sizeof(long)) < 0)
		return;
	t0 = now_us();
	for (i = 0; i < rounds; i++) {
		xenevtchn_notify(x, port);
		if (wait_port(x, 5000) != port)
			break;
	}
	t1 = now_us();
	{
		long ret;

		if (read(gu.from, &ret, sizeof(ret)) != sizeof(ret))
			ret = -EIO;
		t_check(i == rounds && ret == 0,
			"event channel round trip between two processes",
			"%d of %d rounds, guest %ld", i, rounds, ret);
	}
	printf("evtchn round trip: %.2f us (%d rounds)\n", (t1 - t0) / rounds,
	       rounds);

	/* Coalescing: a storm while dom0 does not read is one event, and
	 * what came while masked is one more after unmask. */
	for (i = 0; i < 1000; i++)
		guest_call(&gu, G_NOTIFY, gport, 0, 0, 0);
	got = xenevtchn_pending(x);
	t_check(got == port, "storm delivers the port", "got %d", got);
	{
		struct pollfd p = { .fd = xenevtchn_fd(x), .events = POLLIN };

		t_check(poll(&p, 1, 50) == 0,
			"storm coalesced: nothing more until unmask", "");
		guest_call(&gu, G_NOTIFY, gport, 0, 0, 0);
		xenevtchn_unmask(x, port);
		t_check(wait_port(x, 1000) == port,
			"notification while masked delivered at unmask", "");
		t_check(wait_port(x, 50) == 0, "and only once", "");
	}

	/* Closing one end makes the other unbound (sends are dropped). */
	t_check(guest_call(&gu, G_CLOSE, gport, 0, 0, 0) == 0,
		"guest closes its port", "");
	t_check(xenevtchn_notify(x, port) == 0 && wait_port(x, 50) == 0,
		"notify on a port whose peer closed is dropped", "");
	t_check(xenevtchn_unbind(x, port) == 0, "dom0 unbinds", "");
	t_check(xenevtchn_notify(x, port) == -1 && errno == ENOTCONN,
		"notify on an unbound port of this handle: ENOTCONN", "");
}

static void test_refusals(xenevtchn_handle *x)
{
	long other = guest_call(&gu, G_UNBOUND, 6, 0, 0, 0);
	int rc;

	rc = xenevtchn_bind_interdomain(x, dom, other);
	t_check(rc == -1 && errno == EINVAL,
		"binding a port offered to another domain: EINVAL", "rc %d",
		rc);
	rc = xenevtchn_bind_interdomain(x, 77, 1);
	t_check(rc == -1 && errno == ESRCH,
		"binding to a missing domain: ESRCH", "rc %d errno %d", rc,
		errno);
	guest_call(&gu, G_CLOSE, other, 0, 0, 0);
}

static void test_two_handles(void)
{
	xenevtchn_handle *a = xenevtchn_open(NULL, 0);
	xenevtchn_handle *b = xenevtchn_open(NULL, 0);
	long ga = guest_call(&gu, G_UNBOUND, 0, 0, 0, 0);
	long gb = guest_call(&gu, G_UNBOUND, 0, 0, 0, 0);
	int pa = xenevtchn_bind_interdomain(a, dom, ga);
	int pb = xenevtchn_bind_interdomain(b, dom, gb);
	int ep = epoll_create1(0), n;
	struct epoll_event ev = { .events = EPOLLIN }, out[2];

	drain(a);
	drain(b);
	ev.data.u32 = 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, xenevtchn_fd(a), &ev);
	ev.data.u32 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, xenevtchn_fd(b), &ev);
	guest_call(&gu, G_NOTIFY, gb, 0, 0, 0);
	n = epoll_wait(ep, out, 2, 1000);
	t_check(n == 1 && out[0].data.u32 == 2 && xenevtchn_pending(b) == pb,
		"two handles in one process: the event reaches the right fd "
		"(epoll)",
		"n %d", n);
	xenevtchn_unmask(b, pb);
	guest_call(&gu, G_NOTIFY, ga, 0, 0, 0);
	t_check(wait_port(a, 1000) == pa && wait_port(b, 50) == 0,
		"and the other one's to the other", "");
	close(ep);
	xenevtchn_close(a);
	xenevtchn_close(b);
	guest_call(&gu, G_CLOSE, ga, 0, 0, 0);
	guest_call(&gu, G_CLOSE, gb, 0, 0, 0);
}

/* A backend killed with a port bound, and restarted: its new instance
 * binds the guest's port again (the dead one's end was closed). */
static void test_restart(void)
{
	long gport = guest_call(&gu, G_UNBOUND, 0, 0, 0, 0);
	xenevtchn_handle *x;
	int st, port;
	pid_t pid = fork();

	if (pid == 0) {
		xenevtchn_handle *c = xenevtchn_open(NULL, 0);

		_exit(c && xenevtchn_bind_interdomain(c, dom, gport) > 0 ? 0
									: 1);
	}
	waitpid(pid, &st, 0);
	x = xenevtchn_open(NULL, 0);
	port = x ? xenevtchn_bind_interdomain(x, dom, gport) : -1;
	t_check(WIFEXITED(st) && !WEXITSTATUS(st) && port > 0,
		"a port whose binder died can be bound again", "port %d", port);
	xenevtchn_close(x);
	guest_call(&gu, G_CLOSE, gport, 0, 0, 0);
}

int main(int argc, char **argv)
{
	xenevtchn_handle *x;

	dom = argc > 1 ? atoi(argv[1]) : 5;
	if (guest_start(&gu, dom) < 0) {
		printf("FAIL: guest %u starts\n", dom);
		return 1;
	}
	x = xenevtchn_open(NULL, 0);
	t_check(x != NULL, "xenevtchn_open in dom0", "errno %d", errno);
	if (!x)
		return 1;
	test_bind_and_roundtrip(x);
	test_refusals(x);
	test_two_handles();
	test_restart();
	t_check(xenevtchn_bind_virq(x, VIRQ_DOM_EXC) == -1 && errno == EEXIST,
		"VIRQ_DOM_EXC is xenstored's already (EEXIST)", "errno %d",
		errno);
	xenevtchn_close(x);
	guest_stop(&gu);
	return t_failed ? 1 : 0;
}
