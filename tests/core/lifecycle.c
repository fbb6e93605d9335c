/*
 * lifecycle.c - the daemon on the simulated host: device discovery, the
 * xenbus state machine with a frontend in a simulated guest, hot-unplug,
 * domain death, start and stop, systemd notification, configuration.
 *
 * Runs the daemon binary given as argv[1] (the service with the test kind
 * "xbt", build/tests/core/xenbackd-test, or an ASan build of it); each
 * case starts its own host. One PASS/FAIL line per case; a failure shows
 * the end of the daemon's log.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/core/sim.h"

#define BE(dom, dev) sim_path("/local/domain/0/backend/xbt/%u/%u", dom, dev)
#define FE(dom, dev) sim_path("/local/domain/%u/device/xbt/%u", dom, dev)
#define STATE_WAIT_MS 5000

static const char *daemon_bin;
static int failures;

struct ctx {
	struct sim_host h;
	struct sim_daemon d;
	struct sim_guest g;
	char why[512];
};

static bool fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return false;
}

static void show_log(struct ctx *c)
{
	char cmd[256];

	printf("  --- daemon log (last lines) ---\n");
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "tail -n 25 %s | sed 's/^/  | /'", c->d.log);
	if (system(cmd) < 0)
		return;
}

/* The host with domain 5 (and 6), the daemon running and READY. */
static bool setup(struct ctx *c, bool start_daemon)
{
	if (!sim_host_start(&c->h))
		return fail(c, "cannot start a simulated host");
	if (!sim_domain_create(&c->h, 5) || !sim_domain_create(&c->h, 6))
		return fail(c, "cannot create domains");
	if (!start_daemon)
		return true;
	if (!sim_daemon_start(&c->h, &c->d, daemon_bin, NULL, NULL))
		return fail(c, "cannot start the daemon");
	if (!sim_daemon_wait_notify(&c->d, "READY=1", 5000))
		return fail(c, "no READY=1 within 5 s");
	return true;
}

static void teardown(struct ctx *c)
{
	sim_guest_stop(&c->g);
	if (c->d.pid > 0)
		sim_daemon_stop(&c->d, 5000);
	sim_host_stop(&c->h);
}

static bool wait_state(struct ctx *c, unsigned int dom, unsigned int dev,
		       const char *state)
{
	if (sim_wait(&c->h, sim_path("%s/state", BE(dom, dev)), state,
		     STATE_WAIT_MS))
		return true;
	char *v = sim_read(&c->h, sim_path("%s/state", BE(dom, dev)));

	fail(c, "backend xbt/%u/%u state %s, want %s", dom, dev,
	     v ? v : "(absent)", state);
	free(v);
	return false;
}

static bool guest(struct ctx *c, unsigned int domid)
{
	if (!sim_guest_start(&c->h, &c->g, domid))
		return fail(c, "guest %u does not start: %s", domid,
			    c->g.last);
	return true;
}

static bool gcmd(struct ctx *c, const char *cmd)
{
	if (sim_guest_cmd(&c->g, "%s", cmd))
		return true;
	return fail(c, "guest '%s': %s", cmd, c->g.last);
}

static bool ctl_has(struct ctx *c, bool json, const char *s)
{
	char *out = sim_ctl(&c->d, json);
	bool ok = out && strstr(out, s);

	if (!ok)
		fail(c, "xenbackctl%s lacks '%s': %s", json ? " --json" : "", s,
		     out ? out : "(nothing)");
	free(out);
	return ok;
}

/*
 * "xenbackctl resources --json" has s (want true) or lacks it (false),
 * within a second: workers release asynchronously.
 */
static bool res_has(struct ctx *c, bool want, const char *s)
{
	char *out = NULL;
	bool has = false;

	for (int i = 0; i < 50; i++) {
		free(out);
		out = sim_ctl_args(&c->d, "--json resources");
		has = out && strstr(out, s);
		if (has == want)
			break;
		usleep(20000);
	}
	if (has != want)
		fail(c, "xenbackctl resources %s '%s': %s",
		     want ? "lacks" : "has", s, out ? out : "(nothing)");
	free(out);
	return has == want;
}

/* Waits until the daemon's log has s exactly once. */
static bool log_once(struct ctx *c, const char *s)
{
	int n = 0;

	for (int i = 0; i < 500; i++) {
		n = sim_log_count(&c->d, s);
		if (n >= 1)
			break;
		usleep(10000);
	}
	usleep(20000);
	n = sim_log_count(&c->d, s);
	if (n != 1)
		return fail(c, "'%s' logged %d times, want once", s, n);
	return true;
}

