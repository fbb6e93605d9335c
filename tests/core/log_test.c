/*
 * log_test: the journal's native records (backend/logrecord.c) and the
 * non-blocking sink (backend/logsink.c), against a datagram socket of the
 * test's own standing in for journald's, and a pipe standing in for
 * stderr:
 *   - fields in the plain form, multi-line and binary values in the
 *     length form, read back byte for byte; a long value cut with the
 *     record still well-formed; bad field names refused;
 *   - a device's message carries MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
 *     XENBACKD_DOMID, XENBACKD_DEVICE;
 *   - a journal nobody reads: thousands of messages from one thread and
 *     from four at once return at once (an alarm fails the run if one
 *     waits), every one either received or counted per priority, and
 *     the count is reported, first, once the socket drains;
 *   - no journal behind the socket, stderr a full pipe: the same on
 *     stderr with the "<N>" prefix; stderr as the target: "stderr busy".
 * PASS:/FAIL: lines.
 */
#include "backend/log.h"
#include "backend/logrecord.h"
#include "backend/logsink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int failures;
static char dir[64];
static char sock_path[128];

static void result(bool ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS: log: %s\n", name);
		return;
	}
	failures++;
	printf("FAIL: log: %s ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* ---- reading records back (what journald's native parser does) ------ */

#define FIELDS_MAX 16

struct field {
	char name[80];
	const char *value;
	size_t len;
};

struct parsed {
	int n;
	struct field f[FIELDS_MAX];
};

/* 0, or -1 if buf is not a sequence of well-formed fields. */
static int parse_record(const char *buf, size_t len, struct parsed *out)
{
	size_t i = 0;

	out->n = 0;
	while (i < len) {
		struct field *f = &out->f[out->n];
		size_t start = i, nl;

		if (out->n == FIELDS_MAX)
			return -1;
		while (i < len && buf[i] != '=' && buf[i] != '\n')
			i++;
		if (i == len || i - start >= sizeof(f->name))
			return -1;
		memcpy(f->name, buf + start, i - start);
		f->name[i - start] = '\0';
		if (buf[i] == '=') {
			const char *e = memchr(buf + i + 1, '\n', len - i - 1);

			if (!e)
				return -1;
			f->value = buf + i + 1;
			f->len = e - f->value;
			i = e - buf + 1;
		} else {
			uint64_t l = 0;

			if (len - i - 1 < 8)
				return -1;
			for (int b = 7; b >= 0; b--)
				l = l << 8 | (unsigned char)buf[i + 1 + b];
			nl = i + 1 + 8 + l;
			if (l > len || nl >= len || buf[nl] != '\n')
				return -1;
			f->value = buf + i + 9;
			f->len = l;
			i = nl + 1;
		}
		out->n++;
	}
	return 0;
}

static const struct field *find(const struct parsed *p, const char *name)
{
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->f[i].name, name))
			return &p->f[i];
	return NULL;
}

static bool has(const struct parsed *p, const char *name, const char *value)
{
	const struct field *f = find(p, name);

	return f && f->len == strlen(value) && !memcmp(f->value, value, f->len);
}

/* ---- records ---------------------------------------------------------- */

static void test_plain_field(void)
{
	struct xb_log_record r;
	int rc;

	xb_log_record_reset(&r);
	rc = xb_log_record_add_str(&r, "MESSAGE", "vbd/5/51712: a\tb");
	result(rc == 0 && r.len == 25 &&
		       !memcmp(r.buf, "MESSAGE=vbd/5/51712: a\tb\n", 25),
	       "record: text (a tab too) in the plain form NAME=value",
	       "rc %d len %zu", rc, r.len);
}

