/*
 * control.c - the control socket (see control.h).
 */
#include "backend/control.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/log.h"
#include "backend/resources.h"

struct xb_control {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct xb_loop *loop;
	struct xb_backend *be;
};

static int make_addr(struct sockaddr_un *sa, const char *path)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* A socket someone answers on belongs to a running daemon. */
static bool socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return alive;
}

static void make_parent_dir(const char *path)
{
	char *copy = strdup(path);

	if (!copy)
		return;
	if (mkdir(dirname(copy), 0755) < 0 && errno != EEXIST)
		xb_warn("cannot create the directory of %s: %s", path,
			strerror(errno));
	free(copy);
}

/* Waits until fd is ready for events, up to the client timeout. */
static bool wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, XB_CONTROL_TIMEOUT_MS) == 1;
}

static bool read_command(int fd, char *cmd, size_t size)
{
	size_t n = 0;

	while (n < size - 1) {
		ssize_t r;

		if (!wait_fd(fd, POLLIN))
			return false;
		r = read(fd, cmd + n, size - 1 - n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break;
		n += r;
		if (memchr(cmd, '\n', n))
			break;
	}
	cmd[n] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	return n > 0;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w;

		if (!wait_fd(fd, POLLOUT))
			return;
		w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= w;
	}
}

static void serve_client(struct xb_control *c, int fd)
{
	char cmd[XB_CONTROL_CMD_MAX];
	char *answer = NULL;
	size_t len = 0;
	unsigned int domid, devid;
	char end;
	FILE *out;

	if (!read_command(fd, cmd, sizeof(cmd)))
		return;
	out = open_memstream(&answer, &len);
	if (!out)
		return;
	if (!strcmp(cmd, "list"))
		xb_backend_report(c->be, out, false);
	else if (!strcmp(cmd, "list json"))
		xb_backend_report(c->be, out, true);
	else if (sscanf(cmd, "resize %u %u%c", &domid, &devid, &end) == 2)
		xb_backend_resize(c->be, domid, devid, out);
	else if (!strcmp(cmd, "handover")) {
		/* Carried out by the main loop, as SIGUSR2 is. */
		fprintf(out, "handing over\n");
		kill(getpid(), SIGUSR2);
	} else if (!strcmp(cmd, "resources"))
		xb_res_report(out, false);
	else if (!strcmp(cmd, "resources json"))
		xb_res_report(out, true);
	else
		fprintf(out,
			"error: unknown command '%.32s' (list, list json, "
			"resources, resources json, resize DOMID DEVID, "
			"handover)\n",
			cmd);
	fclose(out);
	write_all(fd, answer, len);
	free(answer);
}

static void on_connection(void *arg, uint32_t events)
{
	struct xb_control *c = arg;
	int fd;

	(void)events;
	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	serve_client(c, fd);
	close(fd);
}

struct xb_control *xb_control_open(const char *path, struct xb_loop *loop,
				   struct xb_backend *be, int *err)
{
	struct xb_control *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa;
	mode_t old_umask;
	int rc;

	if (!c) {
		*err = -ENOMEM;
		return NULL;
	}
	c->fd = -1;
	c->loop = loop;
	c->be = be;
	rc = make_addr(&sa, path);
	if (rc)
		goto fail;
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (socket_alive(&sa)) {
		rc = -EADDRINUSE;
		goto fail;
	}
	unlink(path);
	make_parent_dir(path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		rc = -errno;
		goto fail;
	}
	old_umask = umask(0177);
	rc = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (rc < 0 || listen(c->fd, 8) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = xb_loop_add(loop, c->fd, EPOLLIN, on_connection, c);
	if (rc)
		goto fail;
	return c;
fail:
	if (c->fd >= 0) {
		close(c->fd);
		unlink(path);
	}
	free(c);
	*err = rc;
	return NULL;
}

void xb_control_close(struct xb_control *c)
{
	if (!c)
		return;
	xb_loop_del(c->loop, c->fd);
	close(c->fd);
	unlink(c->path);
	free(c);
}
