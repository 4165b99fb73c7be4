/* evbuf.c — growable event lists whose strings live in blocks that never move. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct eng_arena_block {
    struct eng_arena_block *next;
    size_t used, cap;
    char data[];
};

#define EVBUF_BLOCK 4096

void eng_evbuf_init(eng_evbuf *b)
{
    memset(b, 0, sizeof *b);
}

void eng_evbuf_reset(eng_evbuf *b)
{
    b->n = 0;
    /* keep the first block, drop the rest: steady state allocates nothing */
    struct eng_arena_block *blk = b->blocks;
    if (!blk)
        return;
    struct eng_arena_block *rest = blk->next;
    blk->next = NULL;
    blk->used = 0;
    while (rest) {
        struct eng_arena_block *nx = rest->next;
        free(rest);
        rest = nx;
    }
}

void eng_evbuf_free(eng_evbuf *b)
{
    eng_evbuf_reset(b);
    free(b->blocks);
    free(b->ev);
    memset(b, 0, sizeof *b);
}

eng_event *eng_evbuf_push(eng_evbuf *b)
{
    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 16;
        eng_event *nev = realloc(b->ev, ncap * sizeof *nev);
        if (!nev)
            return NULL;
        b->ev = nev;
        b->cap = ncap;
    }
    eng_event *ev = &b->ev[b->n++];
    memset(ev, 0, offsetof(eng_event, pii)); /* the tail is read only as has_pii/nwait say */
    return ev;
}

int eng_evbuf_strdup(eng_evbuf *b, const char *s, size_t len, const char **out)
{
    struct eng_arena_block *blk = b->blocks;
    if (!blk || blk->cap - blk->used < len + 1) {
        size_t cap = len + 1 > EVBUF_BLOCK ? len + 1 : EVBUF_BLOCK;
        struct eng_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return ANT_ENOMEM;
        nb->used = 0;
        nb->cap = cap;
        /* the newest block goes first; a full first block stays in the chain */
        nb->next = blk;
        b->blocks = nb;
        blk = nb;
    }
    char *dst = blk->data + blk->used;
    memcpy(dst, s, len);
    dst[len] = '\0';
    blk->used += len + 1;
    *out = dst;
    return 0;
}