static bool node_is(struct ctx *c, const char *path, const char *want)
{
	char *v = sim_read(&c->h, path);
	bool ok = v && !strcmp(v, want);

	if (!ok)
		fail(c, "%s is '%s', want '%s'", path, v ? v : "(absent)", want);
	free(v);
	return ok;
}

/* ---- cases ---------------------------------------------------------------- */

static bool t_initwait(struct ctx *c)
{
	return setup(c, true) && sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2") &&
	       node_is(c, sim_path("%s/feature-test", BE(5, 1)), "1") &&
	       ctl_has(c, false, "InitWait");
}

static bool t_connect(struct ctx *c)
{
	return setup(c, true) && sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2") && guest(c, 5) &&
	       gcmd(c, "connect 1") && wait_state(c, 5, 1, "4") &&
	       gcmd(c, "ping 1") && gcmd(c, "ping 1") &&
	       ctl_has(c, false, "Connected") &&
	       ctl_has(c, true, "\"state\": \"Connected\"") &&
	       ctl_has(c, true, "\"events\": 2") &&
	       ctl_has(c, true, "\"frontend_state\": \"Connected\"");
}

static bool t_multipage(struct ctx *c)
{
	return setup(c, true) && sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2") && guest(c, 5) &&
	       gcmd(c, "connect 1 2") && gcmd(c, "ping 1") &&
	       gcmd(c, "pages 1") &&
	       (!strcmp(c->g.last, "ok 4") ||
		fail(c, "backend mapped '%s' pages, want 4", c->g.last)) &&
	       ctl_has(c, true, "\"ring-pages\": \"4\"") &&
	       ctl_has(c, true,
		       "\"ring_pages_mapped\": 4, \"channels_bound\": 1") &&
	       res_has(c, true,
		       "{\"domain\": 5, \"ring_pages\": 4, \"grants\": 0, "
		       "\"channels\": 1, \"fds\": 0}") &&
	       res_has(c, true,
		       "\"total\": {\"ring_pages\": 4, \"grants\": 0, "
		       "\"channels\": 1, \"fds\": 0}");
}

static bool t_hotplug_wait(struct ctx *c)
{
	/* Connected only once hotplug-status says so. */
	return setup(c, true) &&
	       sim_add_device(&c->h, "xbt", 5, 1, "hotplug-status=", NULL) &&
	       wait_state(c, 5, 1, "2") && guest(c, 5) &&
	       gcmd(c, "prepare 1") && usleep(300000) == 0 &&
	       node_is(c, sim_path("%s/state", BE(5, 1)), "2") &&
	       sim_write(&c->h, sim_path("%s/hotplug-status", BE(5, 1)),
			 "connected") &&
	       wait_state(c, 5, 1, "4");
}

static bool t_close_reconnect(struct ctx *c)
{
	return setup(c, true) && sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2") && guest(c, 5) &&
	       gcmd(c, "connect 1") && gcmd(c, "ping 1") &&
	       /* close ends grant access: fails while still mapped */
	       gcmd(c, "close 1") && wait_state(c, 5, 1, "6") &&
	       ctl_has(c, true,
		       "\"ring_pages_mapped\": 0, \"channels_bound\": 0") &&
	       res_has(c, true, "\"domains\": []") &&
	       gcmd(c, "state 1 1") && wait_state(c, 5, 1, "2") &&
	       gcmd(c, "connect 1") && gcmd(c, "ping 1") &&
	       ctl_has(c, false, "Connected");
}

static bool t_frontend_restart(struct ctx *c)
{
	/* kexec: the frontend starts over without closing. */
	return setup(c, true) && sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2") && guest(c, 5) &&
	       gcmd(c, "connect 1") && gcmd(c, "state 1 1") &&
	       wait_state(c, 5, 1, "2") && gcmd(c, "endaccess 1") &&
	       gcmd(c, "connect 1") && gcmd(c, "ping 1");
}

static bool t_unplug_connected(struct ctx *c)
{
	/* As libxl detaches: online=0 and state Closing, then waits for
	 * Closed; the frontend sees Closing and closes. */
	return setup(c, true) && sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2") && guest(c, 5) &&
	       gcmd(c, "connect 1") &&
	       sim_write(&c->h, sim_path("%s/online", BE(5, 1)), "0") &&
	       sim_write(&c->h, sim_path("%s/state", BE(5, 1)), "5") &&
	       gcmd(c, "close 1") && wait_state(c, 5, 1, "6") &&
	       sim_rm(&c->h, BE(5, 1)) && sim_rm(&c->h, FE(5, 1)) &&
	       log_once(c, "xbt/5/1: removed") && ctl_has(c, true, "[]");
}

static bool t_unplug_idle(struct ctx *c)
{
	return setup(c, true) && sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2") &&
	       sim_write(&c->h, sim_path("%s/online", BE(5, 1)), "0") &&
	       sim_write(&c->h, sim_path("%s/state", BE(5, 1)), "5") &&
	       wait_state(c, 5, 1, "6");
}

