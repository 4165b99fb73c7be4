/*
 * log.c — logfmt lines on stderr: access lines and server events.
 *
 * stderr is fully buffered and flushed once per loop turn, so a busy server
 * pays one write per turn, not one per request. Access lines name the route
 * template (never the path, which holds ticket ids), the status and the
 * duration; no address, token, body or citizen data is ever logged.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "srv.h"

/* Set once by main before the loop starts and only read afterwards: the one
 * piece of process state here, because log_line has callers (storage
 * recovery, start-up) that have no srv at hand. */
static int min_level = LOG_INFO;

static int level_of(const char *name)
{
    int l = log_level_from_name(name);
    return l < 0 ? LOG_INFO : l;
}

int log_level_from_name(const char *name)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void log_set_level(int level)
{
    min_level = level;
}

static void stamp(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

void log_line(const char *level, const char *msg, const char *fmt, ...)
{
    if (level_of(level) < min_level)
        return;
    stamp();
    fprintf(stderr, " level=%s msg=\"%s\"", level, msg);
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputc(' ', stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
}

void log_access(srv *s, conn *c, int method, int route, int status, uint64_t us)
{
    (void)s;
    if (LOG_INFO < min_level)
        return;
    stamp();
    fprintf(
        stderr, " level=info msg=access conn=%llu method=%s route=\"%s\" status=%d dur_us=%llu\n",
        (unsigned long long)c->id, http_method_str((enum http_method)method),
        route >= 0 && route < RT__COUNT ? route_names[route] : "?", status, (unsigned long long)us);
}

void log_flush(void)
{
    fflush(stderr);
}
