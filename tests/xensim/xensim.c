// SPDX-License-Identifier: MIT
/*
 * xensim.c: the simulated host's toolstack and hypervisor control.
 *
 *   xensim start HOST                  hypervisor state, dom0, xenstored
 *   xensim create HOST DOMID [--name N] [--mem MiB]
 *   xensim destroy HOST DOMID
 *   xensim shutdown HOST DOMID [REASON] the guest shut down (not gone)
 *   xensim list HOST
 *   xensim grants HOST DOMID           a domain's grant entries and pins
 *   xensim stop HOST                   everything ended and removed
 *   xensim env HOST [DOMID]            export lines for a shell
 *   xensim run HOST DOMID -- CMD...    run CMD as that domain
 *
 * HOST is a folder (created by start, removed by stop). Its layout:
 *   shm -> /dev/shm/xensim.XXXXXX   hv (hypervisor state), lock, mem.*
 *   ev/<id>                         event-channel handles' FIFOs
 *   xenstored/socket                xenstored's socket (dom0's xenstore)
 *   d<N>.xs                         domain N's xenbus bridge socket
 *   xsd_port, xsd_kva               what /proc/xen gives xenstored
 *   pids/<group>/<pid>              processes to end (start time inside)
 *   *.log                           xenstored's and the bridges' output
 * Every command but run and the bridge is bounded by an alarm.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xen/event_channel.h>
#include <xen/xen.h>
#include <xenstore.h>

#include "tests/xensim/hv.h"
#include "tests/xensim/xensim.h"

#define COMMAND_TIMEOUT_S 60
#define START_TIMEOUT_MS 10000
#define DEFAULT_MEM_MIB 64

static char host_dir[256];
static char exe_dir[PATH_MAX];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						      noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xensim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000l };

	nanosleep(&ts, NULL);
}

static const char *hpath(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static const char *hpath(const char *fmt, ...)
{
	static char bufs[4][512];
	static unsigned int next;
	char *b = bufs[next++ % 4];
	int n;
	va_list ap;

	n = snprintf(b, 512, "%s/", host_dir);
	va_start(ap, fmt);
	vsnprintf(b + n, 512 - n, fmt, ap);
	va_end(ap);
	return b;
}

static void set_host(const char *arg, bool must_exist)
{
	char cwd[PATH_MAX];
	int n;

	if (arg[0] == '/')
		n = snprintf(host_dir, sizeof(host_dir), "%s", arg);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(host_dir, sizeof(host_dir), "%s/%s", cwd, arg);
	else
		die("getcwd: %s", strerror(errno));
	/* xenstored's socket, the longest unix socket path under HOST,
	 * must fit sockaddr_un (108 bytes with its NUL). */
	if (n < 0 || (size_t)n + sizeof("/xenstored/socket") > 108)
		die("host path too long for the unix sockets under it "
		    "(%d bytes, 90 at most): %s", n, host_dir);
	while (n > 1 && host_dir[n - 1] == '/')
		host_dir[--n] = 0;
	if (must_exist && access(hpath("shm/hv"), F_OK) < 0)
		die("%s: no simulated host here (xensim start?)", host_dir);
}

static void find_exe_dir(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof(exe_dir) - 1);
	char *slash;

	if (n < 0)
		die("readlink /proc/self/exe: %s", strerror(errno));
	exe_dir[n] = 0;
	slash = strrchr(exe_dir, '/');
	if (slash)
		*slash = 0;
}

static uint32_t parse_domid(const char *s, bool allow0)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v >= DOMID_FIRST_RESERVED ||
	    (!allow0 && v == 0))
		die("bad domain id '%s'", s);
	return v;
}

static struct xsim_host *attach(uint32_t domid)
{
	struct xsim_host *h;
	char d[16];

	snprintf(d, sizeof(d), "%u", domid);
	setenv("XENSIM_HOST", host_dir, 1);
	setenv("XENSIM_DOMID", d, 1);
	h = xsim_host_get();
	if (!h)
		die("%s: cannot attach: %s", host_dir, strerror(errno));
	return h;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		die("%s: %s", path, strerror(errno));
	close(fd);
}

