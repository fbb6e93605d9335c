// SPDX-License-Identifier: MIT
/*
 * evtchn.c: stand-in libxenevtchn.so.1 on the simulated hypervisor (the
 * semantics are in evcore.c). Errors are -1 with errno, as the real one.
 */
#include <errno.h>
#include <stdlib.h>
#include <xenevtchn.h>

#include "tests/xensim/hv.h"

struct xenevtchn_handle {
	struct xsim_evh *e;
};

static int ret_errno(int rc)
{
	if (rc >= 0)
		return rc;
	errno = -rc;
	return -1;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
				 unsigned int flags)
{
	xenevtchn_handle *x = calloc(1, sizeof(*x));

	(void)logger;
	if (!x)
		return NULL;
	x->e = xsim_evh_open(!(flags & XENEVTCHN_NO_CLOEXEC));
	if (!x->e) {
		free(x);
		return NULL;
	}
	return x;
}

xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
				   unsigned int open_flags)
{
	xenevtchn_handle *x = calloc(1, sizeof(*x));

	(void)logger;
	(void)open_flags;
	if (!x)
		return NULL;
	x->e = xsim_evh_adopt(fd);
	if (!x->e) {
		free(x);
		return NULL;
	}
	return x;
}

int xenevtchn_close(xenevtchn_handle *x)
{
	if (!x)
		return 0;
	xsim_evh_close(x->e);
	free(x);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *x)
{
	return x->e->fd;
}

int xenevtchn_notify(xenevtchn_handle *x, evtchn_port_t port)
{
	return ret_errno(xsim_ev_notify(x->e, port));
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *x,
						      uint32_t domid)
{
	return ret_errno(xsim_ev_bind_unbound(x->e, domid));
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *x, uint32_t domid,
			   evtchn_port_t remote_port)
{
	return ret_errno(xsim_ev_bind_interdomain(x->e, domid, remote_port));
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *x,
					      unsigned int virq)
{
	return ret_errno(xsim_ev_bind_virq(x->e, virq));
}

int xenevtchn_unbind(xenevtchn_handle *x, evtchn_port_t port)
{
	return ret_errno(xsim_ev_unbind(x->e, port));
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *x)
{
	return ret_errno(xsim_ev_pending(x->e));
}

int xenevtchn_unmask(xenevtchn_handle *x, evtchn_port_t port)
{
	return ret_errno(xsim_ev_unmask(x->e, port));
}

int xenevtchn_restrict(xenevtchn_handle *x, domid_t domid)
{
	x->e->restrict_dom = domid;
	return 0;
}
