/* log.c: logfmt lines on stderr; a mutex keeps lines from different threads whole. */
#include "agent/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static log_level_t min_level = LOG_INFO;
static long long process_start_us;

__attribute__((constructor)) static void note_process_start(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    process_start_us = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long log_process_start_us(void) { return process_start_us; }
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* The REST API changes the level while other threads log. */
void log_set_level(log_level_t l) { __atomic_store_n(&min_level, l, __ATOMIC_RELAXED); }
log_level_t log_get_level(void) { return __atomic_load_n(&min_level, __ATOMIC_RELAXED); }

const char *log_esc(const char *s)
{
    static __thread char bufs[8][2048];
    static __thread unsigned next;
    char *out = bufs[next++ % 8];
    size_t k = 0;
    for (; s && *s && k < sizeof bufs[0] - 3; s++) {
        if (*s == '"' || *s == '\\')
            out[k++] = '\\';
        out[k++] = *s == '\n' ? ' ' : *s;
    }
    out[k] = '\0';
    return out;
}

void log_msg(log_level_t l, const char *msg, const char *kvfmt, ...)
{
    static const char *names[] = { "debug", "info", "warn", "error", "fatal" };
    if (l < log_get_level())
        return;
    char line[4096];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=\"",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, names[l]);
    for (const char *p = msg; *p && n < (int)sizeof line - 8; p++) {
        if (*p == '"' || *p == '\\')
            line[n++] = '\\';
        line[n++] = *p == '\n' ? ' ' : *p;
    }
    line[n++] = '"';
    if (kvfmt && *kvfmt && n < (int)sizeof line - 2) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, kvfmt);
        int k = vsnprintf(line + n, sizeof line - (size_t)n - 1, kvfmt, ap);
        va_end(ap);
        if (k > 0)
            n += k < (int)(sizeof line - (size_t)n - 1) ? k : (int)(sizeof line - (size_t)n - 2);
    }
    line[n++] = '\n';
    pthread_mutex_lock(&log_lock);
    fwrite(line, 1, (size_t)n, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}