static bool t_domain_destroyed(struct ctx *c)
{
	struct sim_guest g6;
	bool ok;

	if (!setup(c, true) || !sim_add_device(&c->h, "xbt", 5, 1, NULL) ||
	    !sim_add_device(&c->h, "xbt", 6, 1, NULL) ||
	    !wait_state(c, 5, 1, "2") || !guest(c, 5) || !gcmd(c, "connect 1"))
		return false;
	if (!sim_guest_start(&c->h, &g6, 6))
		return fail(c, "guest 6 does not start");
	ok = sim_guest_cmd(&g6, "connect 1") ||
	     fail(c, "guest 6 connect: %s", g6.last);
	/* Domain 5 dies with its device connected. */
	ok = ok && (sim_domain_destroy(&c->h, 5) ||
		    fail(c, "xensim destroy failed"));
	ok = ok && (sim_wait(&c->h, sim_path("%s/state", BE(5, 1)), "6",
			     STATE_WAIT_MS) ||
		    !sim_read(&c->h, BE(5, 1)) ||
		    fail(c, "device of the dead domain not Closed"));
	ok = ok && log_once(c, "frontend domain 5 is gone");
	ok = ok && ctl_has(c, true, "\"name\": \"xbt/5/1\", \"state\": \"Closed\"");
	ok = ok && ctl_has(c, true,
			   "\"ring_pages_mapped\": 0, \"channels_bound\": 0");
	ok = ok && res_has(c, false, "\"domain\": 5,") &&
	     res_has(c, true, "\"domain\": 6, \"ring_pages\": 1,");
	/* The other guest is unaffected. */
	ok = ok && (sim_guest_cmd(&g6, "ping 1") ||
		    fail(c, "guest 6 ping after 5 died: %s", g6.last));
	ok = ok && ctl_has(c, true, "\"name\": \"xbt/6/1\", \"state\": \"Connected\"");
	sim_guest_stop(&g6);
	return ok;
}

static bool t_domid_reused(struct ctx *c)
{
	/* The toolstack did not remove the dead domain's device; a new
	 * domain gets the same id and the device is written again. */
	if (!setup(c, true) || !sim_add_device(&c->h, "xbt", 5, 1, NULL) ||
	    !wait_state(c, 5, 1, "2") || !guest(c, 5) || !gcmd(c, "connect 1"))
		return false;
	sim_guest_stop(&c->g);
	if (!sim_domain_destroy(&c->h, 5) ||
	    !log_once(c, "frontend domain 5 is gone"))
		return false;
	if (!sim_domain_create(&c->h, 5))
		return fail(c, "cannot create domain 5 again");
	return sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2") && guest(c, 5) &&
	       gcmd(c, "connect 1") && gcmd(c, "ping 1");
}

static bool t_started_after(struct ctx *c)
{
	/* The frontend is Initialised before the daemon exists. */
	if (!setup(c, false) || !sim_add_device(&c->h, "xbt", 5, 1, NULL) ||
	    !sim_add_device(&c->h, "xbt", 5, 2, NULL) || !guest(c, 5))
		return false;
	if (sim_guest_cmd(&c->g, "connect 1"))
		return fail(c, "connected without a daemon");
	if (!sim_daemon_start(&c->h, &c->d, daemon_bin, NULL, NULL))
		return fail(c, "cannot start the daemon");
	return wait_state(c, 5, 1, "4") && wait_state(c, 5, 2, "2") &&
	       gcmd(c, "state 1 4") && gcmd(c, "ping 1");
}

static bool t_sigterm(struct ctx *c)
{
	int rc;

	if (!setup(c, true) || !sim_add_device(&c->h, "xbt", 5, 1, NULL) ||
	    !sim_add_device(&c->h, "xbt", 5, 2, NULL) ||
	    !wait_state(c, 5, 1, "2") || !guest(c, 5) ||
	    !gcmd(c, "connect 1") || !gcmd(c, "connect 2") ||
	    !gcmd(c, "ping 2"))
		return false;
	rc = sim_daemon_stop(&c->d, 10000);
	if (rc != 0)
		return fail(c, "daemon exit status %d, want 0", rc);
	return node_is(c, sim_path("%s/state", BE(5, 1)), "6") &&
	       node_is(c, sim_path("%s/state", BE(5, 2)), "6") &&
	       /* nothing mapped any more */
	       gcmd(c, "endaccess 1") && gcmd(c, "endaccess 2") &&
	       (sim_daemon_wait_notify(&c->d, "STOPPING=1", 0) ||
		fail(c, "no STOPPING=1: %s", c->d.notes));
}

