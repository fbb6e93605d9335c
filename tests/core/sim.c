/*
 * sim.c - helpers for tests on the simulated host (see sim.h).
 */
#include "tests/core/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *sim_path(const char *fmt, ...)
{
	static char bufs[8][256];
	static unsigned int next;
	char *b = bufs[next++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, 256, fmt, ap);
	va_end(ap);
	return b;
}

const char *sim_xensim(void)
{
	const char *x = getenv("XENSIM");

	return x && *x ? x : "build/xensim/xensim";
}

static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Parses `xensim env HOST [DOMID]`: export K='V' / unset K lines. */
static unsigned int host_env(struct sim_host *h, int domid, char **env,
			     unsigned int max)
{
	char cmd[256], line[512];
	unsigned int n = 0;
	FILE *p;

	if (domid < 0)
		snprintf(cmd, sizeof(cmd), "%s env %s", sim_xensim(), h->dir);
	else
		snprintf(cmd, sizeof(cmd), "%s env %s %d", sim_xensim(),
			 h->dir, domid);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p) && n < max) {
		char *k, *v, *end;

		if (strncmp(line, "export ", 7))
			continue;
		k = line + 7;
		v = strchr(k, '=');
		if (!v)
			continue;
		*v++ = '\0';
		if (*v == '\'')
			v++;
		end = v + strcspn(v, "'\n");
		*end = '\0';
		if (asprintf(&env[n], "%s=%s", k, v) > 0)
			n++;
	}
	pclose(p);
	return n;
}

static void apply_env(char **env, unsigned int n)
{
	unsetenv("XENSTORED_PATH");
	for (unsigned int i = 0; i < n; i++)
		putenv(env[i]);
}

bool sim_host_start(struct sim_host *h)
{
	*h = (struct sim_host){ 0 };
	snprintf(h->dir, sizeof(h->dir), "/tmp/xb-core.XXXXXX");
	if (!mkdtemp(h->dir))
		return false;
	if (run("%s start %s", sim_xensim(), h->dir)) {
		fprintf(stderr, "xensim start failed\n");
		return false;
	}
	h->nr_env = host_env(h, -1, h->env, SIM_ENV_MAX);
	setenv("XENSTORED_RUNDIR", sim_path("%s/xenstored", h->dir), 1);
	unsetenv("XENSTORED_PATH");
	h->xs = xs_open(0);
	if (!h->xs) {
		fprintf(stderr, "cannot open the host's xenstore: %s\n",
			strerror(errno));
		return false;
	}
	return true;
}

void sim_host_stop(struct sim_host *h)
{
	if (h->xs)
		xs_close(h->xs);
	h->xs = NULL;
	if (h->dir[0]) {
		run("%s stop %s", sim_xensim(), h->dir);
		run("rm -rf %s", h->dir);
	}
	for (unsigned int i = 0; i < h->nr_env; i++)
		free(h->env[i]);
	h->nr_env = 0;
}

bool sim_domain_create(struct sim_host *h, unsigned int domid)
{
	return run("%s create %s %u", sim_xensim(), h->dir, domid) == 0;
}

bool sim_domain_destroy(struct sim_host *h, unsigned int domid)
{
	return run("%s destroy %s %u", sim_xensim(), h->dir, domid) == 0;
}

/* ---- the daemon --------------------------------------------------------- */

bool sim_daemon_start(struct sim_host *h, struct sim_daemon *d,
		      const char *bin, const char *extra_env, ...)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *argv[32];
	unsigned int argc = 0;
	va_list ap;
	const char *a;

	*d = (struct sim_daemon){ .notify_fd = -1 };
	snprintf(d->log, sizeof(d->log), "%s/daemon.log", h->dir);
	snprintf(d->sock, sizeof(d->sock), "%s/ctl.sock", h->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify.sock", h->dir);
	unlink(sa.sun_path);
	d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->notify_fd < 0 ||
	    bind(d->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return false;
	argv[argc++] = bin;
	argv[argc++] = "-f";
	argv[argc++] = "--log-target";
	argv[argc++] = "stderr";
	argv[argc++] = "-l";
	argv[argc++] = "debug";
	argv[argc++] = "-s";
	argv[argc++] = d->sock;
	va_start(ap, extra_env);
	while ((a = va_arg(ap, const char *)) && argc < 30)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	d->pid = fork();
	if (d->pid < 0)
		return false;
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		apply_env(h->env, h->nr_env);
		setenv("NOTIFY_SOCKET", sa.sun_path, 1);
		unsetenv("WATCHDOG_USEC");
		unsetenv("JOURNAL_STREAM");
		if (extra_env)
			putenv((char *)extra_env);
		execv(bin, (char **)argv);
		_exit(127);
	}
	return true;
}

