/*
 * ratelimit.c — per-IP token buckets for public ticket issue (SPEC §9).
 *
 * A fixed, direct-mapped table: memory stays bounded whatever the number of
 * addresses, and a colliding address simply takes over the slot with a full
 * bucket (this errs toward letting a citizen through, never toward blocking
 * one for someone else's traffic). Default: burst 20, 60 a minute.
 */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

#define RL_SLOTS 16384

typedef struct rl_slot {
    char ip[48];
    double tokens;
    int64_t at_ms;
} rl_slot;

struct rl_table {
    uint32_t burst, per_min;
    rl_slot slot[RL_SLOTS];
};

rl_table *rl_new(uint32_t burst, uint32_t per_min)
{
    rl_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->burst = burst ? burst : 1;
    t->per_min = per_min ? per_min : 1;
    return t;
}

void rl_free(rl_table *t)
{
    free(t);
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

uint32_t rl_take(rl_table *t, const char *ip, int64_t now_ms)
{
    rl_slot *sl = &t->slot[hash(ip) % RL_SLOTS];
    if (strcmp(sl->ip, ip) != 0) {
        strncpy(sl->ip, ip, sizeof sl->ip - 1);
        sl->ip[sizeof sl->ip - 1] = '\0';
        sl->tokens = t->burst;
        sl->at_ms = now_ms;
    }
    double rate = t->per_min / 60000.0; /* tokens per ms */
    if (now_ms > sl->at_ms) {
        sl->tokens += (double)(now_ms - sl->at_ms) * rate;
        if (sl->tokens > t->burst)
            sl->tokens = t->burst;
        sl->at_ms = now_ms;
    }
    if (sl->tokens >= 1.0) {
        sl->tokens -= 1.0;
        return 0;
    }
    double wait_ms = (1.0 - sl->tokens) / rate;
    uint32_t secs = (uint32_t)(wait_ms / 1000.0);
    if ((double)secs * 1000.0 < wait_ms)
        secs++;
    return secs ? secs : 1;
}
