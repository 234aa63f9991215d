/* Line-oriented logging to stderr. The service name and threshold are written
 * once in main() before any thread starts and only read afterwards, which is
 * why they may live in file scope; everything else is per call. Each line is
 * formatted into a stack buffer and written with one write(2), so lines
 * from concurrent workers never interleave and a request costs one system
 * call for its log line. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "cm/log.h"
#include "cm/banned.h"

static const char *log_service = "-";
static enum cm_log_level log_min = CM_LOG_INFO;

void cm_log_setup(const char *service, enum cm_log_level min)
{
    log_service = service;
    log_min = min;
}

void cm_log(enum cm_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    char line[1024];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    int n;

    if (level < log_min)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ts.tv_nsec / 1000000, names[level], log_service);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    for (n = 0; line[n]; n++)
        if (line[n] == '\n' || line[n] == '\r')
            line[n] = ' '; /* one event, one line */
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr); /* unbuffered: one write(2) */
}