static void test_multiline_field(void)
{
	/* the length, 10, as 8 bytes little-endian */
	static const char want[] = "MESSAGE\n"
				   "\x0a\0\0\0\0\0\0\0"
				   "line 1\nl 2\n"
				   "PRIORITY=6\n";
	struct xb_log_record r;
	struct parsed p;

	xb_log_record_reset(&r);
	xb_log_record_add_str(&r, "MESSAGE", "line 1\nl 2");
	xb_log_record_add_str(&r, "PRIORITY", "6");
	result(r.len == sizeof(want) - 1 && !memcmp(r.buf, want, r.len) &&
		       parse_record(r.buf, r.len, &p) == 0 && p.n == 2 &&
		       has(&p, "MESSAGE", "line 1\nl 2") &&
		       has(&p, "PRIORITY", "6"),
	       "record: a multi-line value in the length form (64-bit LE)",
	       "len %zu", r.len);
}

static void test_binary_field(void)
{
	unsigned char v[256];
	struct xb_log_record r;
	struct parsed p;
	const struct field *f;

	for (int i = 0; i < 256; i++)
		v[i] = 255 - i; /* every byte, NUL and newline among them */
	xb_log_record_reset(&r);
	xb_log_record_add(&r, "XENBACKD_DATA", v, sizeof(v));
	xb_log_record_add_str(&r, "SYSLOG_IDENTIFIER", "xenbackd");
	f = parse_record(r.buf, r.len, &p) == 0 ? find(&p, "XENBACKD_DATA")
						: NULL;
	result(f && f->len == sizeof(v) && !memcmp(f->value, v, sizeof(v)) &&
		       has(&p, "SYSLOG_IDENTIFIER", "xenbackd") && !r.cut,
	       "record: binary-safe: all 256 byte values read back",
	       "parsed %d", f ? (int)f->len : -1);
}

static void test_long_field(void)
{
	static char big[3 * XB_LOG_RECORD_MAX];
	struct xb_log_record r;
	struct parsed p;
	const struct field *f;
	int rc1, rc2, rc3;

	memset(big, 'x', sizeof(big) - 1);
	big[100] = '\n'; /* length form, to cut its length too */
	xb_log_record_reset(&r);
	rc1 = xb_log_record_add_str(&r, "PRIORITY", "3");
	rc2 = xb_log_record_add_str(&r, "MESSAGE", big);
	rc3 = xb_log_record_add_str(&r, "XENBACKD_DEVICE", "vbd/5/51712");
	f = parse_record(r.buf, r.len, &p) == 0 ? find(&p, "MESSAGE") : NULL;
	result(rc1 == 0 && rc2 == -ENOSPC && rc3 == -ENOSPC && r.cut &&
		       r.len == XB_LOG_RECORD_MAX && f &&
		       f->len > XB_LOG_RECORD_MAX - 40 &&
		       !memcmp(f->value, big, f->len) && p.n == 2,
	       "record: a value too long is cut, the record still well-formed",
	       "rc %d %d %d len %zu fields %d", rc1, rc2, rc3, r.len, p.n);

	memset(big, 'y', sizeof(big) - 1);
	xb_log_record_reset(&r);
	rc2 = xb_log_record_add_str(&r, "MESSAGE", big);
	f = parse_record(r.buf, r.len, &p) == 0 ? find(&p, "MESSAGE") : NULL;
	result(rc2 == -ENOSPC && r.len == XB_LOG_RECORD_MAX && f &&
		       f->len == XB_LOG_RECORD_MAX - 9,
	       "record: a long text value cut in the plain form",
	       "rc %d len %zu", rc2, r.len);
}

static void test_bad_names(void)
{
	static const char *const bad[] = {
		"",
		"_PID",
		"1ABC",
		"message",
		"MES SAGE",
		"A=B",
		"A\nB",
		"MESSAGE-ID",
		"X234567890123456789012345678901234567890123456789012345678901"
		"2345",
	};
	struct xb_log_record r;
	bool ok = true;

	xb_log_record_reset(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok = ok && xb_log_record_add_str(&r, bad[i], "v") == -EINVAL;
	result(ok && r.len == 0 &&
		       xb_log_record_add_str(&r, "XENBACKD_DOMID", "5") == 0,
	       "record: field names journald would refuse are refused",
	       "len %zu", r.len);
}

/* ---- the sink --------------------------------------------------------- */

static int bind_journal(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("log_test: bind");
		exit(1);
	}
	return fd;
}