static void read_notes(struct sim_daemon *d, int timeout_ms)
{
	struct pollfd p = { .fd = d->notify_fd, .events = POLLIN };
	char buf[1024];
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return;
	n = recv(d->notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (d->notes_len + n + 2 < sizeof(d->notes)) {
		memcpy(d->notes + d->notes_len, buf, n);
		d->notes_len += n;
		d->notes[d->notes_len++] = '|';
		d->notes[d->notes_len] = '\0';
	}
}

bool sim_daemon_wait_notify(struct sim_daemon *d, const char *s,
			    int timeout_ms)
{
	long end = now_ms() + timeout_ms;

	while (!strstr(d->notes, s)) {
		long left = end - now_ms();

		if (left <= 0)
			return false;
		read_notes(d, left);
	}
	return true;
}

static int wait_exit(struct sim_daemon *d, int timeout_ms, bool term)
{
	long end = now_ms() + timeout_ms;
	int status;

	if (d->pid <= 0)
		return -1;
	if (term)
		kill(d->pid, SIGTERM);
	while (now_ms() < end) {
		pid_t r = waitpid(d->pid, &status, WNOHANG);

		if (r == d->pid) {
			d->pid = 0;
			/* Keep the notifications sent while stopping. */
			while (d->notify_fd >= 0) {
				size_t before = d->notes_len;

				read_notes(d, 0);
				if (d->notes_len == before)
					break;
			}
			close(d->notify_fd);
			d->notify_fd = -1;
			return WIFEXITED(status) ? WEXITSTATUS(status)
						 : 128 + WTERMSIG(status);
		}
		read_notes(d, 10);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	close(d->notify_fd);
	d->notify_fd = -1;
	return -1;
}

int sim_daemon_stop(struct sim_daemon *d, int timeout_ms)
{
	return wait_exit(d, timeout_ms, true);
}

int sim_daemon_wait_exit(struct sim_daemon *d, int timeout_ms)
{
	return wait_exit(d, timeout_ms, false);
}

char *sim_ctl(struct sim_daemon *d, bool json)
{
	return sim_ctl_args(d, json ? "--json" : "");
}

char *sim_ctl_args(struct sim_daemon *d, const char *args)
{
	char cmd[256], *out = NULL;
	size_t len = 0;
	FILE *p, *m;
	int c;

	snprintf(cmd, sizeof(cmd), "%s %s -s %s", getenv("XENBACKCTL") ?
		 getenv("XENBACKCTL") : "build/xenbackctl", args, d->sock);
	p = popen(cmd, "r");
	m = open_memstream(&out, &len);
	while (p && (c = fgetc(p)) != EOF)
		fputc(c, m);
	if (p)
		pclose(p);
	fclose(m);
	return out;
}

int sim_log_count(struct sim_daemon *d, const char *s)
{
	FILE *f = fopen(d->log, "r");
	char line[1024];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, s))
			n++;
	fclose(f);
	return n;
}

/* ---- guests --------------------------------------------------------------- */

static bool read_answer(struct sim_guest *g, int timeout_ms)
{
	size_t n = 0;
	long end = now_ms() + timeout_ms;

	g->last[0] = '\0';
	while (n < sizeof(g->last) - 1) {
		struct pollfd p = { .fd = g->out, .events = POLLIN };
		long left = end - now_ms();
		char c;

		if (left <= 0 || poll(&p, 1, left) != 1)
			return false;
		if (read(g->out, &c, 1) != 1)
			return false;
		if (c == '\n')
			break;
		g->last[n++] = c;
		g->last[n] = '\0';
	}
	return true;
}

bool sim_guest_start(struct sim_host *h, struct sim_guest *g,
		     unsigned int domid)
{
	int in[2], out[2];
	char *env[SIM_ENV_MAX];
	unsigned int n;

	*g = (struct sim_guest){ 0 };
	n = host_env(h, domid, env, SIM_ENV_MAX);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return false;
	g->pid = fork();
	if (g->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		apply_env(env, n);
		execl(getenv("XBTFRONT") ? getenv("XBTFRONT")
					 : "build/tests/core/xbtfront",
		      "xbtfront", (char *)NULL);
		_exit(127);
	}
	for (unsigned int i = 0; i < n; i++)
		free(env[i]);
	close(in[0]);
	close(out[1]);
	g->in = in[1];
	g->out = out[0];
	return g->pid > 0 && read_answer(g, 5000) &&
	       !strncmp(g->last, "ok", 2);
}

