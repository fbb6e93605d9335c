// SPDX-License-Identifier: GPL-2.0-only
/*
 * net/vif.c - the "vif" device kind: negotiation with netfront and the
 * TAP device's life, as Linux netback's xenbus.c does it.
 *
 *   probe        read vifname/mac/mtu/rate, create the TAP, advertise
 *                features (the core then goes to InitWait, and the
 *                toolstack's vif hotplug script finds the TAP)
 *   hotplug_done the script wrote hotplug-status = connected
 *   connect      read the frontend's queues and features, map the rings,
 *                bind the channels, one worker per queue
 *   disconnect   stop the workers, unmap, unbind (the TAP stays);
 *                disconnect_begin starts that without waiting
 *   remove       the TAP goes with its device; when the daemon only
 *                stops it stays (persistent) for the next daemon, which
 *                adopts it in probe (net/tap_owner.h)
 *   start        remove the TAPs earlier daemons left for devices that
 *                went meanwhile
 */
#include "net/queue.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/resources.h"
#include "net/tap.h"
#include "net/tap_owner.h"
#include "xenstore/xbs.h"

#define NET_MTU_DEFAULT 1500u
#define NET_MTU_MIN 68u
#define NET_MTU_MAX (65535u - 14u)
#define NET_MTU_NO_SG (RING_NETIF_PAGE_SIZE - 14u)

struct net_vif {
	struct xb_device *dev;
	char ifname[IFNAMSIZ];
	int tap_fd0; /* queue 0 of the TAP, from probe to remove */
	bool adopted; /* the TAP was left by an earlier daemon */
	uint8_t mac[6];
	bool has_mac;
	unsigned int mtu;
	unsigned int max_queues;
	uint64_t rate_bytes, rate_usec;

	/* Negotiated at connect. */
	unsigned int nr_queues;
	struct net_queue *queues;
	bool split, sg;
	struct net_rx_caps caps;
	struct net_stats stats;
	struct net_mcast mcast;
};

static struct net_vif *vif_of(struct xb_device *dev)
{
	return dev->priv;
}

/* ------------------------------------------------------------------ */
/* Probe: the toolstack's nodes and the TAP                            */
/* ------------------------------------------------------------------ */

static int read_ifname(struct net_vif *vif)
{
	struct xb_device *dev = vif->dev;
	char *name = NULL;
	int rc;

	rc = xb_be_read_str(dev, "vifname", &name);
	if (rc == -ENOENT || (rc == 0 && name[0] == '\0')) {
		free(name);
		snprintf(vif->ifname, sizeof(vif->ifname), "vif%u.%u",
			 dev->domid, dev->devid);
		return 0;
	}
	if (rc) {
		xb_device_fail(dev, rc, "backend node vifname: %s",
			       xb_read_error(rc));
		return rc;
	}
	if (!net_tap_name_is_valid(name)) {
		xb_device_fail(dev, -EINVAL,
			       "backend node vifname '%.32s' is not a valid "
			       "interface name",
			       name);
		free(name);
		return -EINVAL;
	}
	snprintf(vif->ifname, sizeof(vif->ifname), "%s", name);
	free(name);
	return 0;
}

/*
 * The backend's "rate": absent is no limit. On error *bad is the value
 * that did not parse (free() it), or NULL if the read itself failed.
 */
static int read_rate(struct net_vif *vif, uint64_t *bytes, uint64_t *usec,
		     char **bad)
{
	char *s = NULL;
	int rc;

	*bad = NULL;
	rc = xb_be_read_str(vif->dev, "rate", &s);
	if (rc == -ENOENT) {
		*bytes = 0;
		*usec = 0;
		return 0;
	}
	if (rc)
		return rc;
	rc = net_rate_parse(s, bytes, usec);
	if (rc)
		*bad = s;
	else
		free(s);
	return rc;
}