/* The next datagram, parsed into *p (buf keeps its bytes); -1 if none. */
static int receive(int fd, char *buf, size_t size, struct parsed *p)
{
	ssize_t n = recv(fd, buf, size, MSG_DONTWAIT);

	if (n < 0)
		return -1;
	return parse_record(buf, n, p);
}

static int drain(int fd)
{
	char buf[XB_LOG_RECORD_MAX];
	int n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

static void test_device_fields(int jfd)
{
	char buf[XB_LOG_RECORD_MAX];
	struct parsed p;
	int rc;

	xb_log_ctx(LOG_ERR, 5, "vbd/5/51712", "bad request %d\nfake", 7);
	rc = receive(jfd, buf, sizeof(buf), &p);
	result(rc == 0 && p.n == 5 &&
		       has(&p, "MESSAGE", "vbd/5/51712: bad request 7?fake") &&
		       has(&p, "PRIORITY", "3") &&
		       has(&p, "SYSLOG_IDENTIFIER", "xenbackd") &&
		       has(&p, "XENBACKD_DOMID", "5") &&
		       has(&p, "XENBACKD_DEVICE", "vbd/5/51712"),
	       "sink: a device's message: MESSAGE (controls neutralised), "
	       "PRIORITY, SYSLOG_IDENTIFIER, XENBACKD_DOMID, XENBACKD_DEVICE",
	       "rc %d fields %d", rc, p.n);
}

static unsigned long dropped_total(void)
{
	unsigned long n = 0;

	for (int i = 0; i <= LOG_DEBUG; i++)
		n += xb_log_sink_dropped(i);
	return n;
}

/* The report as the first datagram after the drain, then the message. */
static void check_report(int jfd, const char *name, unsigned long want,
			 const char *want_prio, const char *want_text)
{
	char buf[XB_LOG_RECORD_MAX], total[32];
	struct parsed p;
	const struct field *m;
	bool ok;

	snprintf(total, sizeof(total), "%lu", want);
	xb_log(LOG_NOTICE, "after the drain");
	ok = receive(jfd, buf, sizeof(buf), &p) == 0;
	m = ok ? find(&p, "MESSAGE") : NULL;
	ok = ok && m && has(&p, "XENBACKD_LOG_DROPPED", total) &&
	     has(&p, "MESSAGE_ID", XB_LOG_DROPPED_ID) &&
	     has(&p, "PRIORITY", want_prio) && has(&p, "MESSAGE", want_text);
	result(ok && receive(jfd, buf, sizeof(buf), &p) == 0 &&
		       has(&p, "MESSAGE", "after the drain") &&
		       dropped_total() == 0,
	       name, "(%.*s) want %s", m ? (int)m->len : 0, m ? m->value : "",
	       want_text);
}

static void test_stalled_journal(int jfd)
{
	unsigned long sent = 0, got, err, debug;
	char want[128];

	alarm(20); /* a send that waits fails the run */
	for (int i = 0; i < 5000; i++, sent++)
		xb_log_ctx(i % 100 ? LOG_DEBUG : LOG_ERR, 5, "vbd/5/51712",
			   "request %d failed", i);
	alarm(0);
	err = xb_log_sink_dropped(LOG_ERR);
	debug = xb_log_sink_dropped(LOG_DEBUG);
	got = drain(jfd);
	result(got > 0 && got + err + debug == sent && err > 0 && debug > 0 &&
		       dropped_total() == err + debug,
	       "sink: 5000 messages into a journal nobody reads return at "
	       "once, each received or counted by priority",
	       "received %lu, dropped %lu err %lu debug", got, err, debug);
	snprintf(want, sizeof(want),
		 "%lu log messages dropped (journal busy): %lu err, %lu debug",
		 err + debug, err, debug);
	check_report(jfd,
		     "sink: the count reported first once the journal drains, "
		     "at the priority of the worst lost (err)",
		     err + debug, "3", want);
}

static void *log_a_lot(void *arg)
{
	long t = (long)arg;

	for (int i = 0; i < 2000; i++)
		xb_log_ctx(LOG_INFO, (int)t, "vif/1/0", "thread %ld line %d", t,
			   i);
	return NULL;
}

static void test_threads(int jfd)
{
	pthread_t th[4];
	unsigned long got, info;
	char want[128];

	alarm(20);
	for (long t = 0; t < 4; t++)
		pthread_create(&th[t], NULL, log_a_lot, (void *)t);
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	alarm(0);
	info = xb_log_sink_dropped(LOG_INFO);
	got = drain(jfd);
	result(got + info == 8000 && info > 0 && dropped_total() == info,
	       "sink: four threads' 8000 messages into a stalled journal: "
	       "none waits, each received or counted",
	       "received %lu dropped %lu", got, info);
	snprintf(want, sizeof(want),
		 "%lu log messages dropped (journal busy): %lu info", info,
		 info);
	check_report(jfd, "sink: the threads' loss reported at warning", info,
		     "4", want);
	result(xb_log_sink_report_dropped() && drain(jfd) == 0,
	       "sink: nothing dropped, nothing reported", "(sent)");
}

/* stderr a pipe nobody reads (O_NONBLOCK on our end: only for reading). */
static int stderr_to_pipe(int *saved)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		exit(1);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	return p[0];
}

