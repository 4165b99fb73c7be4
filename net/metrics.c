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

/* One unlabelled sample with its HELP and TYPE (promtool wants both). */
static void one(codec_buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
    out(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
        (unsigned long long)v);
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
    one(b, "antrean_commits_total", "counter", "Storage commits (one fsync each).", sm.commits);
    one(b, "antrean_stored_events_total", "counter", "Events written to the log.", sm.events);
    one(b, "antrean_stored_bytes_total", "counter", "Bytes of events written to the log.",
        sm.bytes);
    one(b, "antrean_storage_map_bytes", "gauge", "Current LMDB map size.", sm.map_size);
    one(b, "antrean_retention_deleted_total", "counter",
        "Log records deleted by retention (--keep-days).", sm.retention_deleted);
    one(b, "antrean_retention_erased_total", "counter",
        "Log records whose citizen data retention erased (--keep-pii-days).", sm.retention_erased);
    one(b, "antrean_storage_failed", "gauge", "1 when storage failed and writes are refused.",
        sm.failed || s->broken ? 1 : 0);

    one(b, "antrean_connections", "gauge", "Open connections.", s->nconns);
    one(b, "antrean_connections_total", "counter", "Connections accepted.", s->m.conns_total);
    one(b, "antrean_connections_rejected_total", "counter",
        "Connections refused with 503 (--max-conns or shutting down).", s->m.conns_rejected);
    one(b, "antrean_websockets", "gauge", "Open WebSocket connections.", s->nws);
    one(b, "antrean_subscribers", "gauge", "Hall subscriptions.", s->nsubs);
    one(b, "antrean_slow_subscribers_dropped_total", "counter",
        "Subscribers closed with 1008 for over 1 MiB of unsent output.", s->m.ws_dropped_slow);
    one(b, "antrean_ws_protocol_closes_total", "counter",
        "WebSockets closed for a protocol violation (1002, 1007, 1009).", s->m.ws_closed_proto);
    one(b, "antrean_ws_messages_total", "counter", "WebSocket messages received.", s->m.ws_msgs_in);
    one(b, "antrean_rate_limited_total", "counter", "Public issues refused with 429.",
        s->m.rate_limited);
    one(b, "antrean_sse_streams", "gauge", "Open Server-Sent Event streams.", s->nsse);
    one(b, "antrean_sse_streams_total", "counter", "Server-Sent Event streams opened.",
        s->m.sse_total);
    one(b, "antrean_sse_slow_dropped_total", "counter",
        "SSE streams closed for over the unsent-output limit.", s->m.sse_dropped_slow);

    int64_t now = srv_now_ms();
    out(b, "# HELP antrean_hall_events_total Events published per hall since start.\n"
           "# TYPE antrean_hall_events_total counter\n");
    for (size_t i = 0; i < s->nhalls; i++)
        out(b, "antrean_hall_events_total{hall=\"%s\"} %llu\n", s->halls[i]->id,
            (unsigned long long)s->halls[i]->events_total);
    out(b, "# HELP antrean_hall_seq Last event seq per hall.\n# TYPE antrean_hall_seq gauge\n");
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
