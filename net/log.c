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
#include <time.h>

#include "srv.h"

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
