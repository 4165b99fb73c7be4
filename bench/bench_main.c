/*
 * bench_main.c — antrean-bench: options, the loopback-only check, server
 * figures from /proc, and the report (text or one JSON object).
 *
 *   antrean-bench SCENARIO [--server 127.0.0.1:8080] [--conns C | --rate R]
 *                 [--duration S] [--warmup S] [--server-pid PID] [--json] ...
 *
 * SCENARIO is poll, issue or fanout (see usage()). The server must be on
 * loopback: a load generator pointed at somebody else's host is an attack.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: antrean-bench poll|issue|fanout [options]\n"
            "       antrean-bench simulate --scenario NAME [--days N] [--seed S] (--help)\n"
            "       antrean-bench replay TRACE.jsonl [--baselines]   (SPEC §10)\n"
            "  --server HOST:PORT   loopback only: 127.x.x.x, localhost, [::1] (127.0.0.1:8080)\n"
            "  --hall ID            hall (mpp-demo)\n"
            "  --service ID         service to poll / issue tickets for (kk)\n"
            "  --conns C            keep-alive HTTP connections (poll/issue 50, fanout driver 4)\n"
            "  --rate R             open loop: R requests/s in total, latency from each\n"
            "                       request's intended send time (default: closed loop;\n"
            "                       fanout: tickets/s issued by the driver, default 100)\n"
            "  --duration S         measured seconds (10)\n"
            "  --warmup S           seconds before that, not recorded (1)\n"
            "  --inm-ratio P        poll: share of requests sending If-None-Match (0.5)\n"
            "  --path TARGET        poll: request target instead of the wait endpoint\n"
            "  --idem               issue: a unique idem key on every ticket\n"
            "  --subs N             fanout: WebSocket subscribers (antrean.v1.msgpack) (100)\n"
            "  --server-pid PID     report the server's CPU seconds and RSS over the run\n"
            "  --json               print one JSON object\n"
            "issue and fanout need a server started with big issue limits, e.g.\n"
            "  antrean-server --demo --issue-burst 1000000 --issue-per-min 100000000\n");
}

/* Accepts only loopback: 127.0.0.0/8, ::1, localhost. Fills o->addr and o->host. */
static int parse_server(const char *s, bench_opts *o)
{
    char host[64], port[8] = "8080";
    if (strncmp(s, "http://", 7) == 0)
        s += 7;
    const char *colon;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || (size_t)(rb - s - 1) >= sizeof host)
            return -1;
        memcpy(host, s + 1, (size_t)(rb - s - 1));
        host[rb - s - 1] = 0;
        colon = rb[1] == ':' ? rb + 1 : NULL;
        if (!colon && rb[1] && strcmp(rb + 1, "/") != 0)
            return -1;
    } else {
        colon = strrchr(s, ':');
        size_t hl = colon ? (size_t)(colon - s) : strlen(s);
        if (hl == 0 || hl >= sizeof host)
            return -1;
        memcpy(host, s, hl);
        host[hl] = 0;
    }
    if (colon) {
        size_t pl = strcspn(colon + 1, "/");
        if (pl == 0 || pl >= sizeof port)
            return -1;
        memcpy(port, colon + 1, pl);
        port[pl] = 0;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (*end || p < 1 || p > 65535)
        return -1;
    memset(&o->addr, 0, sizeof o->addr);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&o->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&o->addr;
    if (strcmp(host, "localhost") == 0) {
        a4->sin_family = AF_INET;
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a4->sin_port = htons((uint16_t)p);
    } else if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        if ((ntohl(a4->sin_addr.s_addr) >> 24) != 127)
            return -1;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
            return -1;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p);
    } else {
        return -1;
    }
    snprintf(o->host, sizeof o->host, "%s%s%s:%ld", a6->sin6_family == AF_INET6 ? "[" : "", host,
             a6->sin6_family == AF_INET6 ? "]" : "", p);
    return 0;
}