static int read_toolstack_nodes(struct net_vif *vif)
{
	struct xb_device *dev = vif->dev;
	char *s = NULL;
	int rc;

	rc = read_ifname(vif);
	if (rc)
		return rc;
	rc = xb_be_read_str(dev, "mac", &s);
	if (rc == 0) {
		rc = xbs_parse_mac(s, vif->mac);
		if (rc)
			xb_device_fail(dev, rc,
				       "backend node mac '%.32s' is not a MAC "
				       "address",
				       s);
		vif->has_mac = rc == 0;
		free(s);
		if (rc)
			return rc;
	} else if (rc != -ENOENT) {
		xb_device_fail(dev, rc, "backend node mac: %s",
			       xb_read_error(rc));
		return rc;
	}
	rc = xb_be_read_uint_def(dev, "mtu", NET_MTU_MAX, NET_MTU_DEFAULT,
				 &vif->mtu);
	if (rc || vif->mtu < NET_MTU_MIN) {
		rc = rc ? rc : -ERANGE;
		xb_device_fail(dev, rc, "backend node mtu: %s (%u..%u)",
			       xb_read_error(rc), NET_MTU_MIN, NET_MTU_MAX);
		return rc;
	}
	rc = read_rate(vif, &vif->rate_bytes, &vif->rate_usec, &s);
	if (rc)
		xb_device_fail(dev, rc, "backend node rate '%.40s': %s",
			       s ? s : "", s ? "not <bytes>,<microseconds>"
					     : xb_read_error(rc));
	free(s);
	return rc;
}

static int create_tap(struct net_vif *vif)
{
	/* As netback: a MAC no bridge takes as its own address. */
	static const uint8_t host_mac[6] = { 0xfe, 0xff, 0xff,
					     0xff, 0xff, 0xff };
	struct xb_device *dev = vif->dev;
	int rc;

	vif->tap_fd0 = xb_res_track_fd(
		dev->domid, net_tap_acquire(dev, vif->ifname, &vif->adopted));
	if (vif->tap_fd0 < 0) {
		rc = vif->tap_fd0;
		vif->tap_fd0 = -1;
		xb_device_fail(dev, rc, "cannot create TAP device %s: %s",
			       vif->ifname, strerror(-rc));
		return rc;
	}
	/* An adopted TAP keeps what the host made of it (MTU included). */
	if (vif->adopted)
		return 0;
	rc = net_tap_set_mac(vif->ifname, host_mac);
	if (!rc)
		rc = net_tap_set_mtu(vif->ifname, vif->mtu);
	if (rc) {
		xb_device_fail(dev, rc, "cannot set up TAP device %s: %s",
			       vif->ifname, strerror(-rc));
		return rc;
	}
	return 0;
}

static int write_features(struct net_vif *vif)
{
	struct xb_device *dev = vif->dev;
	static const char *const one[] = {
		"feature-sg",
		"feature-gso-tcpv4",
		"feature-gso-tcpv6",
		"feature-ipv6-csum-offload",
		"feature-rx-copy",
		"feature-multicast-control",
		"feature-dynamic-multicast-control",
		"feature-split-event-channels",
	};
	unsigned int i;
	int rc = 0;

	for (i = 0; i < sizeof(one) / sizeof(one[0]) && !rc; i++)
		rc = xb_be_write(dev, one[i], "1");
	if (!rc)
		rc = xb_be_write(dev, "feature-rx-flip", "0");
	if (!rc)
		rc = xb_be_write(dev, "multi-queue-max-queues", "%u",
				 vif->max_queues);
	if (rc)
		xb_device_fail(dev, rc, "cannot write feature nodes: %s",
			       strerror(-rc));
	return rc;
}

static unsigned int default_max_queues(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > NET_MAX_QUEUES ? NET_MAX_QUEUES : (unsigned int)n;
}

/* keep: the daemon stops, the device stays (see net_tap_release()). */
static void vif_free(struct net_vif *vif, bool keep)
{
	if (!vif)
		return;
	if (vif->tap_fd0 >= 0) {
		/* It closes the fd (after clearing persistence, or not). */
		net_tap_release(vif->ifname, vif->tap_fd0, keep);
		xb_res_add(vif->dev->domid, XB_RES_FDS, -1);
		vif->tap_fd0 = -1;
	}
	pthread_mutex_destroy(&vif->mcast.lock);
	free(vif->queues);
	free(vif);
}

