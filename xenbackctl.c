/*
 * xenbackctl - lists the devices a running xenbackd serves.
 *
 *   xenbackctl [--json] [--socket PATH] [list | resources]
 *   xenbackctl [--socket PATH] resize DOMID DEVID
 *   xenbackctl [--socket PATH] restart
 *
 * Asks the daemon over its control socket (backend/control.h) and prints
 * the answer: a table, or JSON with --json (an array of devices; for
 * resources an object, see backend/resources.h); for resize, one line
 * (exit status 1 when it is an error); restart hands the devices over to
 * a successor and waits for it.
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
/* How long restart waits for the old daemon to go and the new to answer:
 * the unit's TimeoutStopSec plus its start. */
#define RESTART_WAIT_S 120

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xenbackctl [OPTION]... [list | resources]\n"
		"       xenbackctl [OPTION]... resize DOMID DEVID\n"
		"       xenbackctl [OPTION]... restart\n"
		"list (the default): the devices xenbackd serves: domain, kind,\n"
		"devid, state, backing, negotiated features and statistics.\n"
		"resources: what the daemon holds per frontend domain and in\n"
		"total: ring pages and data grants mapped, event channels\n"
		"bound, backing files and TAP queues open.\n"
		"resize: the disk DEVID of domain DOMID takes its backing's\n"
		"current size and tells the guest (after growing a file or\n"
		"`losetup -c`).\n"
		"restart: the daemon finishes the I/O in flight and exits,\n"
		"leaving every device connected; its successor (systemd\n"
		"starts it: exit status 75) adopts them, and the guests see a\n"
		"pause. Waits until a successor answers (at most %d s).\n\n"
		"  -j, --json         JSON instead of a table\n"
		"  -s, --socket PATH  the daemon's control socket\n"
		"                     (default $XENBACKD_SOCKET or %s)\n"
		"  -h, --help         this help\n",
		RESTART_WAIT_S, DEFAULT_SOCKET);
}

/* A decimal number of at most 9 digits (a domid or devid). */
static bool is_number(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && n <= 9 && !s[n];
}

static int connect_quiet(const char *path, bool quiet)
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
		if (!quiet)
			fprintf(stderr,
				"xenbackctl: cannot reach xenbackd at %s: %s\n",
				path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(const char *path)
{
	return connect_quiet(path, false);
}

/* Whether a daemon answers "list" on path now. */
static bool answers(const char *path)
{
	char buf[64];
	struct pollfd p;
	bool ok;
	int fd = connect_quiet(path, true);

	if (fd < 0)
		return false;
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	ok = write(fd, "list\n", 5) == 5 && poll(&p, 1, TIMEOUT_MS) == 1 &&
	     read(fd, buf, sizeof(buf)) > 0;
	close(fd);
	return ok;
}

/*
 * The handover: the daemon answers, drains and exits (its socket goes
 * when it is gone), then a successor answers on the same path.
 */
static int restart(const char *path)
{
	char buf[256];
	ssize_t n;
	int fd, i;

	fd = connect_to(path);
	if (fd < 0)
		return 1;
	if (write(fd, "handover\n", 9) != 9) {
		fprintf(stderr, "xenbackctl: write: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || strncmp(buf, "handing over", 12)) {
		fprintf(stderr, "xenbackctl: xenbackd refused the handover\n");
		return 1;
	}
	for (i = 0; i < RESTART_WAIT_S * 10 && access(path, F_OK) == 0; i++)
		usleep(100000);
	for (; i < RESTART_WAIT_S * 10 && !answers(path); i++)
		usleep(100000);
	if (i >= RESTART_WAIT_S * 10) {
		fprintf(stderr,
			"xenbackctl: xenbackd handed its devices over, but no successor answered within %d s\n",
			RESTART_WAIT_S);
		return 1;
	}
	printf("xenbackd restarted; its devices stayed connected\n");
	return 0;
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
	} else if (optind < argc && !strcmp(argv[optind], "restart")) {
		if (optind + 1 != argc) {
			usage(stderr);
			return 2;
		}
		return restart(path);
	} else if (optind < argc && !strcmp(argv[optind], "resources")) {
		if (optind + 1 != argc) {
			usage(stderr);
			return 2;
		}
		snprintf(cmd, sizeof(cmd), "%s",
			 json ? "resources json\n" : "resources\n");
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
