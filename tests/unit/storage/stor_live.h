/*
 * stor_live.h — a hall driven the way the server drives it: commands go
 * through eng_apply, their stored events through codec_event_msgpack and
 * stor_append, and a reference hall that never touches storage gets the same
 * commands, so a recovered hall can be compared with it byte for byte
 * (eng_snapshot_encode). For the recovery and retention tests.
 */
#ifndef STOR_LIVE_H
#define STOR_LIVE_H

#include "codec.h"
#include "engine.h"
#include "stor_fixture.h"

typedef struct live {
    uv_loop_t *loop;
    stor *s;
    eng_hall *h;   /* the served hall (replaced by the recovered one on restart) */
    eng_hall *ref; /* the same commands, never stored */
    eng_evbuf ev, ref_ev;
    codec_buf buf;
    uint64_t rng;
    int64_t now;
} live;

void live_init(live *L, uv_loop_t *loop, stor *s, const char *config, int64_t created);
void live_free(live *L);
/* Apply to both halls; appends the stored events. Returns eng_apply's rc (asserts both agree). */
int live_cmd(live *L, eng_cmd *c, eng_result *res);
void live_tick(live *L);
void live_sync(live *L);     /* when_durable, asserts rc 0 */
void live_snapshot(live *L); /* stor_put_snapshot of the served hall */
/* Close storage, reopen it with o, recover, and serve the recovered hall. */
void live_restart(live *L, const stor_opts *o);
/* Assert both halls encode to the same snapshot bytes. */
void live_assert_same(live *L, const char *where);
void live_fill_id(live *L, uint8_t *p, size_t n);

#endif
