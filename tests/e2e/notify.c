/*
 * e2e-notify SOCKET: the sd_notify listener of the e2e harness's dom0,
 * which has no systemd. Binds a unix datagram socket at SOCKET (the
 * NOTIFY_SOCKET given to xenbackd) and prints every message it receives,
 * one variable assignment a line, until it is killed. dom0's lib.sh waits
 * for READY=1 in that output.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int bind_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "e2e-notify: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("e2e-notify: socket");
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "e2e-notify: bind %s: %s\n", path,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	char buf[4096];
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: e2e-notify SOCKET\n");
		return 2;
	}
	fd = bind_socket(argv[1]);
	if (fd < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("e2e-notify: recv");
			return 1;
		}
		buf[n] = '\0';
		/* One message may carry several newline-separated fields. */
		fputs(buf, stdout);
		if (n == 0 || buf[n - 1] != '\n')
			fputc('\n', stdout);
	}
}