/* ---- process records ---- */

static void record_pid(const char *group, pid_t pid)
{
	char buf[32];
	int n;

	mkdir(hpath("pids/%s", group), 0755);
	n = snprintf(buf, sizeof(buf), "%llu\n",
		     (unsigned long long)xsim_proc_start(pid));
	write_file(hpath("pids/%s/%d", group, (int)pid), buf, n);
}

/* Signal every live process of a group (and its process group); returns
 * how many were alive. */
static int signal_group(const char *group, int sig)
{
	const char *dir = hpath("pids/%s", group);
	struct dirent *de;
	int alive = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		unsigned long long start = 0;
		char path[600];
		FILE *f;
		pid_t pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "re");
		if (f) {
			if (fscanf(f, "%llu", &start) != 1)
				start = 0;
			fclose(f);
		}
		if (!start || !xsim_proc_alive(pid, start)) {
			unlink(path);
			continue;
		}
		alive++;
		if (sig) {
			kill(-pid, sig);
			kill(pid, sig);
		}
	}
	closedir(d);
	return alive;
}

static void end_group(const char *group, int first_sig)
{
	int64_t end = now_ms() + 3000;

	if (!signal_group(group, first_sig))
		goto out;
	while (now_ms() < end && signal_group(group, 0))
		sleep_ms(20);
	signal_group(group, SIGKILL);
	end = now_ms() + 3000;
	while (now_ms() < end && signal_group(group, 0))
		sleep_ms(20);
out:
	rmdir(hpath("pids/%s", group));
}

/* ---- xenstore as the toolstack (dom0, over xenstored's socket) ---- */

static struct xs_handle *xs_dom0(void)
{
	struct xs_handle *xs;

	setenv("XENSTORED_RUNDIR", hpath("xenstored"), 1);
	unsetenv("XENSTORED_PATH");
	xs = xs_open(0);
	if (!xs)
		die("cannot talk to xenstored: %s", strerror(errno));
	return xs;
}

static void xs_put(struct xs_handle *xs, xs_transaction_t t,
		   const char *path, const char *val)
{
	if (!xs_write(xs, t, path, val, strlen(val)))
		die("xenstore write %s: %s", path, strerror(errno));
}

static void xs_node(struct xs_handle *xs, xs_transaction_t t,
		    const char *path, uint32_t owner, uint32_t reader)
{
	struct xs_permissions p[2] = {
		{ .id = owner, .perms = XS_PERM_NONE },
		{ .id = reader, .perms = XS_PERM_READ },
	};

	if (!xs_mkdir(xs, t, path) ||
	    !xs_set_permissions(xs, t, path, p, owner == reader ? 1 : 2))
		die("xenstore mkdir %s: %s", path, strerror(errno));
}

/* ---- domains in the hypervisor ---- */

static int dom_create(struct xsim_host *h, uint32_t domid, const char *name,
		      unsigned int mib)
{
	struct xsim_hv *hv = h->hv;
	struct xsim_dom *d;
	char path[400];
	int slot, fd, i;

	if (!mib || mib > XSIM_MAX_PAGES / 256)
		die("memory must be 1..%u MiB", XSIM_MAX_PAGES / 256);
	xsim_lock(h);
	xsim_reap_locked(h);
	if (xsim_dom_slot_any(hv, domid) >= 0) {
		xsim_unlock(h);
		die("domain %u exists", domid);
	}
	for (slot = -1, i = 0; i < XSIM_MAX_DOMS; i++)
		if (atomic_load(&hv->doms[i].state) == XSIM_DOM_FREE) {
			slot = i;
			break;
		}
	if (slot < 0) {
		xsim_unlock(h);
		die("no room for another domain (%d at most)", XSIM_MAX_DOMS);
	}
	d = &hv->doms[slot];
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->generation = atomic_fetch_add(&hv->next_generation, 1);
	d->nr_pages = mib * 256;
	snprintf(d->name, sizeof(d->name), "%s", name);
	xsim_mem_path(h, domid, d->generation, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)d->nr_pages * XSIM_PAGE_SIZE) < 0) {
		xsim_unlock(h);
		die("%s: %s", path, strerror(errno));
	}
	close(fd);
	atomic_store_explicit(&d->state, XSIM_DOM_ALIVE, memory_order_release);
	xsim_unlock(h);
	return slot;
}

