/*
 * xenbackctl - lists the devices a running xenbackd serves.
 *
 *   xenbackctl [--json] [--socket PATH] [list]
 *   xenbackctl [--socket PATH] resize DOMID DEVID
 *
 * Asks the daemon over its control socket (backend/control.h) and prints
 * the answer: a table, or a JSON array with --json; for resize, one line
 * (exit status 1 when it is an error).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/xenbackd/control.sock"
#define TIMEOUT_MS 5000

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xenbackctl [OPTION]... [list]\n"
		"       xenbackctl [OPTION]... resize DOMID DEVID\n"
		"List the devices xenbackd serves: domain, kind, devid, state,\n"
		"backing, negotiated features and ring statistics. resize: the\n"
		"disk DEVID of domain DOMID takes its backing's current size\n"
		"and tells the guest (after growing a file or `losetup -c`).\n\n"
		"  -j, --json         a JSON array instead of a table\n"
		"  -s, --socket PATH  the daemon's control socket\n"
		"                     (default $XENBACKD_SOCKET or %s)\n"
		"  -h, --help         this help\n",
		DEFAULT_SOCKET);
}

/* A decimal number of at most 9 digits (a domid or devid). */
static bool is_number(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && n <= 9 && !s[n];
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xenbackctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "xenbackctl: cannot reach xenbackd at %s: %s\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Copies the answer to stdout; *error when it starts with "error:". */
static int copy_answer(int fd, bool *error)
{
	char buf[4096];
	bool first = true;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, TIMEOUT_MS) != 1) {
			fprintf(stderr, "xenbackctl: no answer from xenbackd\n");
			return 1;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "xenbackctl: read: %s\n",
				strerror(errno));
			return 1;
		}
		if (n == 0)
			return 0;
		if (first && error)
			*error = n >= 6 && !memcmp(buf, "error:", 6);
		first = false;
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			return 1;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("XENBACKD_SOCKET");
	char cmd[64];
	bool json = false, error = false;
	int c, fd, rc;

	if (!path || !*path)
		path = DEFAULT_SOCKET;
	while ((c = getopt_long(argc, argv, "js:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "resize")) {
		if (optind + 3 != argc || !is_number(argv[optind + 1]) ||
		    !is_number(argv[optind + 2])) {
			usage(stderr);
			return 2;
		}
		snprintf(cmd, sizeof(cmd), "resize %s %s\n", argv[optind + 1],
			 argv[optind + 2]);
	} else if (optind < argc && strcmp(argv[optind], "list")) {
		fprintf(stderr, "xenbackctl: unknown command '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	} else if (optind + 1 < argc) {
		usage(stderr);
		return 2;
	} else {
		snprintf(cmd, sizeof(cmd), "%s", json ? "list json\n" : "list\n");
	}
	fd = connect_to(path);
	if (fd < 0)
		return 1;
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		fprintf(stderr, "xenbackctl: write: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	rc = copy_answer(fd, &error);
	if (rc == 0 && error)
		rc = 1;
	close(fd);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
