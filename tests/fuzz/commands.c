/*
 * commands.c — libFuzzer target: the input is a stream of engine commands
 * applied to one hall (a small demo-like config defined below), with time
 * advancing by input-driven amounts, across midnight, weekends and a closed
 * date. After every command: the hall's seq grows by exactly the number of
 * events appended, events carry consecutive seqs and the command's time, a
 * failed command appends nothing but a day.rollover, and no public encoding
 * or error message carries citizen data. Every event goes through the full
 * msgpack encoding and back into eng_replay on a second hall; at the end
 * both halls' snapshots must be byte-equal and the snapshot must round-trip.
 * Any violation abort()s.
 *
 * Byte stream: [config] then per command [op] [args…]; op's low 5 bits pick
 * the command, its high 3 bits how far time moves first. Missing argument
 * bytes read as 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "engine.h"

#define FUZZ_MAX_INPUT (64 * 1024)
#define MAX_CMDS 4096
#define MAX_TIDS 64

/* Config texts. All share the id; the second drops a service, the third
 * has restricted hours in another time zone. */
#define AGENCIES                                                                                   \
    "\"agencies\":[{\"id\":\"dukcapil\",\"name\":\"Disdukcapil\"},"                                \
    "{\"id\":\"imigrasi\",\"name\":\"Kantor Imigrasi\"},{\"id\":\"polri\",\"name\":\"Polres\"}],"
static const char *const configs[] = {
    "{\"id\":\"mpp-fuzz\",\"name\":\"MPP Fuzz\",\"utc_offset_min\":420,"
    "\"hours\":{\"open\":\"00:00\",\"close\":\"24:00\",\"issue_until\":\"24:00\","
    "\"weekdays\":[1,2,3,4,5,6,7],\"closed_dates\":[]}," AGENCIES "\"services\":["
    "{\"id\":\"ktp\",\"agency\":\"dukcapil\",\"name\":\"KTP-el\",\"prefix\":\"A\","
    "\"est_service_s\":300,\"sla_wait_s\":1800,\"daily_quota\":0},"
    "{\"id\":\"kk\",\"agency\":\"dukcapil\",\"name\":\"Kartu Keluarga\",\"prefix\":\"B\","
    "\"est_service_s\":240,\"sla_wait_s\":1200,\"daily_quota\":4},"
    "{\"id\":\"paspor\",\"agency\":\"imigrasi\",\"name\":\"Paspor\",\"prefix\":\"C\","
    "\"est_service_s\":600,\"sla_wait_s\":3600,\"daily_quota\":0},"
    "{\"id\":\"skck\",\"agency\":\"polri\",\"name\":\"SKCK\",\"prefix\":\"PD\","
    "\"est_service_s\":180,\"sla_wait_s\":900,\"daily_quota\":0}],"
    "\"counters\":["
    "{\"id\":\"l01\",\"label\":\"Loket 1\",\"services\":[\"ktp\",\"kk\"],"
    "\"policy\":\"longest_wait\"},"
    "{\"id\":\"l02\",\"label\":\"Loket 2\",\"services\":[\"kk\",\"ktp\"],\"policy\":\"in_order\"},"
    "{\"id\":\"l03\",\"label\":\"Loket 3\",\"services\":[\"paspor\"]},"
    "{\"id\":\"l04\",\"label\":\"Loket 4\",\"services\":[\"skck\",\"paspor\",\"ktp\"],"
    "\"policy\":\"in_order\"}],"
    "\"priority\":{\"max_consecutive\":2},"
    "\"no_show\":{\"min_recalls\":1,\"reinstate_within_s\":1800},\"self_service\":true}",

    "{\"id\":\"mpp-fuzz\",\"name\":\"MPP Fuzz (revisi)\",\"utc_offset_min\":420,"
    "\"hours\":{\"open\":\"00:00\",\"close\":\"24:00\"}," AGENCIES "\"services\":["
    "{\"id\":\"ktp\",\"agency\":\"dukcapil\",\"name\":\"KTP-el\",\"prefix\":\"A\","
    "\"est_service_s\":200,\"sla_wait_s\":1800,\"daily_quota\":3},"
    "{\"id\":\"paspor\",\"agency\":\"imigrasi\",\"name\":\"Paspor\",\"prefix\":\"C\","
    "\"est_service_s\":600,\"sla_wait_s\":3600},"
    "{\"id\":\"kia\",\"agency\":\"dukcapil\",\"name\":\"KIA\",\"prefix\":\"E\","
    "\"est_service_s\":120,\"sla_wait_s\":600}],"
    "\"counters\":["
    "{\"id\":\"l01\",\"label\":\"Loket 1\",\"services\":[\"ktp\",\"kia\"]},"
    "{\"id\":\"l03\",\"label\":\"Loket 3\",\"services\":[\"paspor\",\"ktp\"],"
    "\"policy\":\"in_order\"},"
    "{\"id\":\"l05\",\"label\":\"Loket 5\",\"services\":[\"kia\"]}],"
    "\"priority\":{\"max_consecutive\":1},"
    "\"no_show\":{\"min_recalls\":0,\"reinstate_within_s\":60},\"self_service\":false}",

    "{\"id\":\"mpp-fuzz\",\"name\":\"MPP Fuzz WITA\",\"utc_offset_min\":480,"
    "\"hours\":{\"open\":\"08:00\",\"close\":\"16:00\",\"issue_until\":\"15:00\","
    "\"weekdays\":[1,2,3,4,5],\"closed_dates\":[\"2026-12-25\",\"2027-01-01\"]}," AGENCIES
    "\"services\":["
    "{\"id\":\"ktp\",\"agency\":\"dukcapil\",\"name\":\"KTP-el\",\"prefix\":\"A\","
    "\"est_service_s\":300,\"sla_wait_s\":1800,\"daily_quota\":2},"
    "{\"id\":\"kk\",\"agency\":\"dukcapil\",\"name\":\"Kartu Keluarga\",\"prefix\":\"B\","
    "\"est_service_s\":240,\"sla_wait_s\":1200},"
    "{\"id\":\"skck\",\"agency\":\"polri\",\"name\":\"SKCK\",\"prefix\":\"PD\","
    "\"est_service_s\":180,\"sla_wait_s\":900}],"
    "\"counters\":["
    "{\"id\":\"l01\",\"label\":\"Loket 1\",\"services\":[\"ktp\",\"kk\",\"skck\"]},"
    "{\"id\":\"l02\",\"label\":\"Loket 2\",\"services\":[\"skck\"],\"policy\":\"in_order\"}],"
    "\"priority\":{\"max_consecutive\":3},"
    "\"no_show\":{\"min_recalls\":2,\"reinstate_within_s\":3600},\"self_service\":true}",
};
#define NCONFIGS (sizeof configs / sizeof configs[0])