int bench_proc_sample(int pid, double *cpu_s, long *rss_kb, long *hwm_kb)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* the command name may hold spaces and parentheses: fields start after the last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ')': state(3) ... utime is field 14, stime 15 */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    *cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    *rss_kb = *hwm_kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    for (int i = 0; i < 100 && fgets(buf, sizeof buf, f); i++) {
        if (strncmp(buf, "VmRSS:", 6) == 0)
            *rss_kb = strtol(buf + 6, NULL, 10);
        else if (strncmp(buf, "VmHWM:", 6) == 0)
            *hwm_kb = strtol(buf + 6, NULL, 10);
    }
    fclose(f);
    return 0;
}

static int run_http(const bench_opts *o, bench_result *r)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) < 0)
        return -1;
    bench_load *l;
    int rc = bench_load_start(&loop, o, r, NULL, NULL, NULL, &l);
    if (rc == 0)
        uv_run(&loop, UV_RUN_DEFAULT);
    bench_load_free(l);
    uv_loop_close(&loop);
    return rc;
}

static const char *kind_name(int k)
{
    return k == BENCH_POLL     ? "poll"
           : k == BENCH_ISSUE  ? "issue"
           : k == BENCH_FANOUT ? "fanout"
                               : "day";
}

static void print_hist_json(const char *name, const bench_hist *h)
{
    printf("\"%s\":{\"count\":%llu,\"mean\":%.1f,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,"
           "\"p99_9\":%llu,\"max\":%llu}",
           name, (unsigned long long)h->count, bench_hist_mean(h),
           (unsigned long long)bench_hist_percentile(h, 50),
           (unsigned long long)bench_hist_percentile(h, 90),
           (unsigned long long)bench_hist_percentile(h, 99),
           (unsigned long long)bench_hist_percentile(h, 99.9), (unsigned long long)h->max);
}

static void print_hist_text(const char *name, const bench_hist *h)
{
    printf("%-9s n=%llu  p50 %llu  p90 %llu  p99 %llu  p99.9 %llu  max %llu  (us)\n", name,
           (unsigned long long)h->count, (unsigned long long)bench_hist_percentile(h, 50),
           (unsigned long long)bench_hist_percentile(h, 90),
           (unsigned long long)bench_hist_percentile(h, 99),
           (unsigned long long)bench_hist_percentile(h, 99.9), (unsigned long long)h->max);
}