static void child_env(uint32_t domid)
{
	const char *old = getenv("LD_LIBRARY_PATH");
	char d[16], lib[2 * PATH_MAX];

	snprintf(d, sizeof(d), "%u", domid);
	/* The stand-in libraries first; the caller's path (sanitizer
	 * runtimes, say) after them. */
	if (old && *old && strncmp(old, exe_dir, strlen(exe_dir)))
		snprintf(lib, sizeof(lib), "%s/lib:%s", exe_dir, old);
	else
		snprintf(lib, sizeof(lib), "%s/lib", exe_dir);
	setenv("XENSIM_HOST", host_dir, 1);
	setenv("XENSIM_DOMID", d, 1);
	setenv("LD_LIBRARY_PATH", lib, 1);
	if (domid == 0) {
		setenv("XENSTORED_RUNDIR", hpath("xenstored"), 1);
		unsetenv("XENSTORED_PATH");
	} else {
		setenv("XENSTORED_PATH", hpath("d%u.xs", domid), 1);
		unsetenv("XENSTORED_RUNDIR");
	}
}

static void redirect_output(const char *log)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (null >= 0)
		dup2(null, 0);
}

/* ---- start ---- */

static void spawn_xenstored(void)
{
	char preload[PATH_MAX + 32], bin[PATH_MAX + 16];
	const char *override = getenv("XENSIM_XENSTORED");
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/xenstored", exe_dir);
	if (override && *override)
		snprintf(bin, sizeof(bin), "%s", override);
	if (access(bin, X_OK) < 0)
		die("%s: %s (make xensim fetches it)", bin, strerror(errno));
	snprintf(preload, sizeof(preload), "%s/lib/xsim-procxen.so", exe_dir);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		setsid();
		child_env(0);
		setenv("LD_PRELOAD", preload, 1);
		setenv("XENSTORED_ROOTDIR", hpath("xenstored"), 1);
		redirect_output(hpath("xenstored.log"));
		if (getenv("XENSIM_TRACE"))
			execl(bin, "xenstored", "-N", "-F",
			      hpath("xenstored.pid"), "-T",
			      hpath("xenstored.trace"), (char *)NULL);
		else
			execl(bin, "xenstored", "-N", "-F",
			      hpath("xenstored.pid"), (char *)NULL);
		_exit(127);
	}
	record_pid("xenstored", pid);
}

static void wait_xenstored(void)
{
	int64_t end = now_ms() + START_TIMEOUT_MS;

	for (;;) {
		if (access(hpath("xenstored/socket"), F_OK) == 0) {
			struct xs_handle *xs;

			setenv("XENSTORED_RUNDIR", hpath("xenstored"), 1);
			unsetenv("XENSTORED_PATH");
			xs = xs_open(0);
			if (xs) {
				unsigned int len;
				char *v = xs_read(xs, XBT_NULL, "/", &len);

				free(v);
				xs_close(xs);
				if (v)
					return;
			}
		}
		if (!signal_group("xenstored", 0))
			die("xenstored exited; see %s", hpath("xenstored.log"));
		if (now_ms() > end)
			die("xenstored did not come up in %d ms",
			    START_TIMEOUT_MS);
		sleep_ms(20);
	}
}

