/*
 * log.c - log levels, the formatting of a message and rate limits (see
 * log.h); where a message goes, without waiting, is logsink.c.
 */
#include "backend/log.h"

#include "backend/logsink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static int log_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg",	 [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "err",	 [LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice", [LOG_INFO] = "info",	[LOG_DEBUG] = "debug",
};

/* $JOURNAL_STREAM is "device:inode" of the journal's stream socket. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void xb_log_init(enum xb_log_target target)
{
	bool journal = target == XB_LOG_JOURNAL ||
		       (target == XB_LOG_AUTO && stderr_is_journal());

	/* A journal socket that cannot be made: stderr, said once there. */
	if (xb_log_sink_select(journal, XB_LOG_JOURNAL_SOCKET) < 0)
		xb_warn("cannot open the journal's socket: logging to stderr");
}

void xb_log_report_dropped(void)
{
	xb_log_sink_report_dropped();
}

void xb_log_set_level(int prio)
{
	if (prio < LOG_EMERG)
		prio = LOG_EMERG;
	if (prio > LOG_DEBUG)
		prio = LOG_DEBUG;
	__atomic_store_n(&log_level, prio, __ATOMIC_RELAXED);
}

int xb_log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

bool xb_log_enabled(int prio)
{
	return prio <= xb_log_get_level();
}

int xb_log_parse_level(const char *s, int *prio)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++) {
		if (!strcasecmp(s, level_names[i])) {
			*prio = i;
			return 0;
		}
	}
	if (s[0] >= '3' && s[0] <= '7' && s[1] == '\0') {
		*prio = s[0] - '0';
		return 0;
	}
	if (!strcasecmp(s, "error")) {
		*prio = LOG_ERR;
		return 0;
	}
	return -EINVAL;
}

const char *xb_log_level_name(int prio)
{
	if (prio < LOG_EMERG || prio > LOG_DEBUG)
		return "?";
	return level_names[prio];
}

/*
 * A message may quote what a guest wrote (a frontend node's value): a
 * newline in it would start a line of the guest's making in stderr and
 * the journal's stream, a priority prefix included. Control characters
 * become '?'.
 */
static void neutralise_controls(char *msg)
{
	for (unsigned char *p = (unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

void xb_logv_ctx(int prio, int domid, const char *device, const char *fmt,
		 va_list ap)
{
	char msg[LOG_LINE_MAX];
	int saved_errno = errno;

	if (!xb_log_enabled(prio))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	neutralise_controls(msg);
	xb_log_sink_emit(prio, domid, device, msg);
	errno = saved_errno;
}

void xb_log_ctx(int prio, int domid, const char *device, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xb_logv_ctx(prio, domid, device, fmt, ap);
	va_end(ap);
}

/* ---- rate limiting ---------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void xb_ratelimit_init(struct xb_ratelimit *rl)
{
	*rl = (struct xb_ratelimit){ 0 };
	pthread_mutex_init(&rl->lock, NULL);
}

void xb_ratelimit_destroy(struct xb_ratelimit *rl)
{
	pthread_mutex_destroy(&rl->lock);
}

bool xb_ratelimit_allow(struct xb_ratelimit *rl, unsigned int *suppressed)
{
	uint64_t now = now_ms();
	bool allow;

	pthread_mutex_lock(&rl->lock);
	if (rl->window_start_ms == 0 ||
	    now - rl->window_start_ms >= XB_RATELIMIT_INTERVAL_MS) {
		rl->window_start_ms = now;
		rl->in_window = 0;
	}
	allow = rl->in_window < XB_RATELIMIT_BURST;
	if (allow) {
		rl->in_window++;
		*suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
	}
	pthread_mutex_unlock(&rl->lock);
	return allow;
}

void xb_log_ratelimited(struct xb_ratelimit *rl, int prio, int domid,
			const char *device, const char *fmt, ...)
{
	unsigned int suppressed;
	va_list ap;

	if (!xb_log_enabled(prio) || !xb_ratelimit_allow(rl, &suppressed))
		return;
	if (suppressed)
		xb_log_ctx(prio, domid, device,
			   "%u similar messages suppressed", suppressed);
	va_start(ap, fmt);
	xb_logv_ctx(prio, domid, device, fmt, ap);
	va_end(ap);
}