bool sim_guest_cmd(struct sim_guest *g, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	if (write(g->in, line, n) != n)
		return false;
	if (!read_answer(g, 15000))
		return false;
	return !strncmp(g->last, "ok", 2);
}

void sim_guest_stop(struct sim_guest *g)
{
	int status;

	if (g->pid <= 0)
		return;
	if (write(g->in, "quit\n", 5) < 0)
		kill(g->pid, SIGKILL);
	close(g->in);
	close(g->out);
	for (int i = 0; i < 200; i++) {
		if (waitpid(g->pid, &status, WNOHANG) == g->pid) {
			g->pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(g->pid, SIGKILL);
	waitpid(g->pid, &status, 0);
	g->pid = 0;
}

/* ---- xenstore as the toolstack ---------------------------------------------- */

bool sim_write(struct sim_host *h, const char *path, const char *value)
{
	return xs_write(h->xs, XBT_NULL, path, value, strlen(value));
}

char *sim_read(struct sim_host *h, const char *path)
{
	unsigned int len;

	return xs_read(h->xs, XBT_NULL, path, &len);
}

bool sim_rm(struct sim_host *h, const char *path)
{
	return xs_rm(h->xs, XBT_NULL, path);
}

bool sim_wait(struct sim_host *h, const char *path, const char *value,
	      int timeout_ms)
{
	long end = now_ms() + timeout_ms;

	for (;;) {
		char *v = sim_read(h, path);
		bool ok = value ? v && !strcmp(v, value) : !v;

		free(v);
		if (ok)
			return true;
		if (now_ms() >= end)
			return false;
		usleep(5000);
	}
}

static bool write_dir(struct xs_handle *xs, xs_transaction_t t,
		      const char *dir, unsigned int owner, unsigned int reader)
{
	struct xs_permissions perms[2] = {
		{ .id = owner, .perms = XS_PERM_NONE },
		{ .id = reader, .perms = XS_PERM_READ },
	};

	return xs_mkdir(xs, t, dir) && xs_set_permissions(xs, t, dir, perms, 2);
}

bool sim_add_device(struct sim_host *h, const char *type, unsigned int domid,
		    unsigned int devid, ...)
{
	const char *be = sim_path("/local/domain/0/backend/%s/%u/%u", type,
				  domid, devid);
	const char *fe = sim_path("/local/domain/%u/device/%s/%u", domid, type,
				  devid);
	char bebuf[256], febuf[256];
	va_list ap;

	snprintf(bebuf, sizeof(bebuf), "%s", be);
	snprintf(febuf, sizeof(febuf), "%s", fe);
	for (int attempt = 0; attempt < 10; attempt++) {
		xs_transaction_t t = xs_transaction_start(h->xs);
		const char *kv;
		bool ok;

#define W(dir, node, val)                                                      \
	xs_write(h->xs, t, sim_path("%s/%s", dir, node), val, strlen(val))
		/* As libxl: whatever was there goes first. */
		xs_rm(h->xs, t, febuf);
		xs_rm(h->xs, t, bebuf);
		ok = write_dir(h->xs, t, febuf, domid, 0) &&
		     W(febuf, "backend", bebuf) &&
		     W(febuf, "backend-id", "0") && W(febuf, "state", "1") &&
		     write_dir(h->xs, t, bebuf, 0, domid) &&
		     W(bebuf, "frontend", febuf) &&
		     W(bebuf, "frontend-id", sim_path("%u", domid)) &&
		     W(bebuf, "online", "1");
		va_start(ap, devid);
		while (ok && (kv = va_arg(ap, const char *))) {
			char k[64];
			const char *eq = strchr(kv, '=');

			if (kv[0] == '-') {
				ok = xs_rm(h->xs, t,
					   sim_path("%s/%s", bebuf, kv + 1));
				continue;
			}
			if (!eq)
				continue;
			snprintf(k, sizeof(k), "%.*s", (int)(eq - kv), kv);
			ok = W(bebuf, k, eq + 1);
		}
		va_end(ap);
		/* state last, as the directory is complete with it. */
		ok = ok && W(bebuf, "state", "1");
#undef W
		if (!ok) {
			xs_transaction_end(h->xs, t, true);
			return false;
		}
		if (xs_transaction_end(h->xs, t, false))
			return true;
		if (errno != EAGAIN)
			return false;
	}
	return false;
}
