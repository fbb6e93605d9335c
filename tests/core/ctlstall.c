/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctlstall - a control-socket client that stalls: connects to SOCKET,
 * sends PREFIX (part of a line, maybe empty) and holds the connection
 * for SECONDS without finishing it, as a client preempted on a loaded
 * host or one typed by hand. Exits 0 once done, 1 if it cannot connect.
 *
 *   ctlstall SOCKET SECONDS [PREFIX]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *prefix = argc > 3 ? argv[3] : "";
	int fd;

	if (argc < 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: ctlstall SOCKET SECONDS [PREFIX]\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("ctlstall: connect");
		return 1;
	}
	if (*prefix && write(fd, prefix, strlen(prefix)) < 0)
		perror("ctlstall: write");
	sleep((unsigned int)atoi(argv[2]));
	close(fd);
	return 0;
}
