/*
 * service.c - the daemon process (see service.h).
 */
#include "backend/service.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "backend/backend.h"
#include "backend/config.h"
#include "backend/journal.h"
#include "backend/control.h"
#include "backend/defer.h"
#include "backend/log.h"
#include "backend/loop.h"
#include "xenstore/xbs.h"

#ifndef XENBACKD_VERSION
#define XENBACKD_VERSION "0.1"
#endif

struct service {
	const struct xb_kind *const *kinds;	/* built in */
	const char *config_path;
	bool config_required;			/* given with --config */
	bool foreground;
	int argc;
	char **argv;
	struct xb_config cfg;
	struct xbs xs;
	struct xb_loop loop;
	struct xb_backend *be;
	struct xb_control *control;
	int signal_fd;
	int watchdog_fd;
	int status_fd;		/* one-shot: a delayed STATUS update */
	int health_fd;		/* periodic: is xenstore still there? */
	bool failed;
	bool status_armed;
	uint64_t status_sent_ms;
	bool quit;
	bool handover;		/* SIGUSR2: leave the devices connected */
	unsigned int last_count, last_connected;
	bool status_sent;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xenbackd [OPTION]...\n"
		"Serve the backend half of Xen guests' paravirtual devices.\n\n"
		"  -c, --config FILE          configuration file (default %s)\n"
		"  -f, --foreground           stay in the foreground\n"
		"  -k, --kinds LIST           device types to serve (e.g. \"vbd,vif\")\n"
		"  -l, --log-level LEVEL      err, warning, notice, info, debug\n"
		"      --log-target TARGET    auto, journal, stderr\n"
		"  -s, --control-socket PATH  xenbackctl's socket (default %s)\n"
		"  -o, --set KEY=VALUE        a key of the configuration file, over\n"
		"                             the file and the environment\n"
		"                             (e.g. --set vbd-data=copy)\n"
		"  -h, --help                 this help\n"
		"  -V, --version              the version\n",
		XB_CONFIG_FILE, XB_CONTROL_SOCKET);
}

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "kinds", required_argument, NULL, 'k' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "log-target", required_argument, NULL, 'T' },
	{ "control-socket", required_argument, NULL, 's' },
	{ "set", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

#define SHORT_OPTIONS "c:fk:l:s:o:hV"
#define HEALTH_INTERVAL_S 5

/*
 * First pass: where the configuration is, --foreground, --help. Returns
 * -1 to go on, else an exit status.
 */
static int parse_early_options(struct service *s)
{
	int c;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(s->argc, s->argv, SHORT_OPTIONS, long_options,
				NULL)) != -1) {
		switch (c) {
		case 'c':
			s->config_path = optarg;
			s->config_required = true;
			break;
		case 'f':
			s->foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xenbackd %s\n", XENBACKD_VERSION);
			return 0;
		case 'k':
		case 'l':
		case 'T':
		case 's':
		case 'o':
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < s->argc) {
		fprintf(stderr, "xenbackd: unexpected argument '%s'\n",
			s->argv[optind]);
		return 2;
	}
	return -1;
}

/* --set KEY=VALUE */
static int apply_set_option(struct xb_config *cfg, const char *arg,
			    char *why, size_t whylen)
{
	const char *eq = strchr(arg, '=');
	char key[64];

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
		snprintf(why, whylen, "--set: '%.60s' is not KEY=VALUE", arg);
		return -EINVAL;
	}
	memcpy(key, arg, eq - arg);
	key[eq - arg] = '\0';
	if (!eq[1]) {
		snprintf(why, whylen, "--set: %.40s: missing value", key);
		return -EINVAL;
	}
	return xb_config_set(cfg, key, eq + 1, why, whylen);
}

