/*
 * crash_child.c — the process that gets killed: recovers the hall (or
 * creates it), then applies the command stream from `start` as fast as
 * storage takes it, a few commands per loop turn, and prints
 * "ack INDEX SEQ TID|-" for each command with events only once its
 * completion said it is durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"
#include "storage.h"

#define CHILD_INFLIGHT 256

typedef struct child {
    uv_loop_t loop;
    uv_idle_t idle;
    stor *s;
    eng_hall *h;
    eng_evbuf ev;
    codec_buf buf;
    uint64_t seed, idx, x;
    int inflight;
} child;

typedef struct ack {
    child *c;
    uint64_t idx, seq;
    bool issue;
    uint8_t tid[ENG_TID_LEN];
} ack;

static void on_durable(void *arg, int rc)
{
    ack *a = arg;
    if (rc != 0) {
        fprintf(stderr, "crash child: completion failed: %d\n", rc);
        exit(3);
    }
    char hex[2 * ENG_TID_LEN + 1] = "-";
    if (a->issue)
        codec_hex(a->tid, ENG_TID_LEN, hex);
    printf("ack %llu %llu %s\n", (unsigned long long)a->idx, (unsigned long long)a->seq, hex);
    a->c->inflight--;
    free(a);
}

static int take_hall(void *arg, eng_hall *h)
{
    eng_hall **slot = arg;
    if (*slot) {
        fprintf(stderr, "crash child: more than one hall\n");
        exit(2);
    }
    *slot = h;
    return 0;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "crash child: %s: %d\n", what, rc);
    exit(2);
}

/* One command: apply, append its events, queue its acknowledgement. */
static void one_command(child *c)
{
    eng_result res;
    ack *a = calloc(1, sizeof *a);
    if (!a)
        die("out of memory", 0);
    a->c = c;
    a->idx = c->idx;
    crash_apply(c->h, c->seed, c->idx++, &c->ev, &res, &a->issue, a->tid);
    for (size_t i = 0; i < c->ev.n; i++) {
        const eng_event *e = &c->ev.ev[i];
        codec_buf_reset(&c->buf);
        int rc = codec_event_msgpack(e, CODEC_FULL, &c->buf);
        if (rc == 0)
            rc = stor_append(c->s, CRASH_HALL, e->seq, e->at, c->buf.data, c->buf.len);
        if (rc)
            die("append", rc);
    }
    if (c->ev.n == 0) {
        free(a);
        return;
    }
    a->seq = eng_hall_seq(c->h);
    if (stor_snapshot_due(c->s, CRASH_HALL, crash_time(a->idx))) {
        char *snap;
        size_t len;
        if (eng_snapshot_encode(c->h, &snap, &len) != 0 ||
            stor_put_snapshot(c->s, CRASH_HALL, snap, len) != 0)
            die("snapshot", 0);
        free(snap);
    }
    int rc = stor_when_durable(c->s, on_durable, a);
    if (rc)
        die("when_durable", rc);
    c->inflight++;
}

/* A few whole groups per loop turn: each turn is one storage batch. */
static void on_idle(uv_idle_t *idle)
{
    child *c = idle->data;
    c->x = c->x * 6364136223846793005ULL + 1442695040888963407ULL;
    int groups = 1 + (int)((c->x >> 33) % 3);
    for (int g = 0; g < groups && c->inflight < CHILD_INFLIGHT; g++) {
        do
            one_command(c);
        while (!crash_group_start(c->seed, c->idx));
    }
}

int crash_child(const char *dir, uint64_t seed, uint64_t start)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    static child c;
    c.seed = seed;
    c.idx = start;
    c.x = seed ^ start;
    uv_loop_init(&c.loop);
    eng_evbuf_init(&c.ev);
    codec_buf_init(&c.buf);
    stor_opts o;
    stor_opts_default(&o);
    o.dir = dir;
    o.map_size = 4u << 20;
    o.snap_every_events = 300;
    o.snap_every_s = 2;
    const char *d = getenv("CRASH_DURABILITY");
    if (d && stor_durability_from_name(d) >= 0)
        o.durability = stor_durability_from_name(d);
    char msg[256];
    int rc = stor_open(&o, &c.loop, &c.s, msg);
    if (rc) {
        fprintf(stderr, "crash child: open: %s\n", msg);
        return 2;
    }
    rc = stor_recover(c.s, crash_time(start), take_hall, &c.h, msg);
    if (rc) {
        fprintf(stderr, "crash child: recover: %s\n", msg);
        return 2;
    }
    if (!c.h) {
        if (start != 0)
            die("no hall to continue from", (int)start);
        c.h = crash_new_hall();
        rc = stor_put_hall_at(c.s, CRASH_HALL, CRASH_T0, crash_config, strlen(crash_config));
        if (rc)
            die("put_hall", rc);
    }
    printf("ready %llu\n", (unsigned long long)eng_hall_seq(c.h));
    uv_idle_init(&c.loop, &c.idle);
    c.idle.data = &c;
    uv_idle_start(&c.idle, on_idle);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    return 0;
}
