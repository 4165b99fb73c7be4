/*
 * crash_main.c — storage-crash-test: the parent that kills and checks.
 *
 *   storage-crash-test [--cycles N] [--seed S] [--dir DIR] [--keep] [--quiet]
 *
 * Each cycle starts the child on the same data directory (in `always` mode,
 * or CRASH_DURABILITY), kills it with SIGKILL after a random 0–30 ms (from
 * its "ready" line, or in some cycles from its start, so recovery and the
 * very first commit get killed too), then opens the directory itself and
 * checks: (1) every acknowledged command is there (the recovered seq is at
 * least every acknowledged seq, every acknowledged ticket of the day
 * exists); (2) nothing is half applied (the recovered seq ends exactly
 * where a group of commands the child applied in one loop turn ends); (3) the recovered hall equals
 * the reference hall that ran the same commands without a crash, byte for byte
 * (eng_snapshot_encode); and every 50 cycles and at the end (4) a replay of
 * the whole log from the stored config equals it too. Exits 0 when all
 * cycles pass, 1 at the first failure (naming the cycle and what broke).
 * Default 1,000 cycles; `make test` runs 50.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "stor_int.h"
#include "storage.h"

typedef struct issued {
    uint64_t idx;
    uint8_t tid[ENG_TID_LEN];
} issued;

typedef struct parent {
    const char *dir;
    uint64_t seed;
    eng_hall *ref; /* the same commands, never crashed */
    uint64_t ref_idx;
    eng_evbuf ev;
    uint64_t max_ack_seq, acks, last_R;
    issued *iss; /* issue acks of the current cycle */
    size_t niss, capiss;
    uint64_t rng;
    int cycle;
    bool quiet;
} parent;