static bool t_restart(struct ctx *c)
{
	/* Stopped and started again while the guest runs: the guest, as
	 * Linux does, goes Closed, then reconnects on InitWait. */
	return setup(c, true) && sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2") && guest(c, 5) &&
	       gcmd(c, "connect 1") && sim_daemon_stop(&c->d, 10000) == 0 &&
	       gcmd(c, "state 1 6") && gcmd(c, "endaccess 1") &&
	       sim_daemon_start(&c->h, &c->d, daemon_bin, NULL, NULL) &&
	       wait_state(c, 5, 1, "2") && usleep(300000) == 0 &&
	       node_is(c, sim_path("%s/state", BE(5, 1)), "2") &&
	       gcmd(c, "connect 1") && gcmd(c, "ping 1");
}

static bool t_crash_restart(struct ctx *c)
{
	/* Killed outright: the backend stays Connected in xenstore; a new
	 * daemon attaches to the ring in use without the guest noticing. */
	if (!setup(c, true) || !sim_add_device(&c->h, "xbt", 5, 1, NULL) ||
	    !wait_state(c, 5, 1, "2") || !guest(c, 5) ||
	    !gcmd(c, "connect 1") || !gcmd(c, "ping 1"))
		return false;
	kill(c->d.pid, SIGKILL);
	sim_daemon_wait_exit(&c->d, 5000); /* reaps it */
	return node_is(c, sim_path("%s/state", BE(5, 1)), "4") &&
	       sim_daemon_start(&c->h, &c->d, daemon_bin, NULL, NULL) &&
	       sim_daemon_wait_notify(&c->d, "READY=1", 5000) &&
	       wait_state(c, 5, 1, "4") && gcmd(c, "ping 1") &&
	       gcmd(c, "ping 1") &&
	       log_once(c, "xbt/5/1: Connected (resumed)") &&
	       /* once, by the first daemon: the log file is shared */
	       (sim_log_count(&c->d, "xbt/5/1: InitWait\n") == 1 ||
		fail(c, "the adopted device went through InitWait"));
}

static bool t_handover(struct ctx *c)
{
	/* SIGUSR2 (xenbackctl restart): exit 75, nothing written, the
	 * guest sees a pause; the successor adopts the device in use. */
	int rc;

	if (!setup(c, true) || !sim_add_device(&c->h, "xbt", 5, 1, NULL) ||
	    !wait_state(c, 5, 1, "2") || !guest(c, 5) ||
	    !gcmd(c, "connect 1 1") || !gcmd(c, "ping 1"))
		return false;
	kill(c->d.pid, SIGUSR2);
	rc = sim_daemon_wait_exit(&c->d, 10000);
	if (rc != 75)
		return fail(c, "handover exit status %d, want 75", rc);
	return node_is(c, sim_path("%s/state", BE(5, 1)), "4") &&
	       (sim_daemon_wait_notify(&c->d, "STOPPING=1", 0) ||
		fail(c, "no STOPPING=1: %s", c->d.notes)) &&
	       log_once(c, "handed over: devices left connected") &&
	       /* nothing mapped: the guest could end access now */
	       sim_daemon_start(&c->h, &c->d, daemon_bin, NULL, NULL) &&
	       sim_daemon_wait_notify(&c->d, "READY=1", 5000) &&
	       log_once(c, "xbt/5/1: adopting the device in use") &&
	       log_once(c, "xbt/5/1: Connected (resumed)") &&
	       node_is(c, sim_path("%s/state", BE(5, 1)), "4") &&
	       gcmd(c, "ping 1") && gcmd(c, "pages 1") &&
	       (!strcmp(c->g.last, "ok 2") ||
		fail(c, "backend mapped '%s' pages, want 2", c->g.last)) &&
	       ctl_has(c, true, "\"state\": \"Connected\"");
}

static bool t_malformed(struct ctx *c)
{
	static const struct {
		unsigned int devid;
		const char *node;
		const char *error;
	} bad[] = {
		{ 11, "frontend-id=5x", "frontend-id is not a canonical number" },
		{ 12, "frontend-id=6", "frontend-id 6 does not match" },
		{ 13, "frontend=/local/domain/0/backend", "is not a directory under /local/domain/5/" },
		{ 14, "-frontend", "backend node frontend is missing" },
		{ 15, "online=yes", "backend node online is not a canonical number" },
		{ 16, "test-probe=fail", "test-probe asks to fail" },
	};

	if (!setup(c, true))
		return false;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!sim_add_device(&c->h, "xbt", 5, bad[i].devid, bad[i].node,
				    NULL))
			return fail(c, "cannot add device %u", bad[i].devid);
	/* A good device of the same guest works regardless. */
	if (!sim_add_device(&c->h, "xbt", 5, 1, NULL) ||
	    !wait_state(c, 5, 1, "2") || !guest(c, 5) || !gcmd(c, "connect 1"))
		return false;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned int d = bad[i].devid;
		char *err;

		if (!wait_state(c, 5, d, "6"))
			return false;
		err = sim_read(&c->h, sim_path("%s/error", BE(5, d)));
		if (!err || !strstr(err, bad[i].error)) {
			fail(c, "xbt/5/%u error node '%s', want '%s'", d,
			     err ? err : "(absent)", bad[i].error);
			free(err);
			return false;
		}
		free(err);
		if (sim_log_count(&c->d, bad[i].error) != 1)
			return fail(c, "'%s' logged %d times, want once",
				    bad[i].error,
				    sim_log_count(&c->d, bad[i].error));
	}
	return gcmd(c, "ping 1");
}