static int net_probe(struct xb_device *dev)
{
	struct net_vif *vif;
	int rc;

	vif = calloc(1, sizeof(*vif));
	if (!vif)
		return -ENOMEM;
	vif->dev = dev;
	vif->tap_fd0 = -1;
	vif->max_queues = default_max_queues();
	pthread_mutex_init(&vif->mcast.lock, NULL);
	rc = read_toolstack_nodes(vif);
	if (!rc)
		rc = create_tap(vif);
	if (!rc)
		rc = write_features(vif);
	if (rc) {
		/* A TAP we adopted stays for the next try (its record too). */
		vif_free(vif, vif->adopted);
		return rc;
	}
	dev->priv = vif;
	xb_dev_info(dev, "TAP %s %s (ifindex %u), waiting for the frontend",
		    vif->ifname, vif->adopted ? "taken over" : "created",
		    net_tap_ifindex(vif->ifname));
	return 0;
}

static bool net_hotplug_done(struct xb_device *dev)
{
	char *s = NULL;
	bool done;

	if (xb_be_read_str(dev, "hotplug-status", &s))
		return false;
	done = !strcmp(s, "connected");
	free(s);
	return done;
}

/* ------------------------------------------------------------------ */
/* Connect: the frontend's queues and features                         */
/* ------------------------------------------------------------------ */

static int read_fe_flag(struct xb_device *dev, const char *node, bool *out)
{
	int rc = xb_fe_read_flag(dev, node, out);

	if (rc)
		xb_device_fail(dev, rc, "frontend node %s: %s", node,
			       xb_read_error(rc));
	return rc;
}

static int read_frontend_features(struct net_vif *vif)
{
	struct xb_device *dev = vif->dev;
	bool rx_copy, rx_notify, no_csum, v6_csum, mcast;
	int rc;

	rc = xb_fe_read_uint_def(dev, "multi-queue-num-queues", vif->max_queues,
				 1, &vif->nr_queues);
	if (rc || vif->nr_queues == 0) {
		rc = rc ? rc : -ERANGE;
		xb_device_fail(dev, rc,
			       "frontend node multi-queue-num-queues: %s "
			       "(1..%u)",
			       xb_read_error(rc), vif->max_queues);
		return rc;
	}
	if ((rc = read_fe_flag(dev, "request-rx-copy", &rx_copy)) ||
	    (rc = read_fe_flag(dev, "feature-rx-notify", &rx_notify)) ||
	    (rc = read_fe_flag(dev, "feature-sg", &vif->sg)) ||
	    (rc = read_fe_flag(dev, "feature-gso-tcpv4", &vif->caps.gso_v4)) ||
	    (rc = read_fe_flag(dev, "feature-gso-tcpv6", &vif->caps.gso_v6)) ||
	    (rc = read_fe_flag(dev, "feature-no-csum-offload", &no_csum)) ||
	    (rc = read_fe_flag(dev, "feature-ipv6-csum-offload", &v6_csum)) ||
	    (rc = read_fe_flag(dev, "request-multicast-control", &mcast)))
		return rc;
	if (!rx_copy) {
		/* Page flipping is gone from Xen; netback refuses it too. */
		xb_device_fail(dev, -EOPNOTSUPP,
			       "frontend does not request rx-copy");
		return -EOPNOTSUPP;
	}
	if (!rx_notify) {
		/* Without it we could not wait for buffers (netif.h). */
		xb_device_fail(dev, -EOPNOTSUPP,
			       "frontend lacks feature-rx-notify");
		return -EOPNOTSUPP;
	}
	vif->caps.csum_v4 = !no_csum;
	vif->caps.csum_v6 = v6_csum;
	/* Segmentation needs scatter-gather and checksum offload. */
	if (!vif->sg || !vif->caps.csum_v4)
		vif->caps.gso_v4 = false;
	if (!vif->sg || !vif->caps.csum_v6)
		vif->caps.gso_v6 = false;
	vif->mcast.enabled = mcast;
	vif->mcast.n = 0;
	return 0;
}

/* The TAP offloads that match what the guest's receive side takes. */
static int set_tap_offloads(struct net_vif *vif)
{
	unsigned int f = 0;
	int rc;

	if (vif->caps.csum_v4 || vif->caps.csum_v6)
		f |= TUN_F_CSUM;
	if (vif->caps.gso_v4)
		f |= TUN_F_TSO4;
	if (vif->caps.gso_v6)
		f |= TUN_F_TSO6;
	if (f & (TUN_F_TSO4 | TUN_F_TSO6))
		f |= TUN_F_TSO_ECN;
	rc = net_tap_set_offload(vif->tap_fd0, f);
	if (rc)
		xb_device_fail(vif->dev, rc, "cannot set TAP %s offloads: %s",
			       vif->ifname, strerror(-rc));
	return rc;
}

