/*
 * log.h - the daemon's one logging path.
 *
 * Every message goes through xb_log_ctx(): to the journal with the fields
 * XENBACKD_DOMID and XENBACKD_DEVICE when the daemon runs under systemd
 * (stderr is the journal stream, or it runs in the background on a
 * journald host), to stderr otherwise; a message the journal refuses
 * (journald stopped) goes to stderr with the "<N>" priority prefix that
 * the journal's stream parses. Safe to call from any thread: a message is
 * formatted into one buffer and sent with one call, so lines of different
 * threads never interleave.
 *
 * Logging never waits (backend/logsink.h): a message the journal (or
 * stderr) cannot take at once is dropped and counted, and the next one
 * that goes through is preceded by "N log messages dropped (journal
 * busy): ..."; xb_log_report_dropped() sends that line when nothing else
 * is logged (the main loop calls it every few seconds).
 *
 * Messages a guest can trigger (a bad request, a malformed packet) must go
 * through a struct xb_ratelimit, so that a hostile frontend cannot flood
 * the journal: see xb_dev_log_ratelimited() in backend/device.h.
 */
#ifndef XB_BACKEND_LOG_H
#define XB_BACKEND_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h> /* LOG_ERR ... LOG_DEBUG: the priorities used here */

enum xb_log_target {
	XB_LOG_AUTO,	/* journal if stderr is the journal stream */
	XB_LOG_STDERR,
	XB_LOG_JOURNAL,
};

/* Chooses the target; XB_LOG_AUTO looks at $JOURNAL_STREAM. */
void xb_log_init(enum xb_log_target target);
/* Reports the messages dropped while the target was busy, if it can now. */
void xb_log_report_dropped(void);
void xb_log_set_level(int prio);
int xb_log_get_level(void);
bool xb_log_enabled(int prio);
/* "err", "warning", "notice", "info", "debug" (or 3..7): 0, or -EINVAL. */
int xb_log_parse_level(const char *s, int *prio);
const char *xb_log_level_name(int prio);

/*
 * domid < 0 and device NULL when the message is not about a device. The
 * message carries no trailing newline.
 */
void xb_log_ctx(int prio, int domid, const char *device, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));
void xb_logv_ctx(int prio, int domid, const char *device, const char *fmt,
		 va_list ap) __attribute__((format(printf, 4, 0)));

#define xb_log(prio, ...) xb_log_ctx(prio, -1, NULL, __VA_ARGS__)
#define xb_err(...) xb_log(LOG_ERR, __VA_ARGS__)
#define xb_warn(...) xb_log(LOG_WARNING, __VA_ARGS__)
#define xb_notice(...) xb_log(LOG_NOTICE, __VA_ARGS__)
#define xb_info(...) xb_log(LOG_INFO, __VA_ARGS__)
#define xb_debug(...) xb_log(LOG_DEBUG, __VA_ARGS__)

/*
 * Rate limit for guest-triggered messages: at most XB_RATELIMIT_BURST
 * messages per XB_RATELIMIT_INTERVAL_MS; the first message after a
 * suppressed period reports how many were dropped. Thread-safe.
 */
#define XB_RATELIMIT_INTERVAL_MS 5000
#define XB_RATELIMIT_BURST 10

struct xb_ratelimit {
	pthread_mutex_t lock;
	uint64_t window_start_ms;
	unsigned int in_window;
	unsigned int suppressed;
};

#define XB_RATELIMIT_INIT                                                    \
	{                                                                    \
		.lock = PTHREAD_MUTEX_INITIALIZER                            \
	}

void xb_ratelimit_init(struct xb_ratelimit *rl);
void xb_ratelimit_destroy(struct xb_ratelimit *rl);
/*
 * True if a message may be logged now; *suppressed is then the number of
 * messages dropped since the last one that was allowed.
 */
bool xb_ratelimit_allow(struct xb_ratelimit *rl, unsigned int *suppressed);

void xb_log_ratelimited(struct xb_ratelimit *rl, int prio, int domid,
			const char *device, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
