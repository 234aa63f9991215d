/* Logging: one line per event on stderr, "<time> <level> <service> <message>".
 * Thread-safe: lines never interleave (access lines are batched, below).
 * Never pass parameters, keys, bodies or personal data: callers log ids,
 * routes, statuses and durations only. */
#ifndef CM_LOG_H
#define CM_LOG_H

enum cm_log_level { CM_LOG_DEBUG, CM_LOG_INFO, CM_LOG_WARN, CM_LOG_ERROR };

/* service is borrowed for the program's life (set once in main before threads
 * start); min is the lowest level printed. */
void cm_log_setup(const char *service, enum cm_log_level min);

/* Written at once (after any buffered access lines, to keep the order). */
void cm_log(enum cm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The one-line-per-request access log, at info level: buffered (up to 32
 * KiB) and written when the buffer fills, when cm_log() writes, and by
 * cm_log_flush(), which the server's housekeeping thread calls every second
 * and at shutdown. A synchronous write per request costs a service about a
 * quarter of its throughput (8 threads appending to one file). */
void cm_log_access(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cm_log_flush(void);

#endif