static int fail(parent *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parent *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "storage-crash-test: cycle %d (seed %llu, dir %s): ", p->cycle,
            (unsigned long long)p->seed, p->dir);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static uint64_t prng(parent *p)
{
    p->rng ^= p->rng << 13;
    p->rng ^= p->rng >> 7;
    p->rng ^= p->rng << 17;
    return p->rng;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_line(parent *p, char *line)
{
    unsigned long long idx, seq;
    char hex[64];
    if (strncmp(line, "ready ", 6) == 0)
        return 0;
    if (sscanf(line, "ack %llu %llu %63s", &idx, &seq, hex) != 3)
        return fail(p, "child printed '%s'", line);
    p->acks++;
    if (seq > p->max_ack_seq)
        p->max_ack_seq = seq;
    if (strcmp(hex, "-") != 0) {
        if (p->niss == p->capiss) {
            p->capiss = p->capiss ? p->capiss * 2 : 256;
            p->iss = realloc(p->iss, p->capiss * sizeof *p->iss);
        }
        issued *is = &p->iss[p->niss++];
        is->idx = idx;
        if (codec_unhex(hex, strlen(hex), is->tid, ENG_TID_LEN) != 0)
            return fail(p, "child printed a bad ticket id '%s'", hex);
    }
    return 0;
}

/* Run one child until killed; collect its complete lines. */
static int run_child(parent *p)
{
    int fds[2];
    if (pipe(fds) != 0)
        return fail(p, "pipe: %s", strerror(errno));
    char seed[32], start[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
    snprintf(start, sizeof start, "%llu", (unsigned long long)p->ref_idx);
    pid_t pid = fork();
    if (pid < 0)
        return fail(p, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/proc/self/exe", "storage-crash-test", "--child", p->dir, "--seed", seed, "--start",
              start, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    bool early = prng(p) % 8 == 0; /* count from the start, not from "ready" */
    int64_t delay = (int64_t)(prng(p) % 31);
    int64_t started = mono_ms(), kill_at = early ? started + delay : -1;
    char buf[1 << 16];
    size_t have = 0;
    bool killed = false, eof = false;
    int rc = 0;
    while (!eof) {
        int64_t now = mono_ms();
        if (!killed && kill_at >= 0 && now >= kill_at) {
            kill(pid, SIGKILL);
            killed = true;
        }
        if (!killed && kill_at < 0 && now - started > 20000) {
            kill(pid, SIGKILL);
            rc = fail(p, "the child was not ready within 20 s");
            killed = true;
        }
        int timeout = killed ? 1000 : kill_at >= 0 ? (int)(kill_at - now) : 100;
        struct pollfd pf = {fds[0], POLLIN, 0};
        int n = poll(&pf, 1, timeout < 0 ? 0 : timeout);
        if (n <= 0)
            continue;
        ssize_t got = read(fds[0], buf + have, sizeof buf - have - 1);
        if (got <= 0) {
            eof = true;
            break;
        }
        have += (size_t)got;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
            *nl = 0;
            if (kill_at < 0 && strncmp(line, "ready ", 6) == 0)
                kill_at = mono_ms() + delay;
            if (rc == 0)
                rc = parse_line(p, line);
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have); /* a torn last line is never counted */
    }
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (rc == 0 && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
        rc = fail(p, "the child ended by itself (status %d)", status);
    return rc;
}

static int take_hall(void *arg, eng_hall *h)
{
    eng_hall **slot = arg;
    if (*slot)
        eng_hall_free(*slot);
    *slot = h;
    return 0;
}

static bool same_state(const eng_hall *a, const eng_hall *b)
{
    char *x, *y;
    size_t nx, ny;
    if (eng_snapshot_encode(a, &x, &nx) != 0 || eng_snapshot_encode(b, &y, &ny) != 0) {
        fprintf(stderr, "storage-crash-test: snapshot encode failed\n");
        exit(1);
    }
    bool same = nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return same;
}

/* The whole log replayed onto a hall built from the stored config, outside storage. */
static int full_replay(parent *p)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi log;
    MDB_cursor *cur;
    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, 8);
    if (mdb_env_open(env, p->dir, MDB_RDONLY, 0600) != 0 ||
        mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 || mdb_dbi_open(txn, "log", 0, &log) != 0)
        return fail(p, "full replay: cannot open the log");
    mdb_cursor_open(txn, log, &cur);
    eng_hall *h = crash_new_hall();
    eng_evbuf arena;
    eng_evbuf_init(&arena);
    eng_event ev;
    char msg[200];
    MDB_val k, v;
    int rc = 0;
    for (int m = mdb_cursor_get(cur, &k, &v, MDB_FIRST); m == 0 && rc == 0;
         m = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        stor_loghdr lh;
        eng_evbuf_reset(&arena);
        if (stor_loghdr_parse(v.mv_data, v.mv_size, &lh) != 0 ||
            codec_event_decode(lh.ev, lh.ev_len, &ev, &arena, msg) != 0 ||
            eng_replay(h, &ev, msg) != 0)
            rc = fail(p, "full replay: log key %llu: %s",
                      (unsigned long long)stor_be64_get(k.mv_data), msg);
    }
    if (rc == 0 && !same_state(h, p->ref))
        rc = fail(p, "full replay of the log (seq %llu) differs from the reference (seq %llu)",
                  (unsigned long long)eng_hall_seq(h), (unsigned long long)eng_hall_seq(p->ref));
    eng_evbuf_free(&arena);
    eng_hall_free(h);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc;
}

static int verify(parent *p)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    stor_opts o;
    stor_opts_default(&o);
    o.dir = p->dir;
    o.map_size = 4u << 20;
    stor *s;
    char msg[256];
    if (stor_open(&o, &loop, &s, msg) != 0)
        return fail(p, "open: %s", msg);
    eng_hall *h = NULL;
    int rc = stor_recover(s, crash_time(p->ref_idx), take_hall, &h, msg);
    if (rc)
        rc = fail(p, "recover: %s", msg);
    uint64_t R = h ? eng_hall_seq(h) : 0;
    if (rc == 0 && R < p->max_ack_seq)
        rc = fail(p, "acknowledged seq %llu lost: recovered seq %llu",
                  (unsigned long long)p->max_ack_seq, (unsigned long long)R);
    if (rc == 0 && R < p->last_R)
        rc = fail(p, "recovered seq went back from %llu to %llu", (unsigned long long)p->last_R,
                  (unsigned long long)R);
    uint64_t group = p->ref_idx;
    while (rc == 0 && eng_hall_seq(p->ref) < R) {
        group = p->ref_idx; /* whole groups: a loop turn is all or nothing */
        do {
            eng_result res;
            bool is_issue;
            uint8_t tid[ENG_TID_LEN];
            crash_apply(p->ref, p->seed, p->ref_idx++, &p->ev, &res, &is_issue, tid);
        } while (!crash_group_start(p->seed, p->ref_idx));
    }
    if (rc == 0 && eng_hall_seq(p->ref) != R)
        rc = fail(p,
                  "half applied: recovered seq %llu ends inside the loop turn of commands "
                  "%llu..%llu (seq ..%llu)",
                  (unsigned long long)R, (unsigned long long)group,
                  (unsigned long long)(p->ref_idx - 1), (unsigned long long)eng_hall_seq(p->ref));
    if (rc == 0 && h && !same_state(h, p->ref))
        rc = fail(p, "recovered hall (seq %llu) differs from the reference", (unsigned long long)R);
    for (size_t i = 0; rc == 0 && h && i < p->niss; i++) {
        eng_ticket_view tv;
        if (eng_hall_day_of(h, crash_time(p->iss[i].idx)) != eng_hall_day(h))
            continue; /* an earlier day's tickets are gone by design */
        if (eng_ticket_get(h, p->iss[i].tid, crash_time(p->ref_idx), &tv) != 0) {
            char hex[33];
            codec_hex(p->iss[i].tid, ENG_TID_LEN, hex);
            rc = fail(p, "acknowledged ticket %s (command %llu) missing", hex,
                      (unsigned long long)p->iss[i].idx);
        }
    }
    p->niss = 0;
    p->last_R = R;
    eng_hall_free(h);
    stor_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (rc == 0 && R > 0 && ((p->cycle + 1) % 50 == 0))
        rc = full_replay(p);
    return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(int argc, char **argv)
{
    const char *child_dir = NULL, *dir = NULL;
    uint64_t seed = 0, start = 0;
    int cycles = 1000;
    bool keep = false, quiet = false, have_seed = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--child") && i + 1 < argc)
            child_dir = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0), have_seed = true;
        else if (!strcmp(argv[i], "--start") && i + 1 < argc)
            start = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
            cycles = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--keep"))
            keep = true;
        else if (!strcmp(argv[i], "--quiet"))
            quiet = true;
        else {
            fprintf(stderr, "usage: storage-crash-test [--cycles N] [--seed S] [--dir DIR] "
                            "[--keep] [--quiet]\n");
            return 2;
        }
    }
    if (child_dir)
        return crash_child(child_dir, seed, start);
    if (!have_seed) {
        const char *env = getenv("ANT_SEED");
        seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    }
    char tmpl[] = "/tmp/ant-crash-XXXXXX";
    if (!dir && !(dir = mkdtemp(tmpl))) {
        perror("storage-crash-test: mkdtemp");
        return 1;
    }
    parent p = {.dir = dir, .seed = seed, .rng = seed * 2 + 1, .quiet = quiet};
    p.ref = crash_new_hall();
    eng_evbuf_init(&p.ev);
    signal(SIGPIPE, SIG_IGN);
    int64_t t0 = mono_ms();
    int rc = 0;
    for (p.cycle = 0; p.cycle < cycles && rc == 0; p.cycle++) {
        rc = run_child(&p);
        if (rc == 0)
            rc = verify(&p);
        if (!quiet && (p.cycle + 1) % 100 == 0)
            printf("storage-crash-test: %d cycles, %llu acks, seq %llu\n", p.cycle + 1,
                   (unsigned long long)p.acks, (unsigned long long)p.last_R);
    }
    if (rc == 0 && p.last_R > 0)
        rc = full_replay(&p);
    if (rc == 0)
        printf("storage-crash-test: %d cycles OK (seed %llu): %llu commands acknowledged, final "
               "seq %llu, %llu commands, %.1f s\n",
               cycles, (unsigned long long)seed, (unsigned long long)p.acks,
               (unsigned long long)p.last_R, (unsigned long long)p.ref_idx,
               (double)(mono_ms() - t0) / 1000);
    eng_hall_free(p.ref);
    eng_evbuf_free(&p.ev);
    free(p.iss);
    if (rc == 0 && !keep)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    else if (rc)
        fprintf(stderr, "storage-crash-test: data kept in %s\n", dir);
    return rc;
}