static int map_ring(struct xb_device *dev, const char *dir,
		    const char *node, struct xb_ring_map *m)
{
	char bad[XBS_PATH_MAX];
	grant_ref_t ref[XB_RING_MAX_PAGES];
	unsigned int nr;
	int rc;

	rc = xb_ring_read_refs(dev, dir, node, 0, ref, &nr, bad);
	if (rc) {
		xb_device_fail(dev, rc, "frontend node %s: %s", bad,
			       xb_read_error(rc));
		return rc;
	}
	return xb_ring_map(dev, m, ref, nr);
}

static int bind_channel(struct xb_device *dev, const char *node,
			struct xb_evtchn *ch)
{
	evtchn_port_t port;
	int rc;

	rc = xb_evtchn_read_port(dev, node, &port);
	if (rc) {
		xb_device_fail(dev, rc, "frontend node %s: %s", node,
			       xb_read_error(rc));
		return rc;
	}
	return xb_evtchn_bind(dev, ch, port);
}

/* "queue-N/" for several queues, "" for one (netif.h). */
static void node_path(char *buf, size_t len, const char *dir,
		      const char *node)
{
	if (dir)
		snprintf(buf, len, "%s/%s", dir, node);
	else
		snprintf(buf, len, "%s", node);
}

static int connect_queue(struct net_vif *vif, struct net_queue *q)
{
	struct xb_device *dev = vif->dev;
	char dirbuf[16], node[64];
	const char *dir = NULL;
	evtchn_port_t unused;
	int rc;

	if (vif->nr_queues > 1) {
		snprintf(dirbuf, sizeof(dirbuf), "queue-%u", q->index);
		dir = dirbuf;
	}
	if ((rc = map_ring(dev, dir, "tx-ring-ref", &q->tx_map)) ||
	    (rc = map_ring(dev, dir, "rx-ring-ref", &q->rx_map)))
		return rc;
	node_path(node, sizeof(node), dir, "event-channel-tx");
	q->split = xb_evtchn_read_port(dev, node, &unused) != -ENOENT;
	if (q->split) {
		rc = bind_channel(dev, node, &q->tx_ch);
		node_path(node, sizeof(node), dir, "event-channel-rx");
		if (!rc)
			rc = bind_channel(dev, node, &q->rx_ch);
	} else {
		node_path(node, sizeof(node), dir, "event-channel");
		rc = bind_channel(dev, node, &q->tx_ch);
	}
	if (rc)
		return rc;
	if (q->index == 0) {
		q->tap_fd = vif->tap_fd0;
	} else {
		q->tap_fd = xb_res_track_fd(
			dev->domid, net_tap_open_queue(vif->ifname, false));
		if (q->tap_fd < 0) {
			rc = q->tap_fd;
			q->tap_fd = -1;
			xb_device_fail(dev, rc, "cannot open TAP %s queue %u: %s",
				       vif->ifname, q->index, strerror(-rc));
			return rc;
		}
		q->tap_fd_owned = true;
	}
	q->caps = vif->caps;
	q->rx_sg = vif->sg;
	q->rate_bytes = vif->rate_bytes;
	q->rate_usec = vif->rate_usec;
	q->stats = &vif->stats;
	q->mcast = &vif->mcast;
	snprintf(q->name, sizeof(q->name), "vif%u.%uq%u", dev->domid % 100000,
		 dev->devid % 1000, q->index);
	rc = net_queue_start(q);
	if (rc)
		xb_device_fail(dev, rc, "cannot start queue %u: %s", q->index,
			       strerror(-rc));
	return rc;
}

static void disconnect_queue(struct net_queue *q)
{
	net_queue_stop(q); /* the worker is gone after this */
	xb_ring_unmap(&q->tx_map);
	xb_ring_unmap(&q->rx_map);
	xb_evtchn_unbind(&q->tx_ch);
	xb_evtchn_unbind(&q->rx_ch);
	if (q->tap_fd_owned)
		xb_res_close(q->dev->domid, &q->tap_fd);
	q->tap_fd = -1;
	q->tap_fd_owned = false;
}

/*
 * Every queue's worker told to stop (it ends after the callback it is
 * in: nothing waits in flight between two); 0 once all have ended, else
 * how many still run (each tells the main thread when it ends).
 */
