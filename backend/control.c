/*
 * control.c - the control socket (see control.h).
 */
#include "backend/control.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backend/log.h"
#include "backend/resources.h"

struct xb_control;

/* A client being served: its line read, then its answer sent. */
struct control_client {
	struct xb_control *c;
	struct control_client *next;
	int fd;
	uint64_t deadline_ms;	/* dropped then, done or not */
	char cmd[XB_CONTROL_CMD_MAX];
	size_t cmd_len;
	char *answer;		/* NULL while the line is read */
	size_t len, sent;
};

struct xb_control {
	int fd;
	int timer_fd;		/* deadlines, armed while clients exist */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct xb_loop *loop;
	struct xb_backend *be;
	struct control_client *clients;
	unsigned int nr_clients;
	struct xb_ratelimit rl;
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

/* ---- clients --------------------------------------------------------------- */

/*
 * Each client is served from the main loop as its bytes come, never by
 * waiting on it: the main thread also runs every device's lifecycle, and
 * a client slow to send its line (a xenbackctl preempted on a loaded
 * dom0, a hand-typed socat) held it for up to a second per read before.
 */
#define CONTROL_TICK_MS 200

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void compose_answer(struct xb_control *c, struct control_client *cl)
{
	char *cmd = cl->cmd;
	unsigned int domid, devid;
	char end;
	FILE *out;

	cmd[cl->cmd_len] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	out = open_memstream(&cl->answer, &cl->len);
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
}

/* Deadlines are looked at a few times a second while clients exist: an
 * idle daemon is not woken for them. */
static void arm_timer(struct xb_control *c, bool on)
{
	struct itimerspec its = { 0 };

	if (on) {
		its.it_interval.tv_nsec = CONTROL_TICK_MS * 1000000;
		its.it_value = its.it_interval;
	}
	timerfd_settime(c->timer_fd, 0, &its, NULL);
}

static void client_free(struct xb_control *c, struct control_client *cl)
{
	struct control_client **pp;

	for (pp = &c->clients; *pp != cl; pp = &(*pp)->next)
		;
	*pp = cl->next;
	if (--c->nr_clients == 0)
		arm_timer(c, false);
	xb_loop_del(c->loop, cl->fd);
	close(cl->fd);
	free(cl->answer);
	free(cl);
}

/* What the socket takes of the answer now; true once all is sent. */
static bool send_some(struct control_client *cl)
{
	while (cl->sent < cl->len) {
		ssize_t w = send(cl->fd, cl->answer + cl->sent,
				 cl->len - cl->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return false;
		if (w <= 0)
			return true; /* the client went: nothing more to do */
		cl->sent += (size_t)w;
	}
	return true;
}

/* The line read so far, more of it; true once it is complete. */
static bool read_some(struct control_client *cl, bool *gone)
{
	while (cl->cmd_len < sizeof(cl->cmd) - 1) {
		ssize_t r = read(cl->fd, cl->cmd + cl->cmd_len,
				 sizeof(cl->cmd) - 1 - cl->cmd_len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return false;
		if (r <= 0) {
			*gone = cl->cmd_len == 0;
			return true;
		}
		cl->cmd_len += (size_t)r;
		if (memchr(cl->cmd, '\n', cl->cmd_len))
			return true;
	}
	return true;
}

static void on_client_writable(void *arg, uint32_t events);

static void on_client_readable(void *arg, uint32_t events)
{
	struct control_client *cl = arg;
	struct xb_control *c = cl->c;
	bool gone = false;

	(void)events;
	if (!read_some(cl, &gone))
		return;
	if (!gone)
		compose_answer(c, cl);
	if (gone || !cl->answer || send_some(cl)) {
		client_free(c, cl);
		return;
	}
	/* The rest when the client reads. */
	xb_loop_del(c->loop, cl->fd);
	if (xb_loop_add(c->loop, cl->fd, EPOLLOUT, on_client_writable, cl))
		client_free(c, cl);
}

static void on_client_writable(void *arg, uint32_t events)
{
	struct control_client *cl = arg;

	(void)events;
	if (send_some(cl))
		client_free(cl->c, cl);
}

/* Clients past their time are dropped, as a blocking server would. */
static void on_client_timer(void *arg, uint32_t events)
{
	struct xb_control *c = arg;
	struct control_client *cl, *next;
	uint64_t ticks, now = now_ms();

	(void)events;
	if (read(c->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	for (cl = c->clients; cl; cl = next) {
		next = cl->next;
		if (now >= cl->deadline_ms)
			client_free(c, cl);
	}
}

static void add_client(struct xb_control *c, int fd)
{
	struct control_client *cl;

	if (c->nr_clients >= XB_CONTROL_MAX_CLIENTS) {
		xb_log_ratelimited(&c->rl, LOG_WARNING, -1, NULL,
				   "control socket: %u clients at once, one more refused",
				   c->nr_clients);
		close(fd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return;
	}
	*cl = (struct control_client){
		.c = c, .fd = fd, .next = c->clients,
		.deadline_ms = now_ms() + XB_CONTROL_TIMEOUT_MS,
	};
	if (xb_loop_add(c->loop, fd, EPOLLIN, on_client_readable, cl)) {
		close(fd);
		free(cl);
		return;
	}
	c->clients = cl;
	if (c->nr_clients++ == 0)
		arm_timer(c, true);
	/* Its line is most often there already. */
	on_client_readable(cl, EPOLLIN);
}

static void on_connection(void *arg, uint32_t events)
{
	struct xb_control *c = arg;
	unsigned int i;
	int fd;

	(void)events;
	/* A few a round: a flood of connections does not hold the loop. */
	for (i = 0; i < 8; i++) {
		fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		add_client(c, fd);
	}
}

static int open_client_timer(struct xb_control *c)
{
	c->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->timer_fd < 0)
		return -errno;
	return xb_loop_add(c->loop, c->timer_fd, EPOLLIN, on_client_timer, c);
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
	c->timer_fd = -1;
	c->loop = loop;
	c->be = be;
	xb_ratelimit_init(&c->rl);
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
	rc = open_client_timer(c);
	if (rc)
		goto fail;
	rc = xb_loop_add(loop, c->fd, EPOLLIN, on_connection, c);
	if (rc)
		goto fail;
	return c;
fail:
	if (c->timer_fd >= 0) {
		xb_loop_del(loop, c->timer_fd);
		close(c->timer_fd);
	}
	if (c->fd >= 0) {
		close(c->fd);
		unlink(path);
	}
	xb_ratelimit_destroy(&c->rl);
	free(c);
	*err = rc;
	return NULL;
}

void xb_control_close(struct xb_control *c)
{
	if (!c)
		return;
	/* What was sent is queued at the reader already (a unix socket):
	 * "handing over" is not lost; only the rest of an answer larger
	 * than the socket takes would be, at a stop. */
	while (c->clients)
		client_free(c, c->clients);
	xb_loop_del(c->loop, c->timer_fd);
	close(c->timer_fd);
	xb_loop_del(c->loop, c->fd);
	close(c->fd);
	unlink(c->path);
	xb_ratelimit_destroy(&c->rl);
	free(c);
}