/* Ids across all configs, plus one no config has. */
static const char *const services[] = {"ktp", "kk", "paspor", "skck", "kia", "nope"};
static const char *const counters[] = {"l01", "l02", "l03", "l04", "l05", "l99"};
#define NSVC (sizeof services / sizeof services[0])
#define NCTR (sizeof counters / sizeof counters[0])

static const char *const idems[] = {"kiosk-1-0001", "kiosk-1-0002", "web-abc", "app-xyz"};
/* Citizen data that must never show in a public encoding or a message. */
#define PHONE "081234567890"
#define PNAME "Siti Aminah Zulkarnain"
#define NIK "3171234567890123"
static const char *const phones[] = {PHONE, "+6281298765432", "12ab", ""};
static const char *const pnames[] = {PNAME, "Budi", ""};
static const char *const niks[] = {NIK, "317123", "31712345678901234", ""};
static const char *const comments[] = {"Pelayanan cepat, petugas ramah", "", "buruk"};

/* 2026-12-24 06:00 WIB: a Thursday, the day before a closed date. */
#define T0 (1798066800LL * 1000)

typedef struct stream {
    const uint8_t *p, *end;
} stream;

static unsigned next(stream *s)
{
    return s->p < s->end ? *s->p++ : 0;
}

typedef struct state {
    eng_hall *h, *r; /* the hall and its replica rebuilt by replay */
    eng_evbuf ev, arena;
    codec_buf enc;
    eng_event *dec;
    int64_t now;
    uint32_t nid;
    uint8_t tids[MAX_TIDS][ENG_TID_LEN];
    unsigned ntids, tid_next;
} state;

static void derive(uint32_t n, uint8_t salt, uint8_t out[16])
{
    for (int i = 0; i < 16; i++)
        out[i] = (uint8_t)((n >> ((i % 4) * 8)) ^ (salt * 0x5b) ^ (i * 0x3d));
}

static void no_pii(const char *p, size_t n)
{
    static const char *const pii[] = {PHONE, PNAME, NIK, "6281298765432"};
    for (size_t i = 0; i < sizeof pii / sizeof pii[0]; i++)
        if (memmem(p, n, pii[i], strlen(pii[i])))
            abort();
}

static eng_hall *new_hall(int which, int64_t now)
{
    eng_config *cfg = NULL;
    if (eng_config_parse(configs[which], strlen(configs[which]), &cfg, NULL) != 0)
        abort(); /* the fixed configs are valid */
    eng_hall *h = eng_hall_new(cfg, now);
    if (!h)
        abort();
    return h;
}