static void report(const bench_opts *o, const bench_result *r)
{
    double tput = r->measured_s > 0 ? (double)r->requests / r->measured_s : 0;
    double per_cpu = r->have_server && r->cpu_s > 0 ? (double)r->requests / r->cpu_s : 0;
    if (o->json) {
        printf("{\"scenario\":\"%s\",\"mode\":\"%s\",\"conns\":%d,\"rate\":%.1f,"
               "\"duration_s\":%.3f,\"requests\":%llu,\"throughput_rps\":%.1f,",
               kind_name(o->kind), o->rate > 0 ? "open" : "closed", o->conns, o->rate,
               r->measured_s, (unsigned long long)r->requests, tput);
        print_hist_json("latency_us", &r->lat);
        printf(",\"status\":{");
        bool first = true;
        for (int s = 0; s < BENCH_MAX_STATUS; s++)
            if (r->status[s]) {
                printf("%s\"%d\":%llu", first ? "" : ",", s, (unsigned long long)r->status[s]);
                first = false;
            }
        printf("},\"errors\":{\"connect\":%llu,\"io\":%llu,\"protocol\":%llu,\"backlog\":%llu,"
               "\"reconnects\":%llu}",
               (unsigned long long)r->err_connect, (unsigned long long)r->err_io,
               (unsigned long long)r->err_proto, (unsigned long long)r->err_backlog,
               (unsigned long long)r->reconnects);
        if (r->have_server)
            printf(",\"server\":{\"pid\":%d,\"cpu_s\":%.2f,\"rss_kb_before\":%ld,"
                   "\"rss_kb_after\":%ld,\"hwm_kb\":%ld,\"requests_per_cpu_s\":%.1f}",
                   o->server_pid, r->cpu_s, r->rss_kb_before, r->rss_kb_after, r->hwm_kb, per_cpu);
        if (o->kind == BENCH_FANOUT) {
            printf(",\"fanout\":{\"subs\":%d,\"subs_ready\":%llu,\"issued\":%llu,"
                   "\"expected\":%llu,\"deliveries\":%llu,\"sub_errors\":%llu,",
                   o->subs, (unsigned long long)r->subs_ready, (unsigned long long)r->issued,
                   (unsigned long long)r->expected, (unsigned long long)r->deliveries,
                   (unsigned long long)r->sub_errors);
            print_hist_json("delivery_us", &r->deliv);
            printf("}");
        }
        printf("}\n");
        return;
    }
    printf("scenario %s, %s loop, %d conns", kind_name(o->kind), o->rate > 0 ? "open" : "closed",
           o->conns);
    if (o->rate > 0)
        printf(", %.0f req/s intended", o->rate);
    printf("\nrequests %llu in %.2f s: %.1f req/s\n", (unsigned long long)r->requests,
           r->measured_s, tput);
    print_hist_text("latency", &r->lat);
    printf("status   ");
    for (int s = 0; s < BENCH_MAX_STATUS; s++)
        if (r->status[s])
            printf(" %d: %llu", s, (unsigned long long)r->status[s]);
    printf("\nerrors    connect %llu  io %llu  protocol %llu  backlog %llu  (reconnects %llu)\n",
           (unsigned long long)r->err_connect, (unsigned long long)r->err_io,
           (unsigned long long)r->err_proto, (unsigned long long)r->err_backlog,
           (unsigned long long)r->reconnects);
    if (r->have_server)
        printf("server    pid %d  cpu %.2f s  rss %ld -> %ld KiB (peak %ld)  %.0f req per cpu-s\n",
               o->server_pid, r->cpu_s, r->rss_kb_before, r->rss_kb_after, r->hwm_kb, per_cpu);
    if (o->kind == BENCH_FANOUT) {
        printf("fanout    %d subs (%llu ready), %llu tickets issued, %llu/%llu deliveries, %llu "
               "subscriber errors\n",
               o->subs, (unsigned long long)r->subs_ready, (unsigned long long)r->issued,
               (unsigned long long)r->deliveries, (unsigned long long)r->expected,
               (unsigned long long)r->sub_errors);
        print_hist_text("delivery", &r->deliv);
    }
}

static bool num_arg(int argc, char **argv, int *i, const char *name, double lo, double hi,
                    double *out)
{
    if (strcmp(argv[*i], name) != 0)
        return false;
    if (*i + 1 >= argc) {
        fprintf(stderr, "antrean-bench: %s needs a value\n", name);
        exit(2);
    }
    char *end;
    errno = 0;
    double v = strtod(argv[++*i], &end);
    if (errno || *end || end == argv[*i] || v < lo || v > hi) {
        fprintf(stderr, "antrean-bench: %s must be a number in [%g, %g]\n", name, lo, hi);
        exit(2);
    }
    *out = v;
    return true;
}

static bool str_arg(int argc, char **argv, int *i, const char *name, char *out, size_t cap)
{
    if (strcmp(argv[*i], name) != 0)
        return false;
    if (*i + 1 >= argc || strlen(argv[*i + 1]) >= cap || !argv[*i + 1][0]) {
        fprintf(stderr, "antrean-bench: %s needs a value (under %zu bytes)\n", name, cap);
        exit(2);
    }
    ++*i;
    memcpy(out, argv[*i], strlen(argv[*i]) + 1);
    return true;
}

