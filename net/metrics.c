/*
 * metrics.c — GET /metrics in the Prometheus text format (SPEC §4).
 *
 * Counters are plain integers owned by the loop thread; storage figures come
 * from stor_metrics_get. Labels are route templates and hall ids only:
 * nothing about a ticket or a citizen is ever a label or a value here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "srv.h"

static const int statuses[] = {101, 200, 201, 204, 304, 400, 401, 403, 404,
                               405, 409, 413, 429, 431, 500, 503, 0};
#define NSTATUS ((int)(sizeof statuses / sizeof statuses[0]))

/* Command latency bucket bounds, µs. */
static const uint64_t lat_us[MET_LAT_BUCKETS] = {250,   500,   1000,   2500,   5000,   10000,
                                                 25000, 50000, 100000, 250000, 500000, 1000000};

void metrics_request(srv *s, int route, int status)
{
    if (route < 0 || route >= RT__COUNT)
        route = RT_NONE;
    int i = 0;
    while (i < NSTATUS - 1 && statuses[i] != status)
        i++;
    s->m.req_status[route][i]++;
}

void metrics_cmd_latency(srv *s, uint64_t us)
{
    int i = 0;
    while (i < MET_LAT_BUCKETS && us > lat_us[i])
        i++;
    s->m.cmd_lat[i]++;
    s->m.cmd_lat_sum_us += us;
    s->m.cmd_count++;
}