static unsigned int net_disconnect_begin(struct xb_device *dev)
{
	struct net_vif *vif = vif_of(dev);
	unsigned int i, running = 0;

	if (!vif || !vif->queues)
		return 0;
	for (i = 0; i < vif->nr_queues; i++)
		xb_worker_stop_begin(vif->queues[i].worker);
	for (i = 0; i < vif->nr_queues; i++)
		if (!xb_worker_ended(vif->queues[i].worker))
			running++;
	return running;
}

static void net_disconnect(struct xb_device *dev)
{
	struct net_vif *vif = vif_of(dev);
	unsigned int i;

	if (!vif || !vif->queues)
		return;
	for (i = 0; i < vif->nr_queues; i++)
		disconnect_queue(&vif->queues[i]);
	free(vif->queues);
	vif->queues = NULL;
	vif->nr_queues = 0;
}

static int net_connect(struct xb_device *dev)
{
	struct net_vif *vif = vif_of(dev);
	unsigned int i, mtu;
	int rc;

	net_disconnect(dev); /* idempotent: a reconnect starts clean */
	rc = read_frontend_features(vif);
	if (rc)
		return rc;
	rc = set_tap_offloads(vif);
	if (rc)
		return rc;
	/* A guest without scatter-gather takes one page per packet. */
	if (!vif->sg && !net_tap_get_mtu(vif->ifname, &mtu) &&
	    mtu > NET_MTU_NO_SG)
		net_tap_set_mtu(vif->ifname, NET_MTU_NO_SG);
	vif->queues = calloc(vif->nr_queues, sizeof(*vif->queues));
	if (!vif->queues) {
		vif->nr_queues = 0;
		return -ENOMEM;
	}
	for (i = 0; i < vif->nr_queues; i++) {
		net_queue_init(&vif->queues[i]);
		vif->queues[i].dev = dev;
		vif->queues[i].index = i;
	}
	for (i = 0; i < vif->nr_queues; i++) {
		rc = connect_queue(vif, &vif->queues[i]);
		if (rc) {
			net_disconnect(dev);
			return rc;
		}
	}
	vif->split = vif->queues[0].split;
	xb_dev_info(dev, "connected: TAP %s, %u queue(s)%s%s%s", vif->ifname,
		    vif->nr_queues, vif->split ? ", split channels" : "",
		    vif->sg ? ", sg" : "",
		    vif->caps.gso_v4 || vif->caps.gso_v6 ? ", gso" : "");
	return 0;
}

static void net_remove(struct xb_device *dev)
{
	struct net_vif *vif = vif_of(dev);

	net_disconnect(dev);
	if (vif && dev->daemon_stopping)
		xb_dev_info(dev, "TAP %s kept for the next daemon",
			    vif->ifname);
	vif_free(vif, dev->daemon_stopping);
	dev->priv = NULL;
}

static void net_start(struct xbs *xs, const char *backend_dir)
{
	net_tap_sweep(xs, backend_dir);
}

/* ------------------------------------------------------------------ */
/* Runtime changes of the toolstack's nodes                            */
/* ------------------------------------------------------------------ */

/* "rate" rewritten (xl network-... or by hand), as netback watches it. */
static void rate_changed(struct net_vif *vif)
{
	struct xb_device *dev = vif->dev;
	uint64_t bytes, usec;
	unsigned int i;
	char *bad = NULL;
	int rc;

	rc = read_rate(vif, &bytes, &usec, &bad);
	if (rc) {
		/* An operator's mistake: say so, keep the limit in force. */
		xb_dev_warn(dev, "backend node rate '%.40s': %s; the limit "
				 "stays %llu bytes per %llu us",
			    bad ? bad : "",
			    bad ? "not <bytes>,<microseconds>"
				: xb_read_error(rc),
			    (unsigned long long)vif->rate_bytes,
			    (unsigned long long)vif->rate_usec);
		free(bad);
		return;
	}
	if (bytes == vif->rate_bytes && usec == vif->rate_usec)
		return;
	vif->rate_bytes = bytes;
	vif->rate_usec = usec;
	for (i = 0; vif->queues && i < vif->nr_queues; i++)
		net_queue_set_rate(&vif->queues[i], bytes, usec);
	if (bytes)
		xb_dev_info(dev, "transmit limited to %llu bytes per %llu us",
			    (unsigned long long)bytes,
			    (unsigned long long)usec);
	else
		xb_dev_info(dev, "transmit limit lifted");
}

