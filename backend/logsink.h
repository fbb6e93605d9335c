/*
 * logsink.h - where a log message goes, without ever waiting for it.
 *
 * The journal: a datagram of the native protocol (backend/logrecord.h) to
 * its socket, sent without blocking. stderr: one line, written without
 * blocking (a socket, the journal's stream, gets MSG_DONTWAIT; a pipe or
 * terminal is written only when poll() says it has room). A journal
 * socket with nobody behind it (journald stopped) sends the message to
 * stderr instead, with the "<N>" priority prefix the stream parses.
 *
 * A message the target cannot take at once (journald stalled: restarting,
 * flushing to a slow disk, its queue full) is dropped and counted per
 * priority, never lost silently: the next message that goes through is
 * preceded by one line "N log messages dropped (journal busy): ..." with
 * the field XENBACKD_LOG_DROPPED=N and MESSAGE_ID XB_LOG_DROPPED_ID, at
 * the priority of the most severe message lost (warning at least);
 * xb_log_sink_report_dropped() sends it when the daemon is otherwise
 * quiet (the main loop calls it every few seconds).
 *
 * Every function is safe from any thread, and a message is one send:
 * messages of different threads never mix. Nothing is queued in the
 * process, so the order of one thread's messages is kept and a crash
 * loses nothing that was sent (the socket's queue is journald's).
 */
#ifndef XB_BACKEND_LOGSINK_H
#define XB_BACKEND_LOGSINK_H

#include <stdbool.h>

#define XB_LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"
/* journalctl MESSAGE_ID=... lists the reports of dropped messages. */
#define XB_LOG_DROPPED_ID "90c038e4feaf4e3dbaff1fa11998e281"

/*
 * The journal at journal_path (its socket, made at the first call, is
 * kept for the life of the process) or stderr. Main thread, at start and
 * on reload; only tests change journal_path, with nothing else logging.
 */
int xb_log_sink_select(bool journal, const char *journal_path);

/* msg: one line, no newline; device NULL and domid < 0 if not a device. */
void xb_log_sink_emit(int prio, int domid, const char *device, const char *msg);

/* Reports the messages dropped, if any: false if they still wait. */
bool xb_log_sink_report_dropped(void);

/* Messages of priority prio dropped and not yet reported. */
unsigned long xb_log_sink_dropped(int prio);

#endif
