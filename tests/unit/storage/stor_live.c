/* stor_live.c — see stor_live.h. */
#include "stor_live.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

void live_fill_id(live *L, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        L->rng ^= L->rng << 13;
        L->rng ^= L->rng >> 7;
        L->rng ^= L->rng << 17;
        p[i] = (uint8_t)L->rng;
    }
}

static eng_hall *live_hall(const char *config, int64_t created)
{
    eng_config *cfg = NULL;
    cr_assert_eq(eng_config_parse(config, strlen(config), &cfg, NULL), 0);
    eng_hall *h = eng_hall_new(cfg, created);
    cr_assert_not_null(h);
    return h;
}

void live_init(live *L, uv_loop_t *loop, stor *s, const char *config, int64_t created)
{
    memset(L, 0, sizeof *L);
    L->loop = loop;
    L->s = s;
    L->rng = 0x5eed5eed5eedULL;
    L->now = created;
    L->h = live_hall(config, created);
    L->ref = live_hall(config, created);
    eng_evbuf_init(&L->ev);
    eng_evbuf_init(&L->ref_ev);
    codec_buf_init(&L->buf);
    const eng_config *cfg = eng_hall_config(L->h);
    cr_assert_eq(stor_put_hall_at(s, cfg->id, created, config, strlen(config)), 0);
}

void live_free(live *L)
{
    eng_hall_free(L->h);
    eng_hall_free(L->ref);
    eng_evbuf_free(&L->ev);
    eng_evbuf_free(&L->ref_ev);
    codec_buf_free(&L->buf);
}

static void live_store(live *L)
{
    const char *id = eng_hall_config(L->h)->id;
    for (size_t i = 0; i < L->ev.n; i++) {
        const eng_event *e = &L->ev.ev[i];
        /* service.wait too: it takes a seq and changes what a snapshot holds */
        codec_buf_reset(&L->buf);
        cr_assert_eq(codec_event_msgpack(e, CODEC_FULL, &L->buf), 0);
        int rc = stor_append(L->s, id, e->seq, e->at, L->buf.data, L->buf.len);
        cr_assert_eq(rc, 0, "append seq %llu: %d", (unsigned long long)e->seq, rc);
    }
}

int live_cmd(live *L, eng_cmd *c, eng_result *res)
{
    eng_result r2;
    eng_evbuf_reset(&L->ev);
    eng_evbuf_reset(&L->ref_ev);
    int rc = eng_apply(L->h, c, L->now, &L->ev, res);
    int rc2 = eng_apply(L->ref, c, L->now, &L->ref_ev, &r2);
    cr_assert_eq(rc, rc2, "served and reference halls disagree: %s / %s", res->msg, r2.msg);
    live_store(L);
    return rc;
}

void live_tick(live *L)
{
    eng_evbuf_reset(&L->ev);
    eng_evbuf_reset(&L->ref_ev);
    cr_assert_eq(eng_tick(L->h, L->now, &L->ev), 0);
    cr_assert_eq(eng_tick(L->ref, L->now, &L->ref_ev), 0);
    live_store(L);
}

void live_sync(live *L)
{
    fx_done d = {0};
    cr_assert_eq(stor_when_durable(L->s, fx_done_cb, &d), 0);
    cr_assert(fx_run_until(L->loop, &d.fired, 10000), "no completion within 10 s");
    cr_assert_eq(d.rc, 0);
}

void live_snapshot(live *L)
{
    char *buf;
    size_t len;
    cr_assert_eq(eng_snapshot_encode(L->h, &buf, &len), 0);
    cr_assert_eq(stor_put_snapshot(L->s, eng_hall_config(L->h)->id, buf, len), 0);
    free(buf);
}

static int live_take(void *arg, eng_hall *hall)
{
    eng_hall **slot = arg;
    cr_assert_null(*slot, "more than one hall recovered");
    *slot = hall;
    return 0;
}

void live_restart(live *L, const stor_opts *o)
{
    fx_close(L->s, L->loop);
    L->s = fx_open(o, L->loop);
    eng_hall *got = NULL;
    char msg[256];
    int rc = stor_recover(L->s, L->now, live_take, &got, msg);
    cr_assert_eq(rc, 0, "recover: %s", msg);
    cr_assert_not_null(got);
    eng_hall_free(L->h);
    L->h = got;
}

void live_assert_same(live *L, const char *where)
{
    char *a, *b;
    size_t na, nb;
    cr_assert_eq(eng_snapshot_encode(L->h, &a, &na), 0);
    cr_assert_eq(eng_snapshot_encode(L->ref, &b, &nb), 0);
    bool same = na == nb && memcmp(a, b, na) == 0;
    free(a);
    free(b);
    cr_assert(same, "%s: recovered state differs from the reference (%zu vs %zu bytes)", where, na,
              nb);
    cr_assert_eq(eng_hall_seq(L->h), eng_hall_seq(L->ref), "%s: seq", where);
}