/* Second pass: options override the file and the environment. */
static int apply_options(struct service *s, struct xb_config *cfg, char *err,
			 size_t errlen)
{
	static const char *const keys[128] = {
		['k'] = "kinds",
		['l'] = "log-level",
		['T'] = "log-target",
		['s'] = "control-socket",
	};
	char why[XB_CONFIG_ERR_MAX];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(s->argc, s->argv, SHORT_OPTIONS, long_options,
				NULL)) != -1) {
		if (c == 'o') {
			if (apply_set_option(cfg, optarg, why, sizeof(why))) {
				snprintf(err, errlen, "option %.200s", why);
				return -EINVAL;
			}
			continue;
		}
		if (c < 0 || c >= 128 || !keys[c])
			continue;
		if (xb_config_set(cfg, keys[c], optarg, why, sizeof(why))) {
			snprintf(err, errlen, "option %.200s", why);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct xb_kind *find_kind(struct service *s, const char *type)
{
	for (unsigned int i = 0; s->kinds[i]; i++)
		if (!strcmp(s->kinds[i]->type, type))
			return s->kinds[i];
	return NULL;
}

static void built_in_list(struct service *s, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; s->kinds[i] && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
			      s->kinds[i]->type);
	if (!s->kinds[0])
		snprintf(buf, size, "none");
}

/*
 * The configuration as a whole: file, then environment (kind settings
 * that name a variable), then options, then the kinds asked for exist.
 */
static int load_config(struct service *s, struct xb_config *cfg, char *err,
		       size_t errlen)
{
	char built[128];

	xb_config_defaults(cfg);
	cfg->known = s->kinds;
	if (xb_config_load(cfg, s->config_path, s->config_required, err,
			   errlen))
		return -EINVAL;
	xb_config_apply_env(cfg);
	if (apply_options(s, cfg, err, errlen))
		return -EINVAL;
	built_in_list(s, built, sizeof(built));
	for (unsigned int i = 0; cfg->kinds_set && i < cfg->nr_kinds; i++) {
		if (!find_kind(s, cfg->kinds[i])) {
			snprintf(err, errlen,
				 "kinds: '%s' is not built into this xenbackd (built in: %s)",
				 cfg->kinds[i], built);
			return -EINVAL;
		}
	}
	if (!cfg->kinds_set && !s->kinds[0]) {
		snprintf(err, errlen, "no device kind is built in");
		return -EINVAL;
	}
	return 0;
}

/*
 * Once logging is set up: the bad values of kind settings (one line each),
 * and every kind setting in force with where it comes from.
 */
static void log_kind_settings(const struct xb_config *cfg)
{
	char line[512];
	size_t n = 0;

	for (unsigned int i = 0; i < cfg->nr_warnings; i++)
		xb_warn("%s", cfg->warnings[i]);
	if (cfg->warnings_lost)
		xb_warn("%u more bad settings not shown", cfg->warnings_lost);
	line[0] = '\0';
	for (unsigned int i = 0; cfg->known && cfg->known[i]; i++) {
		const struct xb_kind *k = cfg->known[i];

		for (const struct xb_setting *st = k->settings; st && st->name;
		     st++) {
			const struct xb_config_value *v;
			int w;

			v = xb_config_value(cfg, k, st->name);
			w = snprintf(line + n, sizeof(line) - n,
				     "%s%s-%s = %s (%s%s%s)", n ? ", " : "",
				     k->type, st->name, v ? v->value : st->def,
				     v ? v->origin : "default",
				     v && st->env && !strcmp(v->via, st->env) ?
					     " " : "",
				     v && st->env && !strcmp(v->via, st->env) ?
					     st->env : "");
			if (w < 0 || (size_t)w >= sizeof(line) - n)
				break;
			n += w;
		}
	}
	if (n)
		xb_info("settings: %s", line);
}

static bool kind_wanted(const struct xb_config *cfg, const char *type)
{
	if (!cfg->kinds_set)
		return true;
	for (unsigned int i = 0; i < cfg->nr_kinds; i++)
		if (!strcmp(cfg->kinds[i], type))
			return true;
	return false;
}

static int serve_kinds(struct service *s)
{
	for (unsigned int i = 0; s->kinds[i]; i++) {
		const struct xb_kind *k = s->kinds[i];
		int rc;

		if (!kind_wanted(&s->cfg, k->type)) {
			xb_backend_set_enabled(s->be, k, false);
			continue;
		}
		rc = xb_backend_serve(s->be, k);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- systemd ----------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_status(struct service *s)
{
	unsigned int connected, n = xb_backend_count(s->be, &connected);

	s->last_count = n;
	s->last_connected = connected;
	s->status_sent = true;
	s->status_sent_ms = now_ms();
	sd_notifyf(0, "STATUS=%u device%s, %u connected", n, n == 1 ? "" : "s",
		   connected);
}

/*
 * STATUS follows the device count, but at most every
 * STATUS_INTERVAL_MS: sd_notify() blocks when the manager does not read,
 * and guests can change their devices' states at will.
 */
#define STATUS_INTERVAL_MS 1000

static void notify_status(struct service *s, bool force)
{
	unsigned int connected, n = xb_backend_count(s->be, &connected);
	struct itimerspec its = { 0 };
	uint64_t since;

	if (force) {
		send_status(s);
		return;
	}
	if (s->status_sent && n == s->last_count &&
	    connected == s->last_connected)
		return;
	since = now_ms() - s->status_sent_ms;
	if (since >= STATUS_INTERVAL_MS) {
		send_status(s);
		return;
	}
	if (s->status_armed || s->status_fd < 0)
		return;
	its.it_value.tv_nsec = (STATUS_INTERVAL_MS - since) * 1000000;
	if (timerfd_settime(s->status_fd, 0, &its, NULL) == 0)
		s->status_armed = true;
}

static void on_status_timer(void *arg, uint32_t events)
{
	struct service *s = arg;
	uint64_t ticks;

	(void)events;
	if (read(s->status_fd, &ticks, sizeof(ticks)) < 0)
		return;
	s->status_armed = false;
	notify_status(s, false);
}

static int setup_status_timer(struct service *s)
{
	s->status_fd = timerfd_create(CLOCK_MONOTONIC,
				      TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->status_fd < 0)
		return -errno;
	return xb_loop_add(&s->loop, s->status_fd, EPOLLIN, on_status_timer,
			   s);
}

/*
 * libxenstore gives no sign on its watch fd when xenstored goes away:
 * ask it something. Failing, the daemon stops with an error (and systemd
 * restarts it) rather than serve on blindly.
 */
static bool xenstore_alive(struct service *s)
{
	char *v;
	int rc = xbs_read_str(&s->xs, XBT_NULL, "domid", NULL, &v);

	if (rc) {
		xb_err("xenstore does not answer (%s): stopping",
		       strerror(-rc));
		s->quit = true;
		s->failed = true;
		return false;
	}
	free(v);
	return true;
}

static void on_watchdog(void *arg, uint32_t events)
{
	struct service *s = arg;
	uint64_t ticks;

	(void)events;
	if (read(s->watchdog_fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (xenstore_alive(s))
		sd_notify(0, "WATCHDOG=1");
}

static void on_health(void *arg, uint32_t events)
{
	struct service *s = arg;
	uint64_t ticks;

	(void)events;
	if (read(s->health_fd, &ticks, sizeof(ticks)) < 0)
		return;
	xenstore_alive(s);
	if (s->be)
		xb_backend_tick(s->be);
	/* A quiet daemon still tells of what it lost while journald was busy. */
	xb_log_report_dropped();
}

static int setup_health_timer(struct service *s)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = HEALTH_INTERVAL_S },
		.it_value = { .tv_sec = HEALTH_INTERVAL_S },
	};

	s->health_fd = timerfd_create(CLOCK_MONOTONIC,
				      TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->health_fd < 0)
		return -errno;
	if (timerfd_settime(s->health_fd, 0, &its, NULL) < 0)
		return -errno;
	return xb_loop_add(&s->loop, s->health_fd, EPOLLIN, on_health, s);
}

/* Pings at half the interval systemd expects. */
static int setup_watchdog(struct service *s)
{
	struct itimerspec its = { 0 };
	uint64_t usec;
	int rc;

	s->watchdog_fd = -1;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	usec /= 2;
	s->watchdog_fd = timerfd_create(CLOCK_MONOTONIC,
					TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->watchdog_fd < 0)
		return -errno;
	its.it_interval.tv_sec = usec / 1000000;
	its.it_interval.tv_nsec = (usec % 1000000) * 1000;
	its.it_value = its.it_interval;
	if (timerfd_settime(s->watchdog_fd, 0, &its, NULL) < 0)
		return -errno;
	rc = xb_loop_add(&s->loop, s->watchdog_fd, EPOLLIN, on_watchdog, s);
	if (rc)
		return rc;
	xb_debug("watchdog ping every %llu ms", (unsigned long long)usec / 1000);
	return 0;
}

/* ---- signals --------------------------------------------------------------- */

static void reload(struct service *s)
{
	char err[XB_CONFIG_ERR_MAX];
	struct xb_config cfg;

	sd_notify(0, "RELOADING=1");
	if (load_config(s, &cfg, err, sizeof(err))) {
		xb_err("reload: %s; keeping the running configuration", err);
		sd_notify(0, "READY=1");
		return;
	}
	if (strcmp(cfg.control_socket, s->cfg.control_socket))
		xb_warn("reload: control-socket changes only on restart");
	snprintf(cfg.control_socket, sizeof(cfg.control_socket), "%s",
		 s->cfg.control_socket);
	if (cfg.log_target != s->cfg.log_target)
		xb_log_init(s->foreground ? cfg.log_target : XB_LOG_JOURNAL);
	xb_log_set_level(cfg.log_level);
	for (unsigned int i = 0; s->kinds[i]; i++) {
		const struct xb_kind *k = s->kinds[i];
		bool was = kind_wanted(&s->cfg, k->type);
		bool now = kind_wanted(&cfg, k->type);

		if (was && !now)
			xb_notice("reload: no new %s devices are taken; existing ones keep running",
				  k->type);
	}
	s->cfg = cfg;
	xb_config_use(&s->cfg);
	log_kind_settings(&s->cfg);
	if (serve_kinds(s))
		xb_err("reload: cannot serve every kind asked for");
	xb_notice("configuration reloaded (log level %s)",
		  xb_log_level_name(cfg.log_level));
	sd_notify(0, "READY=1");
	notify_status(s, true);
}

static void on_signal(void *arg, uint32_t events)
{
	struct service *s = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			xb_notice("%s: stopping",
				  si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			s->quit = true;
			break;
		case SIGHUP:
			reload(s);
			break;
		case SIGUSR2:
			xb_notice("SIGUSR2: handing the devices over to a successor");
			s->handover = true;
			s->quit = true;
			break;
		}
	}
}

static int setup_signals(struct service *s)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	/* Blocked before any thread exists, so every thread inherits it. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	s->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->signal_fd < 0)
		return -errno;
	return xb_loop_add(&s->loop, s->signal_fd, EPOLLIN, on_signal, s);
}

/* ---- background ------------------------------------------------------------ */

/*
 * Forks; the parent exits once the child is ready (0) or has failed (1),
 * so that "xenbackd && xenbackctl" works. Returns the fd the child writes
 * its readiness to, or -1 in the foreground.
 */
static int daemonize(void)
{
	int p[2], null;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "xenbackd: pipe: %s\n", strerror(errno));
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "xenbackd: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		exit(1);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	return p[1];
}

