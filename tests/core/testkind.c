/*
 * testkind.c - the "xbt" test kind (see testkind.h).
 */
#include "tests/core/testkind.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "backend/rings.h"
#include "backend/worker.h"

struct xbt_dev {
	struct xb_ring_map ring;
	struct xb_evtchn ch;
	struct xb_worker *worker;
	uint64_t events;	/* atomic */
	bool connected;
};

static int xbt_probe(struct xb_device *dev)
{
	struct xbt_dev *t;
	char *mode = NULL;
	int rc;

	rc = xb_be_read_str(dev, "test-probe", &mode);
	if (!rc && !strcmp(mode, "fail")) {
		free(mode);
		xb_device_fail(dev, -EINVAL, "test-probe asks to fail");
		return -EINVAL;
	}
	if (!rc && !strcmp(mode, "eagain")) {
		free(mode);
		return -EAGAIN;
	}
	free(mode);
	if (!dev->priv) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		t->ring = (struct xb_ring_map)XB_RING_MAP_INIT;
		t->ch = (struct xb_evtchn)XB_EVTCHN_INIT;
		dev->priv = t;
	}
	rc = xb_be_write(dev, "max-ring-page-order", "%u", 2);
	if (rc)
		return rc;
	return xb_be_write(dev, "feature-test", "1");
}

static bool xbt_hotplug_done(struct xb_device *dev)
{
	char *s = NULL;
	bool done;
	int rc = xb_be_read_str(dev, "hotplug-status", &s);

	done = rc == -ENOENT || (!rc && !strcmp(s, "connected"));
	free(s);
	return done;
}

static void on_event(void *arg, uint32_t events)
{
	struct xb_device *dev = arg;
	struct xbt_dev *t = dev->priv;
	volatile struct xbt_page *p = t->ring.addr;
	int rc;

	(void)events;
	rc = xb_evtchn_ack(&t->ch);
	if (rc < 0) {
		xb_device_fail_async(dev, rc, "event channel: %s",
				     strerror(-rc));
		return;
	}
	/* Binding leaves the port pending once, as on Xen: only a new
	 * request counts. */
	if (rc == 0 || xb_worker_stopping(t->worker) || p->req == p->rsp)
		return;
	__atomic_add_fetch(&t->events, 1, __ATOMIC_RELAXED);
	p->rsp = p->req;
	xb_evtchn_notify(&t->ch);
}

static void xbt_disconnect(struct xb_device *dev)
{
	struct xbt_dev *t = dev->priv;

	if (!t)
		return;
	xb_worker_free(t->worker);
	t->worker = NULL;
	xb_evtchn_unbind(&t->ch);
	xb_ring_unmap(&t->ring);
	t->connected = false;
}

/* The core's asynchronous close, as the real kinds use it. */
static unsigned int xbt_disconnect_begin(struct xb_device *dev)
{
	struct xbt_dev *t = dev->priv;

	if (!t || !t->worker)
		return 0;
	xb_worker_stop_begin(t->worker);
	return !xb_worker_ended(t->worker);
}

static int xbt_connect(struct xb_device *dev)
{
	struct xbt_dev *t = dev->priv;
	grant_ref_t refs[XB_RING_MAX_PAGES];
	char bad[XBS_PATH_MAX], name[16];
	evtchn_port_t port;
	unsigned int nr;
	int rc;

	rc = xb_ring_read_refs(dev, NULL, "ring-ref", 2, refs, &nr, bad);
	if (rc) {
		xb_device_fail(dev, rc, "frontend node %s %s", bad,
			       xb_read_error(rc));
		return rc;
	}
	rc = xb_evtchn_read_port(dev, "event-channel", &port);
	if (rc) {
		xb_device_fail(dev, rc, "frontend node event-channel %s",
			       xb_read_error(rc));
		return rc;
	}
	rc = xb_ring_map(dev, &t->ring, refs, nr);
	if (rc)
		goto fail;
	((volatile struct xbt_page *)t->ring.addr)->pages = nr;
	rc = xb_evtchn_bind(dev, &t->ch, port);
	if (rc)
		goto fail;
	snprintf(name, sizeof(name), "xbt%u.%uq0", dev->domid, dev->devid);
	t->worker = xb_worker_new(dev, name, NULL, NULL);
	if (!t->worker) {
		rc = -errno;
		goto fail;
	}
	rc = xb_worker_add_fd(t->worker, t->ch.fd, EPOLLIN, on_event, dev);
	xb_worker_notify_end(t->worker);
	if (!rc)
		rc = xb_worker_start(t->worker);
	if (rc)
		goto fail;
	t->connected = true;
	return 0;
fail:
	xbt_disconnect(dev);
	return rc;
}

static void xbt_remove(struct xb_device *dev)
{
	free(dev->priv);
	dev->priv = NULL;
}

static void xbt_describe(struct xb_device *dev, struct xb_desc *out)
{
	struct xbt_dev *t = dev->priv;

	xb_desc_backing(out, "test");
	if (t && t->connected) {
		xb_desc_feature(out, "ring");
		xb_desc_info(out, "ring-pages", "%u", t->ring.nr_pages);
	}
	xb_desc_counter(out, "events",
			t ? __atomic_load_n(&t->events, __ATOMIC_RELAXED) : 0);
}

const struct xb_kind test_kind = {
	.type = "xbt",
	.probe = xbt_probe,
	.hotplug_done = xbt_hotplug_done,
	.connect = xbt_connect,
	.disconnect = xbt_disconnect,
	.disconnect_begin = xbt_disconnect_begin,
	.remove = xbt_remove,
	.describe = xbt_describe,
};
