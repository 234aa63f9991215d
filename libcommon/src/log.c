/* Line-oriented logging to stderr. The service name and threshold are written
 * once in main() before any thread starts and only read afterwards, which is
 * why they may live in file scope. Each line is formatted into a stack
 * buffer. Access lines (one per request) are appended to a shared buffer
 * under a mutex and written in batches, like nginx's buffered access_log;
 * every other line is written at once with one write(2), after the buffer,
 * so lines never interleave and keep their order. The buffer is the one
 * piece of shared mutable state here, and the mutex is all it needs. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cm/log.h"
#include "cm/banned.h"

static const char *log_service = "-";
static enum cm_log_level log_min = CM_LOG_INFO;

#define ACCESS_BUF 32768
static pthread_mutex_t access_mu = PTHREAD_MUTEX_INITIALIZER;
static char access_buf[ACCESS_BUF];
static size_t access_len;

/* Writes the buffered access lines; access_mu held. */
static void drain(void)
{
    if (access_len > 0)
        fwrite(access_buf, 1, access_len, stderr);
    access_len = 0;
}

void cm_log_flush(void)
{
    pthread_mutex_lock(&access_mu);
    drain();
    pthread_mutex_unlock(&access_mu);
}

void cm_log_setup(const char *service, enum cm_log_level min)
{
    log_service = service;
    log_min = min;
}

/* Formats "<time> <level> <service> <message>\n" into line; returns its
 * length. */
static size_t format(char line[1024], enum cm_log_level level, const char *fmt, va_list ap)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    struct timespec ts;
    struct tm tm;
    int n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = snprintf(line, 1024, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                 names[level], log_service);
    if (n < 0 || n >= 1024)
        n = 0;
    vsnprintf(line + n, 1024 - (size_t)n - 1, fmt, ap);
    for (n = 0; line[n]; n++)
        if (line[n] == '\n' || line[n] == '\r')
            line[n] = ' '; /* one event, one line */
    line[n++] = '\n';
    return (size_t)n;
}

void cm_log(enum cm_log_level level, const char *fmt, ...)
{
    char line[1024];
    size_t n;
    va_list ap;

    if (level < log_min)
        return;
    va_start(ap, fmt);
    n = format(line, level, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&access_mu);
    drain();
    fwrite(line, 1, n, stderr); /* unbuffered: one write(2) */
    pthread_mutex_unlock(&access_mu);
}

void cm_log_access(const char *fmt, ...)
{
    char line[1024];
    size_t n;
    va_list ap;

    if (CM_LOG_INFO < log_min)
        return;
    va_start(ap, fmt);
    n = format(line, CM_LOG_INFO, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&access_mu);
    if (access_len + n > sizeof(access_buf))
        drain();
    memcpy(access_buf + access_len, line, n);
    access_len += n;
    pthread_mutex_unlock(&access_mu);
}