static void report_ready(int ready_fd)
{
	if (ready_fd < 0)
		return;
	if (write(ready_fd, "", 1) < 0)
		xb_warn("cannot tell the parent process we are ready");
	close(ready_fd);
	/* From now on nobody reads our stderr. */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, STDERR_FILENO);
		close(null);
	}
}

/* ---- main ------------------------------------------------------------------ */

/*
 * The runtime directory (xb_run_dir()) is the control socket's folder,
 * which the unit keeps across restarts: kinds' records and the queues'
 * journals (backend/journal.h) live there.
 */
static void set_run_dir(const char *socket_path)
{
	char dir[XBS_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", socket_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
	xb_set_run_dir(dir);
	xb_journal_set_dir(dir);
}

static int run(struct service *s, int ready_fd)
{
	int rc, err;

	rc = xb_loop_init(&s->loop);
	if (rc) {
		xb_err("epoll: %s", strerror(-rc));
		return 1;
	}
	rc = setup_signals(s);
	if (rc) {
		xb_err("signals: %s", strerror(-rc));
		return 1;
	}
	if (xbs_open(&s->xs))
		return 1;
	xb_info("xenbackd %s in domain %u", XENBACKD_VERSION,
		s->xs.self_domid);
	s->be = xb_backend_new(&s->loop, &s->xs);
	if (!s->be)
		return 1;
	s->control = xb_control_open(s->cfg.control_socket, &s->loop, s->be,
				     &err);
	if (!s->control) {
		xb_err("control socket %s: %s", s->cfg.control_socket,
		       err == -EADDRINUSE ? "another xenbackd is running"
					  : strerror(-err));
		return 1;
	}
	set_run_dir(s->cfg.control_socket);
	rc = setup_watchdog(s);
	if (!rc)
		rc = setup_status_timer(s);
	if (!rc)
		rc = setup_health_timer(s);
	if (rc) {
		xb_err("timers: %s", strerror(-rc));
		return 1;
	}
	if (serve_kinds(s))
		return 1;
	/* Watches are in place and existing devices picked up. */
	sd_notify(0, "READY=1");
	notify_status(s, true);
	report_ready(ready_fd);

	while (!s->quit) {
		rc = xb_loop_dispatch(&s->loop, -1);
		if (rc < 0) {
			xb_err("epoll: %s", strerror(-rc));
			return 1;
		}
		if (xb_backend_fatal(s->be))
			break;
		notify_status(s, false);
	}
	if (s->handover && !xb_backend_fatal(s->be)) {
		sd_notify(0, "STOPPING=1\nSTATUS=handing over: devices stay connected");
		xb_backend_handover(s->be);
		xb_notice("handed over: devices left connected for the next xenbackd");
		return XB_EXIT_HANDOVER;
	}
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: closing devices");
	xb_backend_shutdown(s->be);
	if (xb_backend_fatal(s->be) || s->failed) {
		xb_err("stopped after a fatal error");
		return 1;
	}
	xb_notice("stopped");
	return 0;
}

static void cleanup(struct service *s)
{
	xb_control_close(s->control);
	xb_backend_free(s->be);
	/* What the devices deferred (backend/defer.h) is done before exit. */
	xb_defer_flush();
	xbs_close(&s->xs);
	if (s->watchdog_fd >= 0)
		close(s->watchdog_fd);
	if (s->status_fd >= 0)
		close(s->status_fd);
	if (s->health_fd >= 0)
		close(s->health_fd);
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	xb_loop_fini(&s->loop);
}

int xb_service_main(int argc, char **argv, const struct xb_kind *const *kinds)
{
	struct service s = {
		.kinds = kinds,
		.config_path = XB_CONFIG_FILE,
		.argc = argc,
		.argv = argv,
		.signal_fd = -1,
		.watchdog_fd = -1,
		.status_fd = -1,
		.health_fd = -1,
	};
	char err[XB_CONFIG_ERR_MAX];
	int rc, ready_fd = -1;

	rc = parse_early_options(&s);
	if (rc >= 0)
		return rc;
	if (load_config(&s, &s.cfg, err, sizeof(err))) {
		fprintf(stderr, "xenbackd: %s\n", err);
		return 2;
	}
	if (!s.foreground)
		ready_fd = daemonize();
	xb_log_init(s.foreground ? s.cfg.log_target : XB_LOG_JOURNAL);
	xb_log_set_level(s.cfg.log_level);
	xb_config_use(&s.cfg);
	log_kind_settings(&s.cfg);
	rc = run(&s, ready_fd);
	xb_config_use(NULL);
	cleanup(&s);
	return rc;
}