static int cmd_start(void)
{
	char shm[] = "/dev/shm/xensim.XXXXXX";
	static const uint8_t zero_page[XSIM_PAGE_SIZE];
	struct xsim_host *h;
	struct xs_handle *xs;
	struct xsim_port *p;
	char buf[32];
	int slot, port, n;

	if (access(hpath("shm"), F_OK) == 0)
		die("%s: a host is there already (xensim stop first)",
		    host_dir);
	if (mkdir(host_dir, 0755) < 0 && errno != EEXIST)
		die("%s: %s", host_dir, strerror(errno));
	if (!mkdtemp(shm))
		die("mkdtemp %s: %s", shm, strerror(errno));
	if (symlink(shm, hpath("shm")) < 0)
		die("symlink: %s", strerror(errno));
	mkdir(hpath("ev"), 0755);
	mkdir(hpath("xenstored"), 0755);
	mkdir(hpath("pids"), 0755);
	if (xsim_host_create(host_dir, shm) < 0)
		die("cannot create the hypervisor state: %s", strerror(errno));
	h = attach(0);
	slot = dom_create(h, 0, "Domain-0", DEFAULT_MEM_MIB);

	/* dom0's own xenstore channel and page, as the dom0 kernel sets
	 * them up for /proc/xen: an unbound port for xenstored to bind,
	 * held by the (simulated) kernel, i.e. no handle. Nothing reads
	 * this ring: dom0's processes use xenstored's socket. */
	xsim_lock(h);
	for (port = 1; port < (int)XSIM_NR_PORTS; port++)
		if (atomic_load(&h->hv->doms[slot].ports[port].state) ==
		    XSIM_PORT_FREE)
			break;
	p = &h->hv->doms[slot].ports[port];
	atomic_store(&p->remote_dom, 0);
	atomic_store(&p->handle, 0);
	atomic_store(&p->state, XSIM_PORT_UNBOUND);
	xsim_unlock(h);
	n = snprintf(buf, sizeof(buf), "%d", port);
	write_file(hpath("xsd_port"), buf, n);
	write_file(hpath("xsd_kva"), zero_page, sizeof(zero_page));

	spawn_xenstored();
	wait_xenstored();

	/* What xen-init-dom0 writes. */
	xs = xs_dom0();
	xs_put(xs, XBT_NULL, "/local/domain/0/domid", "0");
	xs_put(xs, XBT_NULL, "/local/domain/0/name", "Domain-0");
	xs_close(xs);
	return 0;
}

/* ---- create ---- */

static void read_ready(int fd, uint32_t *frame, uint32_t *port)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[64];
	ssize_t n;

	if (poll(&pfd, 1, START_TIMEOUT_MS) <= 0)
		die("the domain's bridge did not come up");
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		die("the domain's bridge failed; see its log");
	buf[n] = 0;
	if (sscanf(buf, "%u %u", frame, port) != 2)
		die("the domain's bridge said '%s'", buf);
}

static void toolstack_nodes(uint32_t domid, const char *name)
{
	static const char *const guest_owned[] = {
		"device", "data", "control/shutdown", "error", "drivers",
		"attr", "feature",
	};
	struct xs_handle *xs = xs_dom0();
	char path[128], val[32];
	unsigned int i, tries;

	for (tries = 0;; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);

		if (!t)
			die("xenstore transaction: %s", strerror(errno));
		snprintf(path, sizeof(path), "/local/domain/%u", domid);
		/* As libxl: the domain's directory is dom0's, readable by
		 * the domain; the parts the guest writes are its own. */
		xs_node(xs, t, path, 0, domid);
		snprintf(val, sizeof(val), "%u", domid);
		snprintf(path, sizeof(path), "/local/domain/%u/domid", domid);
		xs_put(xs, t, path, val);
		snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
		xs_put(xs, t, path, name);
		snprintf(path, sizeof(path), "/local/domain/%u/control", domid);
		xs_node(xs, t, path, 0, domid);
		for (i = 0; i < sizeof(guest_owned) / sizeof(*guest_owned);
		     i++) {
			snprintf(path, sizeof(path), "/local/domain/%u/%s",
				 domid, guest_owned[i]);
			xs_node(xs, t, path, domid, domid);
		}
		if (xs_transaction_end(xs, t, false))
			break;
		if (errno != EAGAIN || tries > 20)
			die("xenstore transaction: %s", strerror(errno));
	}
	xs_close(xs);
}

