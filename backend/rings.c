/*
 * rings.c - reading, mapping and binding a frontend's rings and event
 * channels (see rings.h).
 */
#include "backend/rings.h"
#include "backend/internal.h"
#include "backend/resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* ---- grant references ------------------------------------------------ */

static int node_name(char *buf, const char *dir, const char *node)
{
	return xbs_join(buf, XBS_PATH_MAX, dir ? dir : "", node) ? -ENAMETOOLONG
								 : 0;
}

static int sub_node(char *buf, const char *dir, const char *node)
{
	if (!dir || !*dir)
		return snprintf(buf, XBS_PATH_MAX, "%s", node) < XBS_PATH_MAX
			       ? 0
			       : -ENAMETOOLONG;
	return node_name(buf, dir, node);
}

int xb_ring_read_refs(struct xb_device *dev, const char *dir,
		      const char *prefix, unsigned int max_order,
		      grant_ref_t *refs, unsigned int *nr, char *bad_node)
{
	unsigned int order = 0, ref;
	char node[XBS_PATH_MAX];
	int rc;

	if (max_order > XB_RING_MAX_ORDER)
		max_order = XB_RING_MAX_ORDER;
	if (max_order > 0) {
		/* A top-level node, even with queue-N/ subdirectories: Linux
		 * blkfront writes it once for every queue (blkif.h). */
		snprintf(bad_node, XBS_PATH_MAX, "ring-page-order");
		rc = xb_fe_read_uint_def(dev, bad_node, max_order, 0, &order);
		if (rc)
			return rc;
	}
	if (order == 0) {
		rc = sub_node(bad_node, dir, prefix);
		if (rc)
			return rc;
		/* In "ring-page-order" mode blkfront writes ring-ref0 only. */
		rc = xb_fe_read_uint(dev, bad_node, UINT32_MAX, &ref);
		if (rc == -ENOENT && max_order > 0) {
			snprintf(node, sizeof(node), "%s0", prefix);
			rc = sub_node(bad_node, dir, node);
			if (rc)
				return rc;
			rc = xb_fe_read_uint(dev, bad_node, UINT32_MAX, &ref);
		}
		if (rc)
			return rc;
		refs[0] = ref;
		*nr = 1;
		return 0;
	}
	for (unsigned int i = 0; i < (1U << order); i++) {
		snprintf(node, sizeof(node), "%s%u", prefix, i);
		rc = sub_node(bad_node, dir, node);
		if (rc)
			return rc;
		rc = xb_fe_read_uint(dev, bad_node, UINT32_MAX, &ref);
		if (rc)
			return rc;
		refs[i] = ref;
	}
	*nr = 1U << order;
	return 0;
}

/* ---- mapping --------------------------------------------------------- */