static bool t_malformed_dirs(struct ctx *c)
{
	/* Directory names that are not numbers: a warning, nothing else. */
	return setup(c, true) &&
	       sim_write(&c->h, "/local/domain/0/backend/xbt/abc/1/state", "1") &&
	       sim_write(&c->h, "/local/domain/0/backend/xbt/5/x1/state", "1") &&
	       sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2") &&
	       log_once(c, "'abc' is not a domain id") &&
	       log_once(c, "'x1' is not a device id");
}

static bool t_recover_after_fix(struct ctx *c)
{
	/* The toolstack fixes a bad node: the device is tried again. */
	return setup(c, true) &&
	       sim_add_device(&c->h, "xbt", 5, 1, "frontend-id=x", NULL) &&
	       wait_state(c, 5, 1, "6") &&
	       sim_write(&c->h, sim_path("%s/frontend-id", BE(5, 1)), "5") &&
	       wait_state(c, 5, 1, "2") &&
	       (sim_wait(&c->h, sim_path("%s/error", BE(5, 1)), NULL, 1000) ||
		fail(c, "error node not cleared"));
}

static bool t_notify(struct ctx *c)
{
	if (!setup(c, false))
		return false;
	if (!sim_daemon_start(&c->h, &c->d, daemon_bin, "WATCHDOG_USEC=200000",
			      NULL))
		return fail(c, "cannot start");
	return (sim_daemon_wait_notify(&c->d, "READY=1", 5000) ||
		fail(c, "no READY=1: %s", c->d.notes)) &&
	       (sim_daemon_wait_notify(&c->d, "STATUS=0 devices, 0 connected",
				       1000) ||
		fail(c, "no STATUS with no device: %s", c->d.notes)) &&
	       sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       (sim_daemon_wait_notify(&c->d, "STATUS=1 device, 0 connected",
				       3000) ||
		fail(c, "no STATUS after a device: %s", c->d.notes)) &&
	       (sim_daemon_wait_notify(&c->d, "WATCHDOG=1", 1000) ||
		fail(c, "no WATCHDOG=1 within 1 s at 200 ms: %s",
		     c->d.notes)) &&
	       (sim_daemon_stop(&c->d, 5000) == 0 || fail(c, "exit status")) &&
	       (sim_daemon_wait_notify(&c->d, "STOPPING=1", 0) ||
		fail(c, "no STOPPING=1: %s", c->d.notes));
}

static bool t_reload(struct ctx *c)
{
	const char *conf = sim_path("%s/xb.conf", c->h.dir);
	FILE *f;

	if (!setup(c, false))
		return false;
	conf = sim_path("%s/xb.conf", c->h.dir);
	f = fopen(conf, "w");
	fprintf(f, "log-level = info\n");
	fclose(f);
	if (!sim_daemon_start(&c->h, &c->d, daemon_bin, NULL, "-c", conf, NULL) ||
	    !sim_daemon_wait_notify(&c->d, "READY=1", 5000))
		return fail(c, "cannot start with a configuration file");
	f = fopen(conf, "w");
	fprintf(f, "log-level = warning\nfrobnicate = 1\n");
	fclose(f);
	kill(c->d.pid, SIGHUP);
	if (!sim_daemon_wait_notify(&c->d, "RELOADING=1", 3000))
		return fail(c, "no RELOADING=1");
	if (!log_once(c, "xb.conf:2: unknown key 'frobnicate'"))
		return false;
	f = fopen(conf, "w");
	fprintf(f, "# quieter\nlog-level = debug\n");
	fclose(f);
	kill(c->d.pid, SIGHUP);
	return log_once(c, "configuration reloaded (log level debug)") &&
	       sim_add_device(&c->h, "xbt", 5, 1, NULL) &&
	       wait_state(c, 5, 1, "2");
}

/* Runs the daemon with arguments that must be refused; one line on
 * stderr, exit status 2. */