static int cmd_create(uint32_t domid, const char *name, unsigned int mib)
{
	struct xsim_host *h = attach(0);
	char fdarg[16], dom[16], self[PATH_MAX + 16], defname[32];
	uint32_t frame, port;
	struct xs_handle *xs;
	int ready[2];
	pid_t pid;

	if (!name) {
		snprintf(defname, sizeof(defname), "guest%u", domid);
		name = defname;
	}
	if (strlen(name) >= 64 || strchr(name, '/'))
		die("bad domain name '%s'", name);
	dom_create(h, domid, name, mib);
	if (pipe(ready) < 0)
		die("pipe: %s", strerror(errno));
	snprintf(self, sizeof(self), "%s/xensim", exe_dir);
	snprintf(fdarg, sizeof(fdarg), "%d", ready[1]);
	snprintf(dom, sizeof(dom), "%u", domid);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		setsid();
		close(ready[0]);
		child_env(domid);
		redirect_output(hpath("d%u.bridge.log", domid));
		execl(self, "xensim", "bridge", host_dir, dom, fdarg,
		      (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	record_pid(dom, pid);
	read_ready(ready[0], &frame, &port);
	close(ready[0]);

	xs = xs_dom0();
	if (!xs_introduce_domain(xs, domid, frame, port))
		die("XS_INTRODUCE of domain %u: %s", domid, strerror(errno));
	xs_close(xs);
	toolstack_nodes(domid, name);
	return 0;
}

/* ---- destroy ---- */

static int cmd_destroy(uint32_t domid)
{
	struct xsim_host *h = attach(0);
	struct xs_handle *xs;
	char dom[16], path[64];
	int slot, s0;
	uint32_t p;
	int64_t end;
	bool gone = false;

	if (domid == 0)
		die("dom0 cannot be destroyed (xensim stop)");
	slot = xsim_dom_slot_any(h->hv, domid);
	if (slot < 0)
		die("no domain %u", domid);
	/* The guest stops running: its kernel (bridge) and programs. */
	snprintf(dom, sizeof(dom), "%u", domid);
	end_group(dom, SIGKILL);

	xsim_lock(h);
	if (atomic_load(&h->hv->doms[slot].state) == XSIM_DOM_ALIVE) {
		struct xsim_dom *d = &h->hv->doms[slot];

		atomic_store(&d->state, XSIM_DOM_DYING);
		/* As domain_kill() does: every port closed, so the peers'
		 * ends become unbound. */
		for (p = 1; p < XSIM_NR_PORTS; p++)
			if (atomic_load(&d->ports[p].state) != XSIM_PORT_FREE)
				xsim_port_close_locked(h, slot, p);
	}
	xsim_reap_locked(h);
	xsim_dom_maybe_free_locked(h, slot);
	xsim_unlock(h);

	s0 = xsim_dom_slot(h->hv, 0);
	if (s0 >= 0)
		xsim_virq_raise(h, s0, VIRQ_DOM_EXC);

	/* xenstored looks at the domain, sees it dying and releases it
	 * (unmapping its ring, firing @releaseDomain). */
	xs = xs_dom0();
	end = now_ms() + START_TIMEOUT_MS;
	while (now_ms() < end) {
		bool intro = xs_is_domain_introduced(xs, domid);

		if (!intro) {
			gone = true;
			break;
		}
		sleep_ms(10);
	}
	if (!gone)
		die("xenstored did not release domain %u", domid);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(xs, XBT_NULL, path);
	xs_close(xs);
	unlink(hpath("d%u.xs", domid));
	xsim_lock(h);
	xsim_dom_maybe_free_locked(h, slot);
	xsim_unlock(h);
	return 0;
}

/* ---- shutdown ---- */

/* The guest shut itself down (SCHEDOP_shutdown): xc_domain_getinfo says
 * so, dom0 gets VIRQ_DOM_EXC, xenstored fires @releaseDomain. The domain
 * keeps existing until destroyed, as with xl's on_poweroff=preserve. */
static int cmd_shutdown(uint32_t domid, unsigned int reason)
{
	struct xsim_host *h = attach(0);
	int slot, s0;

	xsim_lock(h);
	slot = xsim_dom_slot(h->hv, domid);
	if (slot < 0) {
		xsim_unlock(h);
		die("no running domain %u", domid);
	}
	h->hv->doms[slot].shutdown_reason = reason;
	h->hv->doms[slot].shutdown = 1;
	xsim_unlock(h);
	s0 = xsim_dom_slot(h->hv, 0);
	if (s0 >= 0)
		xsim_virq_raise(h, s0, VIRQ_DOM_EXC);
	return 0;
}

/* ---- list ---- */

static int cmd_list(void)
{
	struct xsim_host *h = attach(0);
	static const char *const states[] = { "free", "running", "dying" };
	unsigned int i, p, ports, grants;

	xsim_lock(h);
	xsim_reap_locked(h);
	printf("%-6s %-16s %-8s %8s %6s %6s %6s\n", "domid", "name", "state",
	       "mem-MiB", "maps", "ports", "grants");
	for (i = 0; i < XSIM_MAX_DOMS; i++) {
		struct xsim_dom *d = &h->hv->doms[i];
		uint32_t st = atomic_load(&d->state);

		if (st == XSIM_DOM_FREE)
			continue;
		for (ports = 0, p = 1; p < XSIM_NR_PORTS; p++)
			ports += atomic_load(&d->ports[p].state) !=
				 XSIM_PORT_FREE;
		for (grants = 0, p = 0; p < XSIM_NR_GRANTS; p++)
			grants += (d->gnttab[p].flags & GTF_type_mask) ==
				  GTF_permit_access;
		printf("%-6u %-16s %-8s %8u %6u %6u %6u\n", d->domid, d->name,
		       states[st], d->nr_pages / 256, d->nr_maps, ports,
		       grants);
	}
	xsim_unlock(h);
	return 0;
}

/* `xensim grants HOST DOMID`: a domain's valid grant entries and their
 * pins, for debugging a backend or a frontend. */
static int cmd_grants(uint32_t domid)
{
	struct xsim_host *h = attach(0);
	struct xsim_dom *d;
	uint32_t r;
	int slot = xsim_dom_slot_any(h->hv, domid);

	if (slot < 0)
		die("no domain %u", domid);
	d = &h->hv->doms[slot];
	printf("%-6s %-6s %-6s %-8s %-6s %-6s\n", "ref", "flags", "domid",
	       "frame", "r-pins", "w-pins");
	for (r = 0; r < XSIM_NR_GRANTS; r++) {
		grant_entry_v1_t e = d->gnttab[r];
		uint32_t pin = atomic_load(&d->pin[r]);

		if (!e.flags && !pin)
			continue;
		printf("%-6u %#-6x %-6u %-8u %-6u %-6u\n", r, e.flags, e.domid,
		       e.frame, pin & 0xffff, pin >> 16);
	}
	return 0;
}

/* ---- stop ---- */

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static int cmd_stop(void)
{
	char shm[PATH_MAX];
	struct dirent *de;
	ssize_t n;
	DIR *d;

	if (access(host_dir, F_OK) < 0)
		return 0;
	if (access(hpath("pids"), F_OK) < 0 && access(hpath("shm"), F_OK) < 0)
		die("%s does not look like a simulated host; not removing it",
		    host_dir);
	/* Guests first, xenstored last (it must not see a half host). */
	d = opendir(hpath("pids"));
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' &&
			    strcmp(de->d_name, "xenstored"))
				end_group(de->d_name, SIGTERM);
		closedir(d);
	}
	end_group("xenstored", SIGTERM);
	n = readlink(hpath("shm"), shm, sizeof(shm) - 1);
	if (n > 0) {
		shm[n] = 0;
		if (!strncmp(shm, "/dev/shm/xensim.", 16))
			nftw(shm, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	nftw(host_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- env and run ---- */

static void print_export(const char *var, const char *val)
{
	printf("export %s='%s'\n", var, val);
}

static int cmd_env(uint32_t domid)
{
	char d[16], lib[PATH_MAX + 8];

	snprintf(d, sizeof(d), "%u", domid);
	snprintf(lib, sizeof(lib), "%s/lib", exe_dir);
	print_export("LD_LIBRARY_PATH", lib);
	print_export("XENSIM_HOST", host_dir);
	print_export("XENSIM_DOMID", d);
	if (domid == 0) {
		print_export("XENSTORED_RUNDIR", hpath("xenstored"));
		printf("unset XENSTORED_PATH\n");
	} else {
		print_export("XENSTORED_PATH", hpath("d%u.xs", domid));
		printf("unset XENSTORED_RUNDIR\n");
	}
	return 0;
}

static pid_t run_child;

static void forward_signal(int sig)
{
	if (run_child > 0)
		kill(-run_child, sig);
}

static int cmd_run(uint32_t domid, char **argv)
{
	struct xsim_host *h = attach(0);
	char dom[16];
	int status;

	if (xsim_dom_slot(h->hv, domid) < 0)
		die("no running domain %u", domid);
	snprintf(dom, sizeof(dom), "%u", domid);
	run_child = fork();
	if (run_child < 0)
		die("fork: %s", strerror(errno));
	if (run_child == 0) {
		/* Own process group, so destroy and stop end all of it. */
		setpgid(0, 0);
		record_pid(dom, getpid());
		child_env(domid);
		execvp(argv[0], argv);
		fprintf(stderr, "xensim run: %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	signal(SIGTERM, forward_signal);
	signal(SIGINT, forward_signal);
	signal(SIGHUP, forward_signal);
	while (waitpid(run_child, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	unlink(hpath("pids/%s/%d", dom, (int)run_child));
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xensim start HOST\n"
		"       xensim create HOST DOMID [--name NAME] [--mem MIB]\n"
		"       xensim destroy HOST DOMID\n"
		"       xensim shutdown HOST DOMID [REASON]\n"
		"       xensim list HOST\n"
		"       xensim grants HOST DOMID\n"
		"       xensim stop HOST\n"
		"       xensim env HOST [DOMID]\n"
		"       xensim run HOST DOMID -- CMD [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 3)
		usage();
	cmd = argv[1];
	find_exe_dir();
	if (!strcmp(cmd, "bridge")) {
		if (argc != 5)
			usage();
		set_host(argv[2], true);
		return xsim_bridge_main(host_dir, parse_domid(argv[3], false),
					atoi(argv[4]));
	}
	if (strcmp(cmd, "run"))
		alarm(COMMAND_TIMEOUT_S);
	if (!strcmp(cmd, "start") && argc == 3) {
		set_host(argv[2], false);
		return cmd_start();
	}
	if (!strcmp(cmd, "stop") && argc == 3) {
		set_host(argv[2], false);
		return cmd_stop();
	}
	if (!strcmp(cmd, "env") && (argc == 3 || argc == 4)) {
		set_host(argv[2], false);
		return cmd_env(argc == 4 ? parse_domid(argv[3], true) : 0);
	}
	set_host(argv[2], true);
	if (!strcmp(cmd, "create") && argc >= 4) {
		const char *name = NULL;
		unsigned int mib = DEFAULT_MEM_MIB;
		int i;

		for (i = 4; i < argc; i++) {
			if (!strcmp(argv[i], "--name") && i + 1 < argc)
				name = argv[++i];
			else if (!strcmp(argv[i], "--mem") && i + 1 < argc)
				mib = atoi(argv[++i]);
			else
				usage();
		}
		return cmd_create(parse_domid(argv[3], false), name, mib);
	}
	if (!strcmp(cmd, "shutdown") && (argc == 4 || argc == 5))
		return cmd_shutdown(parse_domid(argv[3], false),
				    argc == 5 ? atoi(argv[4]) : 0);
	if (!strcmp(cmd, "destroy") && argc == 4)
		return cmd_destroy(parse_domid(argv[3], false));
	if (!strcmp(cmd, "grants") && argc == 4)
		return cmd_grants(parse_domid(argv[3], true));
	if (!strcmp(cmd, "list") && argc == 3)
		return cmd_list();
	if (!strcmp(cmd, "run") && argc >= 6 && !strcmp(argv[4], "--"))
		return cmd_run(parse_domid(argv[3], true), argv + 5);
	usage();
}
