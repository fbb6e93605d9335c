/*
 * logsink.c - sending log messages without blocking, counting those that
 * cannot be sent (see logsink.h).
 *
 * Why no queue and no log thread: the kernel already queues for us (the
 * journal socket's receive queue, 512 datagrams with systemd's sysctl
 * defaults, and our send buffer, raised as libsystemd does); a queue of
 * our own would only delay the loss when journald stays stalled, would
 * lose exactly the last messages before a crash, and would reorder one
 * thread's messages against the drop report. A message is therefore sent
 * by the thread that logs it, at once, or counted.
 */
#include "backend/logsink.h"

#include "backend/log.h"
#include "backend/logrecord.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Enough for a message (log.c cuts it at 1 KiB) with its device name. */
#define LINE_MAX_BYTES 2048
#define JOURNAL_SNDBUF (8 * 1024 * 1024)

static bool to_journal;
static int journal_fd = -1;
static struct sockaddr_un journal_addr;
static socklen_t journal_addr_len;
/* Writers to a stderr that is not a socket: poll() then write(). */
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long dropped[LOG_DEBUG + 1];

/* ---- the two targets -------------------------------------------------- */

static int open_journal(const char *path)
{
	int fd, size = JOURNAL_SNDBUF;

	if (strlen(path) >= sizeof(journal_addr.sun_path))
		return -ENAMETOOLONG;
	/* A reload selects it again while other threads send to it. */
	if (journal_fd >= 0 && !strcmp(journal_addr.sun_path, path))
		return 0;
	journal_addr = (struct sockaddr_un){.sun_family = AF_UNIX};
	strcpy(journal_addr.sun_path, path);
	journal_addr_len =
		offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
	if (journal_fd >= 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* More room for a burst while journald is busy; capped, best effort. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	__atomic_store_n(&journal_fd, fd, __ATOMIC_RELEASE);
	return 0;
}

int xb_log_sink_select(bool journal, const char *journal_path)
{
	int rc = 0;

	if (journal)
		rc = open_journal(journal_path);
	__atomic_store_n(&to_journal, journal && rc == 0, __ATOMIC_RELEASE);
	return rc;
}

/*
 * Unconnected, addressed at each send: a journald restarted binds a new
 * socket at the same path, which a connected socket would not follow.
 */
static int send_journal(const struct xb_log_record *r)
{
	struct iovec iov = {(void *)r->buf, r->len};
	struct msghdr mh = {
		.msg_name = &journal_addr,
		.msg_namelen = journal_addr_len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	int fd = __atomic_load_n(&journal_fd, __ATOMIC_ACQUIRE);

	while (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int write_nonsocket(const char *line, size_t len)
{
	struct pollfd p = {.fd = STDERR_FILENO, .events = POLLOUT};
	int rc = -EAGAIN;

	/* Under the lock, no other thread of ours takes the room poll saw. */
	pthread_mutex_lock(&stderr_lock);
	while (poll(&p, 1, 0) < 0 && errno == EINTR)
		;
	if (p.revents & (POLLERR | POLLNVAL))
		rc = p.revents & POLLNVAL ? -EBADF : -EPIPE;
	else if (p.revents & POLLOUT) {
		ssize_t n;

		while ((n = write(STDERR_FILENO, line, len)) < 0 &&
		       errno == EINTR)
			;
		rc = n < 0 ? -errno : 0;
	}
	pthread_mutex_unlock(&stderr_lock);
	return rc;
}

/*
 * One line to stderr. A line is far below a pipe's atomic write and a
 * socket's send buffer: it goes whole, or not at all.
 */
static int write_stderr(const char *line, size_t len)
{
	for (;;) {
		if (send(STDERR_FILENO, line, len,
			 MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno == ENOTSOCK)
			return write_nonsocket(line, len);
		if (errno != EINTR)
			return -errno;
	}
}

/* snprintf's result, cut to the buffer, still ending in a newline. */
static size_t line_length(char *line, size_t size, int len)
{
	if (len < 0)
		return 0;
	if ((size_t)len >= size) {
		len = size - 1;
		line[len - 1] = '\n';
	}
	return len;
}

static const char *sep(const char *device)
{
	return device ? ": " : "";
}

/* The journal's stream parses "<N>" as the priority. */
static int send_stream(int prio, const char *device, const char *msg)
{
	char line[LINE_MAX_BYTES];
	int n = snprintf(line, sizeof(line), "<%d>%s%s%s\n", prio,
			 device ? device : "", sep(device), msg);

	return write_stderr(line, line_length(line, sizeof(line), n));
}

static int send_plain(int prio, const char *device, const char *msg)
{
	char line[LINE_MAX_BYTES];
	int n = snprintf(line, sizeof(line), "xenbackd: %s: %s%s%s\n",
			 xb_log_level_name(prio), device ? device : "",
			 sep(device), msg);

	return write_stderr(line, line_length(line, sizeof(line), n));
}

static bool busy(int rc)
{
	return rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -ENOBUFS ||
	       rc == -ENOMEM;
}

/*
 * 0 sent; -EAGAIN the target is busy; another -errno lost otherwise.
 * dropped_total > 0 marks the report of dropped messages.
 */
static int send_message(int prio, int domid, const char *device,
			const char *msg, unsigned long dropped_total)
{
	struct xb_log_record r;
	int rc;

	if (!__atomic_load_n(&to_journal, __ATOMIC_ACQUIRE))
		return send_plain(prio, device, msg);
	xb_log_record_reset(&r);
	xb_log_record_addf(&r, "MESSAGE", "%s%s%s", device ? device : "",
			   sep(device), msg);
	xb_log_record_addf(&r, "PRIORITY", "%d", prio);
	xb_log_record_add_str(&r, "SYSLOG_IDENTIFIER", "xenbackd");
	if (domid >= 0)
		xb_log_record_addf(&r, "XENBACKD_DOMID", "%d", domid);
	if (device)
		xb_log_record_add_str(&r, "XENBACKD_DEVICE", device);
	if (dropped_total) {
		xb_log_record_add_str(&r, "MESSAGE_ID", XB_LOG_DROPPED_ID);
		xb_log_record_addf(&r, "XENBACKD_LOG_DROPPED", "%lu",
				   dropped_total);
	}
	rc = send_journal(&r);
	if (rc == 0 || busy(rc))
		return rc;
	/* Nobody behind the socket (journald stopped): its stream. */
	return send_stream(prio, device, msg);
}

/* ---- dropped messages ------------------------------------------------- */

static void count_dropped(int prio)
{
	__atomic_add_fetch(&dropped[prio], 1, __ATOMIC_RELAXED);
}

unsigned long xb_log_sink_dropped(int prio)
{
	if (prio < 0 || prio > LOG_DEBUG)
		return 0;
	return __atomic_load_n(&dropped[prio], __ATOMIC_RELAXED);
}

static bool any_dropped(void)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (__atomic_load_n(&dropped[i], __ATOMIC_RELAXED))
			return true;
	return false;
}

/* "1204 log messages dropped (journal busy): 4 err, 1200 debug" */
static void format_report(char *out, size_t size, const unsigned long *n,
			  unsigned long total)
{
	size_t len;

	len = snprintf(out, size, "%lu log message%s dropped (%s busy):", total,
		       total == 1 ? "" : "s",
		       __atomic_load_n(&to_journal, __ATOMIC_RELAXED)
			       ? "journal"
			       : "stderr");
	for (int i = 0; i <= LOG_DEBUG && len < size; i++)
		if (n[i])
			len += snprintf(out + len, size - len, "%s %lu %s",
					out[len - 1] == ':' ? "" : ",", n[i],
					xb_log_level_name(i));
}

bool xb_log_sink_report_dropped(void)
{
	unsigned long n[LOG_DEBUG + 1], total = 0;
	int prio = LOG_WARNING;
	char msg[256];

	if (!any_dropped())
		return true;
	/* Taken, so that a count is in one report or back in dropped[]. */
	for (int i = LOG_DEBUG; i >= 0; i--) {
		n[i] = __atomic_exchange_n(&dropped[i], 0, __ATOMIC_RELAXED);
		total += n[i];
		if (n[i] && i < prio)
			prio = i;
	}
	if (!total)
		return true;
	format_report(msg, sizeof(msg), n, total);
	if (send_message(prio, -1, NULL, msg, total) == 0)
		return true;
	for (int i = 0; i <= LOG_DEBUG; i++)
		__atomic_add_fetch(&dropped[i], n[i], __ATOMIC_RELAXED);
	return false;
}

void xb_log_sink_emit(int prio, int domid, const char *device, const char *msg)
{
	if (prio < 0)
		prio = 0;
	if (prio > LOG_DEBUG)
		prio = LOG_DEBUG;
	/* The loss is told before what comes after it. */
	if (!xb_log_sink_report_dropped() ||
	    send_message(prio, domid, device, msg, 0) != 0)
		count_dropped(prio);
}