/* Checks the events of one command and replays them into the replica. */
static void check_and_replay(state *st, uint64_t seq0, int rc)
{
    if (eng_hall_seq(st->h) != seq0 + st->ev.n)
        abort();
    for (size_t i = 0; i < st->ev.n; i++) {
        const eng_event *e = &st->ev.ev[i];
        if (e->seq != seq0 + 1 + i || e->at != st->now)
            abort();
        if (rc != 0 && e->type != ENG_EV_DAY_ROLLOVER)
            abort(); /* a failed command appends nothing but a rollover */
        codec_buf_reset(&st->enc);
        if (codec_event_json(e, CODEC_PUBLIC, &st->enc) != 0)
            abort();
        no_pii(st->enc.data, st->enc.len);
        codec_buf_reset(&st->enc);
        if (codec_event_msgpack(e, CODEC_PUBLIC, &st->enc) != 0)
            abort();
        no_pii(st->enc.data, st->enc.len);
        codec_buf_reset(&st->enc);
        if (codec_event_msgpack(e, CODEC_FULL, &st->enc) != 0)
            abort();
        char msg[200];
        eng_evbuf_reset(&st->arena);
        memset(st->dec, 0, sizeof *st->dec);
        if (codec_event_decode(st->enc.data, st->enc.len, st->dec, &st->arena, msg) != 0)
            abort();
        if (eng_replay(st->r, st->dec, msg) != 0)
            abort();
    }
    if (eng_hall_seq(st->r) != eng_hall_seq(st->h))
        abort();
}

static void pick_tid(state *st, stream *s, eng_cmd *c)
{
    unsigned k = next(s) % (st->ntids + 1);
    c->has_ticket = true;
    if (k == st->ntids)
        derive(0xFFFFFFFFu, 7, c->tid); /* an id the hall never saw */
    else
        memcpy(c->tid, st->tids[k], ENG_TID_LEN);
}

static void advance(state *st, unsigned cls, stream *s)
{
    int64_t day_ms = 86400000LL;
    switch (cls) {
    case 0:
        break;
    case 1:
        st->now += 1000;
        break;
    case 2:
        st->now += (int64_t)next(s) * 1000 + next(s);
        break;
    case 3:
        st->now += (int64_t)next(s) * 60000;
        break;
    case 4:
        st->now += (int64_t)(next(s) % 24 + 1) * 3600000;
        break;
    case 5: { /* to just before or just after a midnight (UTC+7 and UTC+8) */
        int64_t off = (next(s) & 1) ? 480 * 60000LL : 420 * 60000LL;
        int64_t local = st->now + off;
        int64_t mid = (local / day_ms + 1) * day_ms - off;
        st->now = mid + (int64_t)(next(s) % 5) * 1000 - 2000;
        if (st->now < 0)
            abort();
        break;
    }
    case 6:
        st->now += day_ms * (int64_t)(next(s) % 3 + 1);
        break;
    default:
        st->now += (int64_t)next(s) * 7;
        break;
    }
}

