/* crash_cmds.c — the deterministic command stream of the crash test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"

const char crash_config[] =
    "{\"id\":\"crash\",\"name\":\"Crash hall\",\"utc_offset_min\":420,"
    "\"hours\":{\"open\":\"00:00\",\"close\":\"24:00\"},"
    "\"agencies\":[{\"id\":\"dukcapil\",\"name\":\"Disdukcapil\"}],"
    "\"services\":[{\"id\":\"ktp\",\"agency\":\"dukcapil\",\"name\":\"KTP-el\",\"prefix\":\"A\"},"
    "{\"id\":\"kk\",\"agency\":\"dukcapil\",\"name\":\"KK\",\"prefix\":\"B\",\"daily_quota\":5000}]"
    ","
    "\"counters\":[{\"id\":\"l01\",\"label\":\"Loket 1\",\"services\":[\"ktp\",\"kk\"]},"
    "{\"id\":\"l02\",\"label\":\"Loket 2\",\"services\":[\"kk\"],\"policy\":\"in_order\"},"
    "{\"id\":\"l03\",\"label\":\"Loket 3\",\"services\":[\"ktp\"]}]}";

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void fill(uint64_t seed, uint64_t idx, uint64_t salt, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = mix(seed ^ mix(idx * 4 + salt + i));
        memcpy(p + i, &v, n - i < 8 ? n - i : 8);
    }
}

int64_t crash_time(uint64_t idx)
{
    return CRASH_T0 + (int64_t)idx * CRASH_STEP_MS;
}

bool crash_group_start(uint64_t seed, uint64_t idx)
{
    return idx < 3 || mix(seed ^ mix(idx ^ 0x67726f7570ULL)) % 5 == 0;
}

eng_hall *crash_new_hall(void)
{
    eng_config *cfg = NULL;
    if (eng_config_parse(crash_config, strlen(crash_config), &cfg, NULL) != 0) {
        fprintf(stderr, "crash: the built-in config does not parse\n");
        exit(2);
    }
    return eng_hall_new(cfg, CRASH_T0);
}

static const char *const counters[] = {"l01", "l02", "l03"};

int crash_apply(eng_hall *h, uint64_t seed, uint64_t idx, eng_evbuf *out, eng_result *res,
                bool *is_issue, uint8_t tid[ENG_TID_LEN])
{
    int64_t now = crash_time(idx);
    uint64_t x = mix(seed ^ mix(idx));
    eng_evbuf_reset(out);
    *is_issue = false;
    if (idx < 3) {
        eng_cmd c = {.type = ENG_CMD_COUNTER_OPEN, .counter = counters[idx]};
        return eng_apply(h, &c, now, out, res);
    }
    if (idx % 50 == 0) {
        res->rc = eng_tick(h, now, out);
        return res->rc;
    }
    unsigned r = (unsigned)(x % 100);
    const char *ctr = counters[(x >> 8) % 3];
    char idem[24];
    eng_cmd c = {.counter = ctr};
    if (r < 38) {
        c.type = ENG_CMD_ISSUE;
        c.service = (x >> 12) & 1 ? "ktp" : "kk";
        c.prio = (x >> 13) % 8 == 0 ? ENG_PRIO_ELDERLY : ENG_PRIO_NONE;
        c.channel = (uint8_t)((x >> 16) % 4);
        fill(seed, idx, 1, c.tid, ENG_TID_LEN);
        fill(seed, idx, 2, c.secret, ENG_SECRET_LEN);
        if ((x >> 20) % 4 == 0) {
            /* an idem key; sometimes one used a few commands ago (a kiosk retry) */
            uint64_t k = (x >> 24) % 3 == 0 && idx > 10 ? idx - (x >> 28) % 8 : idx;
            snprintf(idem, sizeof idem, "k%llu", (unsigned long long)k);
            c.idem = idem;
        }
        if ((x >> 32) % 3 == 0) {
            c.phone = "081234567890";
            c.name = "Dewi Lestari";
            c.nik = "3173000000000003";
        }
        *is_issue = true;
        memcpy(tid, c.tid, ENG_TID_LEN);
    } else if (r < 55) {
        c.type = ENG_CMD_CALL;
    } else if (r < 60) {
        c.type = ENG_CMD_RECALL;
    } else if (r < 70) {
        c.type = ENG_CMD_START;
    } else if (r < 83) {
        c.type = ENG_CMD_FINISH;
        if ((x >> 40) % 5 == 0) {
            c.transfer_to = (x >> 44) & 1 ? "ktp" : "kk";
            c.placement = (uint8_t)((x >> 45) & 1);
        }
    } else if (r < 87) {
        c.type = ENG_CMD_NO_SHOW;
    } else if (r < 91) {
        static const uint8_t t[] = {ENG_CMD_COUNTER_OPEN, ENG_CMD_COUNTER_CLOSE,
                                    ENG_CMD_COUNTER_PAUSE, ENG_CMD_COUNTER_RESUME};
        c.type = (x >> 40) % 3 ? ENG_CMD_COUNTER_OPEN : t[(x >> 42) % 4];
    } else {
        /* a ticket issued a little earlier, maybe */
        c.type = r < 95 ? ENG_CMD_CANCEL : r < 98 ? ENG_CMD_REINSTATE : ENG_CMD_FEEDBACK;
        uint64_t j = idx > 40 ? idx - 1 - (x >> 40) % 40 : 0;
        fill(seed, j, 1, c.tid, ENG_TID_LEN);
        c.has_ticket = true;
        c.score = (uint8_t)(1 + (x >> 50) % 4);
        c.comment = (x >> 52) & 1 ? "pelayanan baik" : NULL;
    }
    return eng_apply(h, &c, now, out, res);
}
