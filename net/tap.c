// SPDX-License-Identifier: GPL-2.0-only
/*
 * net/tap.c - TAP device creation and link settings.
 */
#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

bool net_tap_name_is_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

int net_tap_open_queue(const char *name, bool create)
{
	struct ifreq ifr;
	int fd, hdr = NET_TAP_VNET_HDR_LEN, err;

	if (!net_tap_name_is_valid(name))
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	/* TUNSETIFF would attach to an existing TAP of that name: refuse to
	 * share someone else's device (EBUSY). */
	if (create)
		ifr.ifr_flags |= IFF_TUN_EXCL;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int net_tap_set_persist(int fd, bool persist)
{
	return ioctl(fd, TUNSETPERSIST, persist ? 1UL : 0UL) < 0 ? -errno : 0;
}

int net_tap_get_flags(int fd, unsigned int *flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	*flags = (unsigned short)ifr.ifr_flags;
	return 0;
}

unsigned int net_tap_ifindex(const char *name)
{
	return net_tap_name_is_valid(name) ? if_nametoindex(name) : 0;
}

int net_tap_set_offload(int fd, unsigned int tun_flags)
{
	return ioctl(fd, TUNSETOFFLOAD, tun_flags) < 0 ? -errno : 0;
}

/* Run one SIOC* request for name on a throw-away socket. */
static int link_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int s, err = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	if (ioctl(s, req, ifr) < 0)
		err = -errno;
	close(s);
	return err;
}

int net_tap_set_mac(const char *name, const uint8_t mac[6])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return link_ioctl(name, SIOCSIFHWADDR, &ifr);
}

int net_tap_set_mtu(const char *name, unsigned int mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)mtu;
	return link_ioctl(name, SIOCSIFMTU, &ifr);
}

int net_tap_get_mtu(const char *name, unsigned int *mtu)
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = link_ioctl(name, SIOCGIFMTU, &ifr);
	if (!err)
		*mtu = (unsigned int)ifr.ifr_mtu;
	return err;
}

int net_tap_set_up(const char *name, bool up)
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = link_ioctl(name, SIOCGIFFLAGS, &ifr);
	if (err)
		return err;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return link_ioctl(name, SIOCSIFFLAGS, &ifr);
}