static void run(state *st, stream *s)
{
    for (int n = 0; n < MAX_CMDS && s->p < s->end; n++) {
        unsigned op = next(s);
        int64_t before = st->now;
        advance(st, op >> 5, s);
        if (st->now < before)
            st->now = before; /* time never goes back */
        eng_cmd c;
        memset(&c, 0, sizeof c);
        unsigned kind = (op & 31) % 17;
        uint64_t seq0 = eng_hall_seq(st->h);
        eng_evbuf_reset(&st->ev);
        if (kind == 16) {
            if (eng_tick(st->h, st->now, &st->ev) != 0)
                abort();
            check_and_replay(st, seq0, 0);
            continue;
        }
        switch (kind) {
        case 0: { /* issue */
            unsigned a = next(s), b = next(s);
            c.type = ENG_CMD_ISSUE;
            c.service = services[a % NSVC];
            c.prio = (uint8_t)((a / NSVC) % 6); /* 5: an unknown reason */
            c.channel = (uint8_t)(b % 4);
            if (b & 0x04)
                c.idem = idems[(b >> 3) & 3];
            if (b & 0x20) {
                unsigned p = next(s);
                const char *ph = phones[p % 4], *nm = pnames[(p >> 2) % 3],
                           *nk = niks[(p >> 4) % 4];
                c.phone = ph[0] ? ph : NULL;
                c.name = nm[0] ? nm : NULL;
                c.nik = nk[0] ? nk : NULL;
            }
            st->nid++;
            derive(st->nid, 0, c.tid);
            derive(st->nid, 1, c.secret);
            break;
        }
        case 1: /* call next */
            c.type = ENG_CMD_CALL;
            c.counter = counters[next(s) % NCTR];
            break;
        case 2: /* call a named ticket */
            c.type = ENG_CMD_CALL;
            c.counter = counters[next(s) % NCTR];
            pick_tid(st, s, &c);
            break;
        case 3:
            c.type = ENG_CMD_RECALL;
            c.counter = counters[next(s) % NCTR];
            break;
        case 4:
            c.type = ENG_CMD_START;
            c.counter = counters[next(s) % NCTR];
            break;
        case 5: { /* finish, maybe transferring */
            unsigned a = next(s);
            c.type = ENG_CMD_FINISH;
            c.counter = counters[a % NCTR];
            unsigned t = (a / NCTR) % (NSVC + 1);
            c.transfer_to = t < NSVC ? services[t] : NULL;
            c.placement = (a & 0x80) ? ENG_PLACE_FIRST : ENG_PLACE_LAST;
            break;
        }
        case 6:
            c.type = ENG_CMD_NO_SHOW;
            c.counter = counters[next(s) % NCTR];
            break;
        case 7:
            c.type = ENG_CMD_REINSTATE;
            pick_tid(st, s, &c);
            break;
        case 8:
            c.type = ENG_CMD_CANCEL;
            pick_tid(st, s, &c);
            break;
        case 9: { /* feedback */
            c.type = ENG_CMD_FEEDBACK;
            pick_tid(st, s, &c);
            unsigned a = next(s);
            c.score = (uint8_t)(a % 6);
            const char *cm = comments[(a >> 3) % 3];
            c.comment = cm[0] ? cm : NULL;
            break;
        }
        case 10:
        case 11:
        case 12:
        case 13:
            c.type = (uint8_t)(ENG_CMD_COUNTER_OPEN + (kind - 10));
            c.counter = counters[next(s) % NCTR];
            break;
        case 14: { /* replace the config */
            unsigned k = next(s) % NCONFIGS;
            c.type = ENG_CMD_CONFIG;
            c.config_json = configs[k];
            c.config_len = strlen(configs[k]);
            break;
        }
        default: { /* 15: a command with a type the engine does not know */
            c.type = (next(s) & 1) ? 0 : ENG_CMD__COUNT;
            c.counter = counters[0];
            break;
        }
        }
        eng_result res;
        memset(&res, 0, sizeof res);
        int rc = eng_apply(st->h, &c, st->now, &st->ev, &res);
        if (rc != res.rc)
            abort();
        if (!memchr(res.msg, 0, sizeof res.msg))
            abort();
        no_pii(res.msg, strlen(res.msg));
        check_and_replay(st, seq0, rc);
        if (rc == 0 && c.type == ENG_CMD_ISSUE && !res.replayed) {
            if (!res.has_ticket || memcmp(res.ticket.tid, c.tid, ENG_TID_LEN) != 0)
                abort();
            memcpy(st->tids[st->tid_next], c.tid, ENG_TID_LEN);
            st->tid_next = (st->tid_next + 1) % MAX_TIDS;
            if (st->ntids < MAX_TIDS)
                st->ntids++;
        }
    }
}

static void compare_snapshots(const eng_hall *a, const eng_hall *b)
{
    char *sa = NULL, *sb = NULL;
    size_t la = 0, lb = 0;
    if (eng_snapshot_encode(a, &sa, &la) != 0 || eng_snapshot_encode(b, &sb, &lb) != 0)
        abort();
    if (la != lb || memcmp(sa, sb, la) != 0)
        abort(); /* replay must rebuild exactly the same state */
    /* and the snapshot itself round-trips */
    eng_hall *c = NULL;
    char msg[200];
    if (eng_snapshot_decode(sa, la, &c, msg) != 0)
        abort();
    char *sc = NULL;
    size_t lc = 0;
    if (eng_snapshot_encode(c, &sc, &lc) != 0 || lc != la || memcmp(sa, sc, la) != 0)
        abort();
    eng_hall_free(c);
    free(sa);
    free(sb);
    free(sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT || size == 0)
        return 0;
    stream s = {data, data + size};
    state st;
    memset(&st, 0, sizeof st);
    unsigned first = next(&s);
    int which = first & 1 ? 2 : 0; /* start with the all-day or the office-hours config */
    st.now = T0 + (int64_t)(first >> 1) * 600000; /* up to ~21 h later */
    st.h = new_hall(which, st.now);
    st.r = new_hall(which, st.now);
    st.dec = malloc(sizeof *st.dec);
    if (!st.dec)
        abort();
    eng_evbuf_init(&st.ev);
    eng_evbuf_init(&st.arena);
    codec_buf_init(&st.enc);
    run(&st, &s);
    compare_snapshots(st.h, st.r);
    codec_buf_free(&st.enc);
    eng_evbuf_free(&st.ev);
    eng_evbuf_free(&st.arena);
    free(st.dec);
    eng_hall_free(st.h);
    eng_hall_free(st.r);
    return 0;
}