static bool refused(struct ctx *c, const char *want, const char *a1,
		    const char *a2)
{
	char cmd[512], line[512] = "";
	int lines = 0, status;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s '%s' 2>&1; echo \"rc=$?\"",
		 daemon_bin, a1, a2);
	p = popen(cmd, "r");
	while (fgets(line, sizeof(line), p)) {
		if (!strncmp(line, "rc=", 3))
			break;
		lines++;
		if (!strstr(line, want)) {
			pclose(p);
			return fail(c, "'%s %s': '%s', want '%s'", a1, a2, line,
				    want);
		}
	}
	status = pclose(p);
	(void)status;
	if (lines != 1 || strcmp(line, "rc=2\n"))
		return fail(c, "'%s %s': %d lines, %s", a1, a2, lines, line);
	return true;
}

static bool t_bad_options(struct ctx *c)
{
	const char *conf = "/tmp/xb-core-bad.conf";
	FILE *f = fopen(conf, "w");
	bool ok;

	fprintf(f, "kinds = xbt\n\nlog-level = chatty\n");
	fclose(f);
	ok = refused(c, "option log-level: 'loud' is not one of", "--log-level",
		     "loud") &&
	     refused(c, "kinds: 'vbdx' is not built into this xenbackd (built in: xbt)",
		     "--kinds", "vbdx") &&
	     refused(c, "/tmp/xb-core-bad.conf:3: log-level: 'chatty'", "-c",
		     conf) &&
	     refused(c, "/nonexistent.conf: No such file", "-c",
		     "/nonexistent.conf") &&
	     refused(c, "control-socket: 'rel' is not an absolute path", "-s",
		     "rel");
	unlink(conf);
	return ok;
}

static bool t_single_instance(struct ctx *c)
{
	struct sim_daemon second;
	int rc;

	if (!setup(c, true))
		return false;
	if (!sim_daemon_start(&c->h, &second, daemon_bin, NULL, NULL))
		return fail(c, "cannot fork");
	rc = sim_daemon_wait_exit(&second, 3000);
	/* It may have exited already with 1: waitpid gives that. */
	return (rc == 1 || fail(c, "second daemon exit %d, want 1", rc)) &&
	       log_once(c, "another xenbackd is running") &&
	       ctl_has(c, true, "[");
}

/* The real daemon binary (argv[1] = build/xenbackd) with blk/'s kind. */
static bool t_real_vbd(struct ctx *c)
{
	const char *be = "/local/domain/0/backend/vbd/5/51712";
	const char *img = sim_path("%s/disk.img", c->h.dir);
	char param[300];
	FILE *f;

	if (!setup(c, true))
		return false;
	f = fopen(img, "w");
	if (!f || ftruncate(fileno(f), 64 << 20) < 0)
		return fail(c, "cannot make a disk image");
	fclose(f);
	snprintf(param, sizeof(param), "params=%s", img);
	return sim_add_device(&c->h, "vbd", 5, 51712, param, "mode=w",
			      "type=phy", "device-type=disk", "dev=xvda",
			      "removable=0", "bootable=1",
			      "script=/etc/xen/scripts/block", NULL) &&
	       (sim_wait(&c->h, sim_path("%s/state", be), "2", 10000) ||
		fail(c, "vbd not in InitWait within libxl's 10 s")) &&
	       ctl_has(c, true, "\"kind\": \"vbd\"") &&
	       /* hot-unplug in InitWait: removed, the backing closed */
	       sim_write(&c->h, sim_path("%s/online", be), "0") &&
	       sim_write(&c->h, sim_path("%s/state", be), "5") &&
	       res_has(c, true, "\"domains\": []") &&
	       (sim_daemon_stop(&c->d, 10000) == 0 || fail(c, "exit status")) &&
	       node_is(c, sim_path("%s/state", be), "6");
}

