/* Logging: one line per event on stderr, "<time> <level> <service> <message>".
 * Thread-safe (one fprintf per line). Never pass parameters, keys, bodies or
 * personal data: callers log ids, routes, statuses and durations only. */
#ifndef CM_LOG_H
#define CM_LOG_H

enum cm_log_level { CM_LOG_DEBUG, CM_LOG_INFO, CM_LOG_WARN, CM_LOG_ERROR };

/* service is borrowed for the program's life (set once in main before threads
 * start); min is the lowest level printed. */
void cm_log_setup(const char *service, enum cm_log_level min);

void cm_log(enum cm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
