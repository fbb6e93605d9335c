/*
 * sim.h - helpers for tests of the daemon on the simulated host: a host
 * (tests/xensim's `xensim`), the daemon process with a NOTIFY_SOCKET,
 * guests running xbtfront, toolstack writes as libxl makes them, waits
 * bounded in time.
 */
#ifndef XB_TESTS_CORE_SIM_H
#define XB_TESTS_CORE_SIM_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <xenstore.h>

#define SIM_ENV_MAX 16

struct sim_host {
	char dir[64];
	struct xs_handle *xs;	/* as dom0, the toolstack */
	char *env[SIM_ENV_MAX];	/* "K=V" from `xensim env HOST` */
	unsigned int nr_env;
};

struct sim_daemon {
	pid_t pid;
	int notify_fd;
	char log[128];
	char sock[128];
	char notes[8192];	/* every sd_notify datagram, '|'-separated */
	size_t notes_len;
};

struct sim_guest {
	pid_t pid;
	int in, out;		/* its stdin, its stdout */
	char last[256];		/* the last answer */
};

const char *sim_xensim(void);
bool sim_host_start(struct sim_host *h);
void sim_host_stop(struct sim_host *h);
bool sim_domain_create(struct sim_host *h, unsigned int domid);
bool sim_domain_destroy(struct sim_host *h, unsigned int domid);

/*
 * Starts bin -f --log-target stderr -l debug -s HOST/ctl.sock ARGS...
 * (NULL-terminated) with the host's environment and a NOTIFY_SOCKET.
 * extra_env: "K=V" or NULL.
 */
bool sim_daemon_start(struct sim_host *h, struct sim_daemon *d,
		      const char *bin, const char *extra_env, ...);
/* Waits for a notify message containing s (collects all others). */
bool sim_daemon_wait_notify(struct sim_daemon *d, const char *s,
			    int timeout_ms);
/* SIGTERM; the exit status, or -1 if it did not exit in time (killed). */
int sim_daemon_stop(struct sim_daemon *d, int timeout_ms);
/* Waits for the daemon to exit by itself: its status, or -1 (killed). */
int sim_daemon_wait_exit(struct sim_daemon *d, int timeout_ms);
/* Output of xenbackctl (json or table), malloc'ed. */
char *sim_ctl(struct sim_daemon *d, bool json);
/* xenbackctl with these arguments (e.g. "resources --json"). */
char *sim_ctl_args(struct sim_daemon *d, const char *args);
/* Occurrences of s in the daemon's log. */
int sim_log_count(struct sim_daemon *d, const char *s);

bool sim_guest_start(struct sim_host *h, struct sim_guest *g,
		     unsigned int domid);
/* Sends a command; true if the answer starts with "ok". */
bool sim_guest_cmd(struct sim_guest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sim_guest_stop(struct sim_guest *g);

/* Writes a device's frontend and backend directories as libxl does (one
 * transaction, permissions). extra: "node=value" of the backend, NULL-
 * terminated. */
bool sim_add_device(struct sim_host *h, const char *type, unsigned int domid,
		    unsigned int devid, ...);
bool sim_write(struct sim_host *h, const char *path, const char *value);
char *sim_read(struct sim_host *h, const char *path);
bool sim_rm(struct sim_host *h, const char *path);
/* Waits until path reads value (NULL: until it is absent). */
bool sim_wait(struct sim_host *h, const char *path, const char *value,
	      int timeout_ms);
/* printf into a static path buffer (rotating, 8 of them). */
const char *sim_path(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