/* The real daemon binary with net/'s kind; the TAP gets a name of ours. */
static bool t_real_vif(struct ctx *c)
{
	const char *be = "/local/domain/0/backend/vif/5/0";
	char vifname[32], node[48], cmd[96];
	bool ok;

	snprintf(vifname, sizeof(vifname), "xbc%u", (unsigned)getpid() % 100000);
	snprintf(node, sizeof(node), "vifname=%s", vifname);
	if (!setup(c, true))
		return false;
	ok = sim_add_device(&c->h, "vif", 5, 0, node, "mac=00:16:3e:00:00:05",
			    "handle=0", "type=vif", "hotplug-status=",
			    "script=/etc/xen/scripts/vif-bridge", NULL) &&
	     (sim_wait(&c->h, sim_path("%s/state", be), "2", 10000) ||
	      fail(c, "vif not in InitWait within libxl's 10 s"));
	snprintf(cmd, sizeof(cmd), "ip link show %s >/dev/null 2>&1", vifname);
	ok = ok && (system(cmd) == 0 ||
		    fail(c, "no network device %s before InitWait", vifname));
	ok = ok && ctl_has(c, true, "\"kind\": \"vif\"");
	/* Its TAP's first queue, counted from probe to remove. */
	ok = ok && res_has(c, true, "{\"domain\": 5, \"ring_pages\": 0, "
				    "\"grants\": 0, \"channels\": 0, "
				    "\"fds\": 1}");
	ok = ok && (sim_daemon_stop(&c->d, 10000) == 0 || fail(c, "exit status"));
	ok = ok && node_is(c, sim_path("%s/state", be), "6");
	/* Whether the TAP outlives the daemon is net/'s choice. */
	if (system(cmd) == 0) {
		snprintf(cmd, sizeof(cmd), "ip link del %s", vifname);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", vifname);
	}
	return ok;
}

static int count_fds(pid_t pid)
{
	char cmd[128], buf[32] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd | wc -l", (int)pid);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(buf, sizeof(buf), p))
		buf[0] = '\0';
	pclose(p);
	return atoi(buf);
}

/*
 * Run with a sanitizer build of the daemon: every path that allocates is
 * taken many times; LeakSanitizer fails the exit status if anything was
 * not freed, and the daemon's fd count must not grow.
 */
static bool t_cycles(struct ctx *c)
{
	int fds_before, fds_after, rc;

	if (!setup(c, true) || !sim_add_device(&c->h, "xbt", 5, 1, NULL) ||
	    !wait_state(c, 5, 1, "2") || !guest(c, 5) ||
	    !gcmd(c, "connect 1") || !gcmd(c, "close 1") ||
	    !gcmd(c, "state 1 1") || !wait_state(c, 5, 1, "2"))
		return false;
	fds_before = count_fds(c->d.pid);
	for (int i = 0; i < 100; i++) {
		if (!gcmd(c, i % 2 ? "connect 1 2" : "connect 1") ||
		    !gcmd(c, "ping 1") || !gcmd(c, "close 1") ||
		    !gcmd(c, "state 1 1") || !wait_state(c, 5, 1, "2"))
			return fail(c, "cycle %d: %s", i, c->why);
	}
	/* Devices coming and going, failing, and a domain dying. */
	for (unsigned int i = 0; i < 20; i++) {
		if (!sim_add_device(&c->h, "xbt", 5, 100 + i,
				    i % 2 ? "frontend-id=x" : "x=1", NULL) ||
		    !wait_state(c, 5, 100 + i, i % 2 ? "6" : "2") ||
		    !sim_rm(&c->h, BE(5, 100 + i)) || !sim_rm(&c->h, FE(5, 100 + i)))
			return fail(c, "add/remove %u: %s", i, c->why);
	}
	usleep(300000);
	fds_after = count_fds(c->d.pid);
	if (fds_after != fds_before)
		return fail(c, "daemon fds %d before the cycles, %d after",
			    fds_before, fds_after);
	sim_guest_stop(&c->g);
	if (!sim_add_device(&c->h, "xbt", 6, 1, NULL) ||
	    !wait_state(c, 6, 1, "2") || !guest(c, 6) || !gcmd(c, "connect 1") ||
	    !sim_domain_destroy(&c->h, 6))
		return false;
	usleep(300000);
	rc = sim_daemon_stop(&c->d, 30000);
	if (rc != 0)
		return fail(c, "daemon exit status %d (sanitizer report?)", rc);
	if (sim_log_count(&c->d, "Sanitizer") || sim_log_count(&c->d, "runtime error"))
		return fail(c, "sanitizer report in the daemon's log");
	return true;
}

static bool t_background(struct ctx *c)
{
	char cmd[2048], out[64] = "";
	size_t n = 0;
	FILE *p;
	int rc;

	if (!setup(c, false))
		return false;
	snprintf(c->d.sock, sizeof(c->d.sock), "%s/ctl.sock", c->h.dir);
	snprintf(c->d.log, sizeof(c->d.log), "%s/daemon.log", c->h.dir);
	n = snprintf(cmd, sizeof(cmd), "env -u XENSTORED_PATH -u NOTIFY_SOCKET");
	for (unsigned int i = 0; i < c->h.nr_env; i++)
		n += snprintf(cmd + n, sizeof(cmd) - n, " '%s'", c->h.env[i]);
	snprintf(cmd + n, sizeof(cmd) - n, " %s -s %s >%s 2>&1; echo $?",
		 daemon_bin, c->d.sock, c->d.log);
	p = popen(cmd, "r");
	if (!p || !fgets(out, sizeof(out), p))
		return fail(c, "cannot run the daemon");
	pclose(p);
	/* The parent returns once the daemon is ready: ask at once. */
	if (atoi(out) != 0)
		return fail(c, "the parent exited %d, want 0", atoi(out));
	if (!ctl_has(c, true, "["))
		return false;
	snprintf(cmd, sizeof(cmd), "pkill -TERM -f -- '[-]s %s'", c->d.sock);
	rc = system(cmd);
	for (int i = 0; i < 100 && access(c->d.sock, F_OK) == 0; i++)
		usleep(50000);
	return (rc == 0 || fail(c, "no daemon process found")) &&
	       (access(c->d.sock, F_OK) != 0 ||
		fail(c, "the daemon did not stop on SIGTERM"));
}