static void net_backend_changed(struct xb_device *dev, const char *node)
{
	struct net_vif *vif = vif_of(dev);

	if (vif && !strcmp(node, "rate"))
		rate_changed(vif);
}

/* ------------------------------------------------------------------ */
/* xenbackctl                                                          */
/* ------------------------------------------------------------------ */

static void net_describe(struct xb_device *dev, struct xb_desc *out)
{
	struct net_vif *vif = vif_of(dev);
	const struct net_stats *s;
	unsigned int i;

	if (!vif)
		return;
	s = &vif->stats;
	xb_desc_backing(out, "tap %s", vif->ifname);
	if (vif->has_mac)
		xb_desc_info(out, "mac", "%02x:%02x:%02x:%02x:%02x:%02x",
			     vif->mac[0], vif->mac[1], vif->mac[2],
			     vif->mac[3], vif->mac[4], vif->mac[5]);
	xb_desc_info(out, "mtu", "%u", vif->mtu);
	if (vif->rate_bytes)
		xb_desc_info(out, "rate", "%llu bytes per %llu us",
			     (unsigned long long)vif->rate_bytes,
			     (unsigned long long)vif->rate_usec);
	if (vif->queues) {
		xb_desc_info(out, "queues", "%u", vif->nr_queues);
		if (vif->split)
			xb_desc_feature(out, "split-event-channels");
		if (vif->sg)
			xb_desc_feature(out, "sg");
		if (vif->caps.csum_v4)
			xb_desc_feature(out, "csum-offload");
		if (vif->caps.csum_v6)
			xb_desc_feature(out, "ipv6-csum-offload");
		if (vif->caps.gso_v4)
			xb_desc_feature(out, "gso-tcpv4");
		if (vif->caps.gso_v6)
			xb_desc_feature(out, "gso-tcpv6");
		if (vif->mcast.enabled)
			xb_desc_feature(out, "multicast-control");
	}
	xb_desc_counter(out, "tx_packets", atomic_load(&s->tx_packets));
	xb_desc_counter(out, "tx_bytes", atomic_load(&s->tx_bytes));
	xb_desc_counter(out, "tx_errors", atomic_load(&s->tx_errors));
	xb_desc_counter(out, "tx_dropped", atomic_load(&s->tx_dropped));
	xb_desc_counter(out, "tx_rate_waits", atomic_load(&s->tx_rate_waits));
	xb_desc_counter(out, "rx_packets", atomic_load(&s->rx_packets));
	xb_desc_counter(out, "rx_bytes", atomic_load(&s->rx_bytes));
	xb_desc_counter(out, "rx_errors", atomic_load(&s->rx_errors));
	xb_desc_counter(out, "rx_dropped", atomic_load(&s->rx_dropped));
	xb_desc_counter(out, "rx_stalls", atomic_load(&s->rx_stalls));
	xb_desc_counter(out, "tx_csum_partial",
			atomic_load(&s->tx_csum_partial));
	xb_desc_counter(out, "tx_gso", atomic_load(&s->tx_gso));
	xb_desc_counter(out, "rx_csum_partial",
			atomic_load(&s->rx_csum_partial));
	xb_desc_counter(out, "rx_gso", atomic_load(&s->rx_gso));
	for (i = 0; vif->queues && vif->nr_queues > 1 && i < vif->nr_queues;
	     i++) {
		char name[32];

		snprintf(name, sizeof(name), "q%u_tx_packets", i);
		xb_desc_counter(out, name,
				atomic_load(&vif->queues[i].q_tx_packets));
		snprintf(name, sizeof(name), "q%u_rx_packets", i);
		xb_desc_counter(out, name,
				atomic_load(&vif->queues[i].q_rx_packets));
	}
}

const struct xb_kind net_kind = {
	.type = "vif",
	.probe = net_probe,
	.hotplug_done = net_hotplug_done,
	.connect = net_connect,
	.disconnect = net_disconnect,
	.disconnect_begin = net_disconnect_begin,
	.remove = net_remove,
	.backend_changed = net_backend_changed,
	.describe = net_describe,
	.start = net_start,
};