int main(int argc, char **argv)
{
    static bench_opts o;
    static bench_result r;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "simulate") == 0)
        return bench_simulate_main(argc, argv);
    if (strcmp(argv[1], "replay") == 0)
        return bench_replay_main(argc, argv);
    if (strcmp(argv[1], "poll") == 0)
        o.kind = BENCH_POLL;
    else if (strcmp(argv[1], "issue") == 0)
        o.kind = BENCH_ISSUE;
    else if (strcmp(argv[1], "fanout") == 0)
        o.kind = BENCH_FANOUT;
    else {
        fprintf(stderr, "antrean-bench: unknown scenario '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    snprintf(o.hall, sizeof o.hall, "mpp-demo");
    snprintf(o.service, sizeof o.service, "kk");
    o.duration_s = 10;
    o.warmup_s = 1;
    o.inm_ratio = 0.5;
    o.subs = 100;
    o.conns = o.kind == BENCH_FANOUT ? 4 : 50;
    o.rate = o.kind == BENCH_FANOUT ? 100 : 0;
    const char *server = "127.0.0.1:8080";
    char pathbuf[256];
    for (int i = 2; i < argc; i++) {
        double v;
        if (num_arg(argc, argv, &i, "--conns", 1, 20000, &v))
            o.conns = (int)v;
        else if (num_arg(argc, argv, &i, "--rate", 0, 1e7, &v))
            o.rate = v;
        else if (num_arg(argc, argv, &i, "--duration", 0.1, 3600, &v))
            o.duration_s = v;
        else if (num_arg(argc, argv, &i, "--warmup", 0, 600, &v))
            o.warmup_s = v;
        else if (num_arg(argc, argv, &i, "--inm-ratio", 0, 1, &v))
            o.inm_ratio = v;
        else if (num_arg(argc, argv, &i, "--subs", 1, 50000, &v))
            o.subs = (int)v;
        else if (num_arg(argc, argv, &i, "--server-pid", 1, 1 << 30, &v))
            o.server_pid = (int)v;
        else if (str_arg(argc, argv, &i, "--hall", o.hall, sizeof o.hall) ||
                 str_arg(argc, argv, &i, "--service", o.service, sizeof o.service))
            ;
        else if (str_arg(argc, argv, &i, "--path", pathbuf, sizeof pathbuf)) {
            if (pathbuf[0] != '/' || strpbrk(pathbuf, " \r\n")) {
                fprintf(stderr, "antrean-bench: --path must start with '/' and hold no spaces\n");
                return 2;
            }
            o.path = pathbuf;
        } else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
            server = argv[++i];
        else if (strcmp(argv[i], "--idem") == 0)
            o.idem = true;
        else if (strcmp(argv[i], "--json") == 0)
            o.json = true;
        else {
            fprintf(stderr, "antrean-bench: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    for (const char *p = o.hall; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return fprintf(stderr, "antrean-bench: bad --hall\n"), 2;
    for (const char *p = o.service; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return fprintf(stderr, "antrean-bench: bad --service\n"), 2;
    if (parse_server(server, &o) < 0) {
        fprintf(stderr,
                "antrean-bench: --server '%s' refused: only a loopback server "
                "(127.x.x.x, localhost, [::1]) with a port 1..65535\n",
                server);
        return 2;
    }
    /* many connections: raise the descriptor limit as far as allowed */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    bench_hist_reset(&r.lat);
    bench_hist_reset(&r.deliv);
    int rc = o.kind == BENCH_FANOUT ? bench_run_fanout(&o, &r) : run_http(&o, &r);
    if (rc < 0) {
        fprintf(stderr, "antrean-bench: out of memory or no event loop\n");
        return 1;
    }
    report(&o, &r);
    uint64_t errs = r.err_connect + r.err_io + r.err_proto;
    return r.requests == 0 || errs > r.requests / 100 ? 1 : 0;
}