static bool t_xenstore_gone(struct ctx *c)
{
	char *pid;
	int rc;
	FILE *f;

	if (!setup(c, true))
		return false;
	f = fopen(sim_path("%s/xenstored.pid", c->h.dir), "r");
	pid = f ? calloc(1, 32) : NULL;
	if (!f || !pid || !fgets(pid, 32, f) || kill(atoi(pid), SIGKILL) < 0) {
		if (f)
			fclose(f);
		free(pid);
		return fail(c, "cannot kill the host's xenstored");
	}
	fclose(f);
	free(pid);
	rc = sim_daemon_wait_exit(&c->d, 10000);
	return (rc == 1 || fail(c, "exit status %d, want 1", rc)) &&
	       log_once(c, "xenstore does not answer");
}

/* ---- main ------------------------------------------------------------------ */

static const struct {
	const char *name;
	bool (*fn)(struct ctx *c);
	bool heavy;	/* only when asked for by name */
} cases[] = {
	{ "device appears and reaches InitWait with its features", t_initwait, false },
	{ "frontend connects: Connected, ring served by a worker", t_connect, false },
	{ "multi-page ring (ring-page-order 2) mapped whole", t_multipage, false },
	{ "Connected only once hotplug-status=connected", t_hotplug_wait, false },
	{ "frontend closes (grants unmapped) and reconnects", t_close_reconnect, false },
	{ "frontend restarts while connected (kexec)", t_frontend_restart, false },
	{ "hot-unplug of a connected device (online=0, Closing)", t_unplug_connected, false },
	{ "hot-unplug of a device in InitWait", t_unplug_idle, false },
	{ "frontend domain destroyed mid-use, other guest unaffected", t_domain_destroyed, false },
	{ "a dead domain's id used again: its device is served anew", t_domid_reused, false },
	{ "daemon started after the devices exist picks them up", t_started_after, false },
	{ "SIGTERM with devices connected: Closed, unmapped, exit 0", t_sigterm, false },
	{ "daemon restarted while the guest runs: reconnects", t_restart, false },
	{ "daemon killed and restarted: resumes the ring in use", t_crash_restart, false },
	{ "handover (SIGUSR2): exit 75, left Connected, successor adopts", t_handover, false },
	{ "malformed backend nodes fail that device only, one line each", t_malformed, false },
	{ "malformed directory names warned once", t_malformed_dirs, false },
	{ "a fixed backend node brings a failed device back", t_recover_after_fix, false },
	{ "sd_notify READY, STATUS, WATCHDOG, STOPPING", t_notify, false },
	{ "SIGHUP reloads the configuration, keeps it if bad", t_reload, false },
	{ "bad options and configuration: one line, exit 2", t_bad_options, false },
	{ "a second daemon on the same socket refuses to start", t_single_instance, false },
	{ "without --foreground: in the background once ready", t_background, false },
	{ "xenstored gone: the daemon stops with status 1 (to be restarted)", t_xenstore_gone, false },
	{ "xenbackd serves vbd: InitWait as libxl needs, Closed on SIGTERM", t_real_vbd, true },
	{ "xenbackd serves vif: its TAP exists at InitWait, Closed on SIGTERM", t_real_vif, true },
	{ "100 connect/disconnect cycles, devices and a domain coming and going: no leak", t_cycles, true },
};

int main(int argc, char **argv)
{
	const char *only = argc > 2 ? argv[2] : NULL;

	daemon_bin = argc > 1 ? argv[1] : "build/tests/core/xenbackd-test";
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctx c = { 0 };
		bool ok;

		if (only ? !strstr(cases[i].name, only) : cases[i].heavy)
			continue;
		ok = cases[i].fn(&c);
		if (ok) {
			printf("PASS: %s\n", cases[i].name);
		} else {
			failures++;
			printf("FAIL: %s: %s\n", cases[i].name, c.why);
			if (c.d.log[0])
				show_log(&c);
		}
		teardown(&c);
	}
	return failures ? 1 : 0;
}