static void stderr_back(int saved)
{
	dup2(saved, STDERR_FILENO);
	close(saved);
}

static size_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	return len;
}

static unsigned long count_lines(const char *buf, const char *prefix)
{
	unsigned long n = 0;

	for (const char *l = buf; l && *l;
	     l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (!strncmp(l, prefix, strlen(prefix)))
			n++;
	return n;
}

static void test_stderr_full(const char *name, bool journal,
			     const char *line_prefix, const char *report)
{
	static char out[1 << 20];
	unsigned long got, lost;
	int saved, rfd = stderr_to_pipe(&saved);
	char want[160];
	size_t len;

	/* No socket at the journal's path: its stream, stderr, instead. */
	unlink(sock_path);
	xb_log_sink_select(journal, sock_path);
	alarm(20);
	/* 3000 lines of 100 bytes and more: several times a pipe's room */
	for (int i = 0; i < 3000; i++)
		xb_log_ctx(LOG_WARNING, -1, NULL, "line %d %0100d", i, 0);
	alarm(0);
	lost = xb_log_sink_dropped(LOG_WARNING);
	read_all(rfd, out, sizeof(out));
	got = count_lines(out, line_prefix);
	xb_log(LOG_NOTICE, "after the drain");
	len = read_all(rfd, out, sizeof(out));
	stderr_back(saved);
	close(rfd);
	snprintf(want, sizeof(want), report, lost, lost);
	result(lost > 0 && got + lost == 3000 && dropped_total() == 0 &&
		       len == strlen(want) && !strncmp(out, want, strlen(want)),
	       name, "received %lu dropped %lu then (%.*s) want (%s)", got,
	       lost, (int)(len > 200 ? 200 : len), out, want);
}

int main(void)
{
	int jfd;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	strcpy(dir, "/tmp/xb-logtest.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/socket", dir);

	test_plain_field();
	test_multiline_field();
	test_binary_field();
	test_long_field();
	test_bad_names();

	jfd = bind_journal();
	xb_log_set_level(LOG_DEBUG);
	xb_log_sink_select(true, sock_path);
	test_device_fields(jfd);
	test_stalled_journal(jfd);
	test_threads(jfd);
	close(jfd);

	test_stderr_full("sink: no journal behind the socket, stderr a full "
			 "pipe: <N> lines, none waits, the loss reported",
			 true, "<4>line ",
			 "<4>%lu log messages dropped (journal busy): "
			 "%lu warning\n<5>after the drain\n");
	test_stderr_full("sink: stderr the target and a full pipe: the loss "
			 "reported as stderr busy",
			 false, "xenbackd: warning: line ",
			 "xenbackd: warning: %lu log messages dropped (stderr "
			 "busy): %lu warning\n"
			 "xenbackd: notice: after the drain\n");
	unlink(sock_path);
	rmdir(dir);
	return failures ? 1 : 0;
}
