/*
 * e2e-devlinks: the part of udev the e2e harness's dom0 needs. A Debian
 * dom0 runs udev, which keeps /dev/block/MAJOR:MINOR links to every block
 * device; dom0 here has only devtmpfs. This makes those links for the
 * block devices present at start, then follows the kernel's uevents
 * (NETLINK_KOBJECT_UEVENT) to add and remove them, until killed.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINK_DIR "/dev/block"

static void link_device(const char *name, const char *majmin)
{
	char link[128], target[128];

	snprintf(link, sizeof(link), LINK_DIR "/%s", majmin);
	snprintf(target, sizeof(target), "../%s", name);
	unlink(link);
	if (symlink(target, link) < 0)
		fprintf(stderr, "e2e-devlinks: symlink %s: %s\n", link,
			strerror(errno));
}

static void unlink_device(const char *majmin)
{
	char link[128];

	snprintf(link, sizeof(link), LINK_DIR "/%s", majmin);
	unlink(link);
}

/* The block devices that exist already, from /sys/class/block/NAME/dev. */
static void coldplug(void)
{
	char path[300], majmin[32];
	struct dirent *de;
	DIR *d;
	FILE *f;

	d = opendir("/sys/class/block");
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/dev",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%31s", majmin) == 1)
			link_device(de->d_name, majmin);
		fclose(f);
	}
	closedir(d);
}

/* One uevent: "ACTION@DEVPATH\0KEY=VALUE\0...". */
static void handle_uevent(const char *buf, size_t len)
{
	const char *action = NULL, *subsystem = NULL, *name = NULL;
	const char *major = NULL, *minor = NULL;
	char majmin[32];
	size_t off = strnlen(buf, len) + 1;

	while (off < len) {
		const char *kv = buf + off;

		if (!strncmp(kv, "ACTION=", 7))
			action = kv + 7;
		else if (!strncmp(kv, "SUBSYSTEM=", 10))
			subsystem = kv + 10;
		else if (!strncmp(kv, "DEVNAME=", 8))
			name = kv + 8;
		else if (!strncmp(kv, "MAJOR=", 6))
			major = kv + 6;
		else if (!strncmp(kv, "MINOR=", 6))
			minor = kv + 6;
		off += strnlen(kv, len - off) + 1;
	}
	if (!action || !subsystem || strcmp(subsystem, "block") || !major ||
	    !minor)
		return;
	snprintf(majmin, sizeof(majmin), "%s:%s", major, minor);
	if (!strcmp(action, "add") && name)
		link_device(name, majmin);
	else if (!strcmp(action, "remove"))
		unlink_device(majmin);
}

int main(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	char buf[8192];
	ssize_t n;
	int fd;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
		    NETLINK_KOBJECT_UEVENT);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("e2e-devlinks: uevent socket");
		return 1;
	}
	mkdir(LINK_DIR, 0755);
	/* Bound before the scan, so no device falls between the two. */
	coldplug();
	for (;;) {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			perror("e2e-devlinks: recv");
			return 1;
		}
		buf[n] = '\0';
		handle_uevent(buf, (size_t)n);
	}
}