static int check_refs(struct xb_device *dev, const grant_ref_t *refs,
		      unsigned int nr)
{
	if (nr == 0 || nr > XB_RING_MAX_PAGES) {
		xb_device_fail(dev, -EINVAL, "ring of %u pages refused (1..%u)",
			       nr, XB_RING_MAX_PAGES);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < nr; i++) {
		if (refs[i] < GNTTAB_NR_RESERVED_ENTRIES) {
			xb_device_fail(dev, -EINVAL,
				       "ring grant reference %u is reserved for the toolstack",
				       refs[i]);
			return -EINVAL;
		}
		for (unsigned int j = 0; j < i; j++) {
			if (refs[j] == refs[i]) {
				xb_device_fail(dev, -EINVAL,
					       "ring grant reference %u given twice",
					       refs[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int xb_ring_map(struct xb_device *dev, struct xb_ring_map *m,
		const grant_ref_t *refs, unsigned int nr)
{
	uint32_t r[XB_RING_MAX_PAGES];
	void *addr;
	int rc;

	*m = (struct xb_ring_map)XB_RING_MAP_INIT;
	rc = check_refs(dev, refs, nr);
	if (rc)
		return rc;
	if (!dev->gnttab) {
		xb_device_fail(dev, -EBADF,
			       "no grant table handle to map the ring");
		return -EBADF;
	}
	for (unsigned int i = 0; i < nr; i++)
		r[i] = refs[i];
	addr = xengnttab_map_domain_grant_refs(dev->gnttab, nr, dev->domid, r,
					       PROT_READ | PROT_WRITE);
	if (!addr) {
		char list[XB_RING_MAX_PAGES * 11 + 1];
		size_t len = 0;

		rc = errno ? -errno : -EIO;
		/* The pages are mapped as one set, which fails as a whole:
		 * any of its refs may be the bad one, so all are named. */
		list[0] = '\0';
		for (unsigned int i = 0; i < nr && len < sizeof(list); i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%u", i ? "," : "", refs[i]);
		if (nr == 1)
			xb_device_fail(dev, rc, "cannot map the ring (ref %s): %s",
				       list, strerror(-rc));
		else
			xb_device_fail(dev, rc,
				       "cannot map the ring's %u pages as a set "
				       "(refs %s): %s",
				       nr, list, strerror(-rc));
		return rc;
	}
	m->addr = addr;
	m->nr_pages = nr;
	m->gnttab = dev->gnttab;
	m->dev = dev;
	__atomic_add_fetch(&dev_impl(dev)->ring_pages, nr, __ATOMIC_RELAXED);
	xb_res_add(dev->domid, XB_RES_RING_PAGES, (int)nr);
	return 0;
}

void xb_ring_unmap(struct xb_ring_map *m)
{
	if (!m || !m->addr)
		return;
	xengnttab_unmap(m->gnttab, m->addr, m->nr_pages);
	if (m->dev) {
		__atomic_sub_fetch(&dev_impl(m->dev)->ring_pages, m->nr_pages,
				   __ATOMIC_RELAXED);
		xb_res_add(m->dev->domid, XB_RES_RING_PAGES,
			   -(int)m->nr_pages);
	}
	m->addr = NULL;
	m->nr_pages = 0;
}

/*
 * The head of every shared ring (DEFINE_RING_TYPES in xen/io/ring.h),
 * whatever its entries.
 */
struct sring_head {
	uint32_t req_prod, req_event;
	uint32_t rsp_prod, rsp_event;
};

int xb_ring_start_index(struct xb_device *dev, const struct xb_ring_map *m,
			unsigned int nr_ents, uint32_t *start)
{
	const volatile struct sring_head *h = m->addr;
	uint32_t req, rsp;

	*start = 0;
	if (!dev->resume)
		return 0;
	rsp = h->rsp_prod;
	req = h->req_prod;
	if (req - rsp > nr_ents) {
		xb_device_fail(dev, -EPROTO,
			       "ring in use has req_prod %u, rsp_prod %u: more than its %u entries apart",
			       req, rsp, nr_ents);
		return -EPROTO;
	}
	*start = rsp;
	xb_dev_debug(dev, "ring resumed at %u (%u requests waiting)", rsp,
		     req - rsp);
	return 0;
}

/* ---- event channels -------------------------------------------------- */

int xb_evtchn_read_port(struct xb_device *dev, const char *node,
			evtchn_port_t *port)
{
	unsigned int v;
	int rc = xb_fe_read_uint(dev, node, XB_EVTCHN_PORT_MAX, &v);

	if (rc)
		return rc;
	/* Port 0 is never a channel (Xen reserves it): out of range, as a
	 * port above the largest; it is a canonical number all the same. */
	if (v == 0)
		return -ERANGE;
	*port = v;
	return 0;
}

int xb_evtchn_bind(struct xb_device *dev, struct xb_evtchn *ch,
		   evtchn_port_t remote_port)
{
	xenevtchn_port_or_error_t port;
	int rc, fl;

	*ch = (struct xb_evtchn)XB_EVTCHN_INIT;
	ch->xce = xenevtchn_open(NULL, 0);
	if (!ch->xce) {
		rc = errno ? -errno : -EIO;
		xb_device_fail(dev, rc, "cannot open an event channel handle: %s",
			       strerror(-rc));
		return rc;
	}
	port = xenevtchn_bind_interdomain(ch->xce, dev->domid, remote_port);
	if (port < 0) {
		rc = errno ? -errno : -EIO;
		xb_device_fail(dev, rc,
			       "cannot bind event channel %u of domain %u: %s",
			       remote_port, dev->domid, strerror(-rc));
		goto fail;
	}
	ch->local_port = port;
	ch->remote_port = remote_port;
	ch->dev = dev;
	ch->fd = xenevtchn_fd(ch->xce);
	fl = fcntl(ch->fd, F_GETFL);
	if (fl < 0 || fcntl(ch->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = -errno;
		xb_device_fail(dev, rc, "event channel fd: %s",
			       strerror(errno));
		xenevtchn_unbind(ch->xce, ch->local_port);
		goto fail;
	}
	__atomic_add_fetch(&dev_impl(dev)->channels, 1, __ATOMIC_RELAXED);
	xb_res_add(dev->domid, XB_RES_CHANNELS, 1);
	return 0;
fail:
	xenevtchn_close(ch->xce);
	*ch = (struct xb_evtchn)XB_EVTCHN_INIT;
	return rc;
}

void xb_evtchn_unbind(struct xb_evtchn *ch)
{
	if (!ch || !ch->xce)
		return;
	xenevtchn_unbind(ch->xce, ch->local_port);
	xenevtchn_close(ch->xce);
	if (ch->dev) {
		__atomic_sub_fetch(&dev_impl(ch->dev)->channels, 1,
				   __ATOMIC_RELAXED);
		xb_res_add(ch->dev->domid, XB_RES_CHANNELS, -1);
	}
	*ch = (struct xb_evtchn)XB_EVTCHN_INIT;
}

int xb_evtchn_notify(struct xb_evtchn *ch)
{
	if (xenevtchn_notify(ch->xce, ch->local_port) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

int xb_evtchn_ack(struct xb_evtchn *ch)
{
	xenevtchn_port_or_error_t port = xenevtchn_pending(ch->xce);

	if (port < 0)
		return errno == EAGAIN ? 0 : (errno ? -errno : -EIO);
	if (xenevtchn_unmask(ch->xce, port) < 0)
		return errno ? -errno : -EIO;
	/* The handle has only this port bound. */
	return (evtchn_port_t)port == ch->local_port ? 1 : 0;
}