static void out(codec_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(codec_buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        codec_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void hist(codec_buf *b, const char *name, const char *help, const uint64_t *counts,
                 const double *bounds, int nb, double sum)
{
    out(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (int i = 0; i < nb; i++) {
        cum += counts[i];
        out(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
    }
    cum += counts[nb];
    out(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %g\n%s_count %llu\n", name, (unsigned long long)cum,
        name, sum, name, (unsigned long long)cum);
}

void metrics_write(srv *s, codec_buf *b)
{
    out(b, "# HELP antrean_http_requests_total HTTP requests by route and status.\n"
           "# TYPE antrean_http_requests_total counter\n");
    for (int r = 0; r < RT__COUNT; r++) {
        for (int i = 0; i < NSTATUS; i++) {
            if (!s->m.req_status[r][i])
                continue;
            char st[8];
            snprintf(st, sizeof st, "%d", statuses[i]);
            out(b, "antrean_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n", route_names[r],
                statuses[i] ? st : "other", (unsigned long long)s->m.req_status[r][i]);
        }
    }

    double lb[MET_LAT_BUCKETS];
    for (int i = 0; i < MET_LAT_BUCKETS; i++)
        lb[i] = (double)lat_us[i] / 1e6;
    hist(b, "antrean_command_seconds", "Command latency, receipt to reply (after commit).",
         s->m.cmd_lat, lb, MET_LAT_BUCKETS, (double)s->m.cmd_lat_sum_us / 1e6);

    stor_metrics sm;
    memset(&sm, 0, sizeof sm);
    stor_metrics_get(s->st, &sm);
    static const double bb[7] = {1, 3, 15, 63, 255, 1023, 4095};
    hist(b, "antrean_commit_batch_events", "Events per storage commit.", sm.batch_hist, bb, 7,
         (double)sm.events);
    static const double cb[9] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25};
    hist(b, "antrean_commit_seconds", "Storage commit + fsync latency.", sm.commit_us_hist, cb, 9,
         (double)sm.commit_us_sum / 1e6);
    out(b, "# TYPE antrean_commits_total counter\nantrean_commits_total %llu\n",
        (unsigned long long)sm.commits);
    out(b, "# TYPE antrean_stored_events_total counter\nantrean_stored_events_total %llu\n",
        (unsigned long long)sm.events);
    out(b, "# TYPE antrean_stored_bytes_total counter\nantrean_stored_bytes_total %llu\n",
        (unsigned long long)sm.bytes);
    out(b, "# TYPE antrean_storage_map_bytes gauge\nantrean_storage_map_bytes %llu\n",
        (unsigned long long)sm.map_size);
    out(b,
        "# TYPE antrean_retention_deleted_total counter\nantrean_retention_deleted_total %llu\n"
        "# TYPE antrean_retention_erased_total counter\nantrean_retention_erased_total %llu\n",
        (unsigned long long)sm.retention_deleted, (unsigned long long)sm.retention_erased);
    out(b, "# TYPE antrean_storage_failed gauge\nantrean_storage_failed %d\n",
        sm.failed || s->broken ? 1 : 0);

    out(b, "# TYPE antrean_connections gauge\nantrean_connections %u\n", s->nconns);
    out(b, "# TYPE antrean_connections_total counter\nantrean_connections_total %llu\n",
        (unsigned long long)s->m.conns_total);
    out(b,
        "# TYPE antrean_connections_rejected_total counter\n"
        "antrean_connections_rejected_total %llu\n",
        (unsigned long long)s->m.conns_rejected);
    out(b, "# TYPE antrean_websockets gauge\nantrean_websockets %u\n", s->nws);
    out(b, "# TYPE antrean_subscribers gauge\nantrean_subscribers %u\n", s->nsubs);
    out(b,
        "# TYPE antrean_slow_subscribers_dropped_total counter\n"
        "antrean_slow_subscribers_dropped_total %llu\n",
        (unsigned long long)s->m.ws_dropped_slow);
    out(b,
        "# TYPE antrean_ws_protocol_closes_total counter\nantrean_ws_protocol_closes_total %llu\n",
        (unsigned long long)s->m.ws_closed_proto);
    out(b, "# TYPE antrean_ws_messages_total counter\nantrean_ws_messages_total %llu\n",
        (unsigned long long)s->m.ws_msgs_in);
    out(b, "# TYPE antrean_sse_streams gauge\nantrean_sse_streams %u\n", s->nsse);
    out(b, "# TYPE antrean_sse_streams_total counter\nantrean_sse_streams_total %llu\n",
        (unsigned long long)s->m.sse_total);
    out(b,
        "# TYPE antrean_sse_slow_dropped_total counter\n"
        "antrean_sse_slow_dropped_total %llu\n",
        (unsigned long long)s->m.sse_dropped_slow);
    out(b, "# TYPE antrean_rate_limited_total counter\nantrean_rate_limited_total %llu\n",
        (unsigned long long)s->m.rate_limited);

    int64_t now = srv_now_ms();
    out(b, "# HELP antrean_hall_events_total Events published per hall since start.\n"
           "# TYPE antrean_hall_events_total counter\n");
    for (size_t i = 0; i < s->nhalls; i++)
        out(b, "antrean_hall_events_total{hall=\"%s\"} %llu\n", s->halls[i]->id,
            (unsigned long long)s->halls[i]->events_total);
    out(b, "# TYPE antrean_hall_seq gauge\n");
    for (size_t i = 0; i < s->nhalls; i++)
        out(b, "antrean_hall_seq{hall=\"%s\"} %llu\n", s->halls[i]->id,
            (unsigned long long)eng_hall_seq(s->halls[i]->h));
    out(b, "# HELP antrean_tickets_waiting Tickets waiting per hall.\n"
           "# TYPE antrean_tickets_waiting gauge\n");
    for (size_t i = 0; i < s->nhalls; i++) {
        srv_hall *h = s->halls[i];
        const eng_config *cfg = eng_hall_config(h->h);
        uint64_t waiting = 0;
        for (int k = 0; k < cfg->nservices; k++) {
            eng_service_live live;
            if (eng_service_live_get(h->h, k, now, &live) == 0)
                waiting += live.waiting;
        }
        out(b, "antrean_tickets_waiting{hall=\"%s\"} %llu\n", h->id, (unsigned long long)waiting);
    }
}
