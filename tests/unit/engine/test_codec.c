/*
 * test_codec.c — engine/codec*.c: event encodings (full/public, msgpack/JSON),
 * strict event decoding, request decoding and validation, hostile input.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "common/ant_test.h"

/* ---- fixtures ---------------------------------------------------------- */

#define S_PHONE "+6281299998888"
#define S_NAME "Sentinel Budiname"
#define S_NIK "3171999988887777"
#define S_IDEM "sentinel-idem-key"
#define S_COMMENT "sentinel comment text"
#define S_CONFIG "{\"id\":\"mpp-demo\",\"name\":\"Demo \\\"MPP\\\"\",\"self_service\":true}"

static const uint8_t TID[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t SECRET[16] = {0xfe, 0xed, 0xfa, 0xce, 0xca, 0xfe, 0xba, 0xbe,
                                   0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80};

static void base(eng_event *ev, int type, uint64_t seq)
{
    memset(ev, 0, sizeof *ev);
    ev->type = (uint8_t)type;
    ev->seq = seq;
    ev->at = 1767225600000 + (int64_t)seq * 1000;
    strcpy(ev->hall, "mpp-demo");
    if (type <= ENG_EV_TICKET_FEEDBACK) {
        memcpy(ev->tid, TID, 16);
        strcpy(ev->code, "A001");
        strcpy(ev->service, "ktp");
    }
}

/* One event of every type, a few variants, and citizen data everywhere it may be. */
static int fixtures(eng_event *evs)
{
    int n = 0;
    eng_event *e;

    e = &evs[n++];
    base(e, ENG_EV_TICKET_ISSUED, 1);
    memcpy(e->secret, SECRET, 16);
    e->number = 1;
    e->prio = ENG_PRIO_PREGNANT;
    e->channel = ENG_CH_APP;
    e->idem = S_IDEM;
    e->has_pii = true;
    strcpy(e->pii.phone, S_PHONE);
    strcpy(e->pii.name, S_NAME);
    strcpy(e->pii.nik, S_NIK);

    e = &evs[n++]; /* normal ticket, no idem, only a phone */
    base(e, ENG_EV_TICKET_ISSUED, 2);
    memcpy(e->secret, SECRET, 16);
    e->number = 1234567;
    e->channel = ENG_CH_STAFF;
    e->has_pii = true;
    strcpy(e->pii.phone, S_PHONE);

    e = &evs[n++];
    base(e, ENG_EV_TICKET_CALLED, 3);
    strcpy(e->counter, "l01");

    e = &evs[n++]; /* no counter set */
    base(e, ENG_EV_TICKET_CALLED, 4);

    e = &evs[n++];
    base(e, ENG_EV_TICKET_RECALLED, 5);
    strcpy(e->counter, "l01");
    e->recalls = 2;

    e = &evs[n++];
    base(e, ENG_EV_TICKET_SERVING, 6);
    strcpy(e->counter, "l01");

    e = &evs[n++];
    base(e, ENG_EV_TICKET_DONE, 7);
    strcpy(e->counter, "l01");

    e = &evs[n++];
    base(e, ENG_EV_TICKET_NO_SHOW, 8);
    strcpy(e->counter, "loket-twenty-nine-abcdefghijklmn"); /* 32 bytes */

    e = &evs[n++];
    base(e, ENG_EV_TICKET_REINSTATED, 9);
    e->placement = ENG_PLACE_FIRST;

    e = &evs[n++];
    base(e, ENG_EV_TICKET_TRANSFERRED, 10);
    strcpy(e->service, "kk");
    strcpy(e->from_service, "ktp");
    strcpy(e->counter, "l02");
    e->placement = ENG_PLACE_LAST;

    e = &evs[n++];
    base(e, ENG_EV_TICKET_CANCELLED, 11);

    e = &evs[n++];
    base(e, ENG_EV_TICKET_FEEDBACK, 12);
    e->score = 4;
    e->comment = S_COMMENT;

    e = &evs[n++];
    base(e, ENG_EV_TICKET_FEEDBACK, 13);
    e->score = 1;

    e = &evs[n++];
    base(e, ENG_EV_COUNTER_STATE, 14);
    strcpy(e->counter, "l02");
    e->counter_state = ENG_CS_PAUSED;

    e = &evs[n++];
    base(e, ENG_EV_SERVICE_WAIT, 15);
    e->nwait = 2;
    strcpy(e->wait[0].service, "ktp");
    e->wait[0].waiting = 12;
    e->wait[0].eta_s = 900;
    e->wait[0].oldest_wait_s = 1200;
    strcpy(e->wait[1].service, "paspor");
    e->wait[1].waiting = 4000000000u;

    e = &evs[n++];
    base(e, ENG_EV_SERVICE_WAIT, 16); /* empty list */

    e = &evs[n++];
    base(e, ENG_EV_HALL_CONFIG, 17);
    e->config_json = S_CONFIG;
    e->config_len = strlen(S_CONFIG);

    e = &evs[n++];
    base(e, ENG_EV_DAY_ROLLOVER, 18);
    e->day = 20454; /* 2026-01-01 */

    e = &evs[n++]; /* big seq, negative time */
    base(e, ENG_EV_DAY_ROLLOVER, UINT64_MAX);
    e->at = -5;
    e->day = 0;
    return n;
}

#define NFIX 32

static void expect_equal(const eng_event *a, const eng_event *b)
{
    cr_assert_eq(a->type, b->type);
    cr_assert_eq(a->seq, b->seq);
    cr_assert_eq(a->at, b->at);
    cr_assert_str_eq(a->hall, b->hall);
    cr_assert_eq(memcmp(a->tid, b->tid, 16), 0);
    cr_assert_eq(memcmp(a->secret, b->secret, 16), 0);
    cr_assert_str_eq(a->code, b->code);
    cr_assert_str_eq(a->service, b->service);
    cr_assert_str_eq(a->from_service, b->from_service);
    cr_assert_str_eq(a->counter, b->counter);
    cr_assert_eq(a->number, b->number);
    cr_assert_eq(a->prio, b->prio);
    cr_assert_eq(a->channel, b->channel);
    cr_assert_eq(a->placement, b->placement);
    cr_assert_eq(a->counter_state, b->counter_state);
    cr_assert_eq(a->recalls, b->recalls);
    cr_assert_eq(a->score, b->score);
    cr_assert_eq(a->day, b->day);
    cr_assert_eq(a->has_pii, b->has_pii);
    cr_assert_str_eq(a->pii.phone, b->pii.phone);
    cr_assert_str_eq(a->pii.name, b->pii.name);
    cr_assert_str_eq(a->pii.nik, b->pii.nik);
    cr_assert_eq(!a->idem, !b->idem);
    if (a->idem)
        cr_assert_str_eq(a->idem, b->idem);
    cr_assert_eq(!a->comment, !b->comment);
    if (a->comment)
        cr_assert_str_eq(a->comment, b->comment);
    cr_assert_eq(!a->config_json, !b->config_json);
    if (a->config_json) {
        cr_assert_eq(a->config_len, b->config_len);
        cr_assert_eq(memcmp(a->config_json, b->config_json, a->config_len), 0);
    }
    cr_assert_eq(a->nwait, b->nwait);
    for (int k = 0; k < a->nwait; k++) {
        cr_assert_str_eq(a->wait[k].service, b->wait[k].service);
        cr_assert_eq(a->wait[k].waiting, b->wait[k].waiting);
        cr_assert_eq(a->wait[k].eta_s, b->wait[k].eta_s);
        cr_assert_eq(a->wait[k].oldest_wait_s, b->wait[k].oldest_wait_s);
    }
}

static bool contains(const codec_buf *b, const char *needle)
{
    return memmem(b->data, b->len, needle, strlen(needle)) != NULL;
}

/* ---- helpers: JSON text -> msgpack (trusted test input) ---------------- */

static int buf_cb(void *data, const char *buf, size_t len)
{
    return codec_buf_append(data, buf, len) ? -1 : 0;
}

static void pack_json(msgpack_packer *pk, json_t *j)
{
    const char *key;
    size_t klen, idx;
    json_t *item;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        msgpack_pack_map(pk, json_object_size(j));
        json_object_keylen_foreach(j, key, klen, item)
        {
            msgpack_pack_str_with_body(pk, key, klen);
            pack_json(pk, item);
        }
        break;
    case JSON_ARRAY:
        msgpack_pack_array(pk, json_array_size(j));
        json_array_foreach(j, idx, item) pack_json(pk, item);
        break;
    case JSON_STRING:
        msgpack_pack_str_with_body(pk, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(pk, json_integer_value(j));
        break;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(j));
        break;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        break;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        break;
    }
}

/* msgpack of a JSON text; caller frees out. */
static void to_mp(const char *json, codec_buf *out)
{
    json_error_t err;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &err);
    cr_assert_not_null(j, "bad test JSON %s: %s", json, err.text);
    msgpack_packer pk;
    codec_buf_init(out);
    msgpack_packer_init(&pk, out, buf_cb);
    pack_json(&pk, j);
    json_decref(j);
}

/* Decodes a request both ways; both must agree on rc and message. */
static int req_both(const char *json, codec_request *req, char msg[200])
{
    codec_buf mp;
    codec_request r2;
    char m2[200];
    to_mp(json, &mp);
    int rc = codec_request_json(json, strlen(json), req, msg);
    int rc2 = codec_request_msgpack(mp.data, mp.len, &r2, m2);
    codec_buf_free(&mp);
    cr_assert_eq(rc, rc2, "%s: json rc %d (%s), msgpack rc %d (%s)", json, rc, msg, rc2, m2);
    cr_assert_str_eq(msg, m2, "%s", json);
    cr_assert_eq(req->op, r2.op);
    cr_assert_eq(req->rid_type, r2.rid_type);
    cr_assert_eq(req->cmd.type, r2.cmd.type);
    return rc;
}

/* ---- codec_buf, hex ---------------------------------------------------- */

Test(codec, buf_and_hex)
{
    codec_buf b;
    codec_buf_init(&b);
    for (int k = 0; k < 1000; k++)
        cr_assert_eq(codec_buf_append(&b, "abc", 3), 0);
    cr_assert_eq(b.len, 3000);
    cr_assert_eq(memcmp(b.data + 2997, "abc", 3), 0);
    size_t cap = b.cap;
    codec_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, cap);
    codec_buf_free(&b);
    cr_assert_null(b.data);

    char hex[33];
    uint8_t back[16];
    codec_hex(TID, 16, hex);
    cr_assert_str_eq(hex, "deadbeef0102030405060708090a0b0c");
    cr_assert_eq(codec_unhex(hex, 32, back, 16), 0);
    cr_assert_eq(memcmp(back, TID, 16), 0);
    cr_assert_eq(codec_unhex("DEADBEEF0102030405060708090A0B0C", 32, back, 16), 0);
    cr_assert_eq(memcmp(back, TID, 16), 0);
    cr_assert_eq(codec_unhex(hex, 31, back, 16), ANT_EBADREQ);
    cr_assert_eq(codec_unhex("zeadbeef0102030405060708090a0b0c", 32, back, 16), ANT_EBADREQ);
}

/* ---- events: round trip ------------------------------------------------ */

Test(codec, event_roundtrip_full)
{
    eng_event evs[NFIX], dec;
    int n = fixtures(evs);
    codec_buf a, b;
    eng_evbuf arena;
    char msg[200];
    codec_buf_init(&a);
    codec_buf_init(&b);
    eng_evbuf_init(&arena);
    for (int k = 0; k < n; k++) {
        codec_buf_reset(&a);
        codec_buf_reset(&b);
        cr_assert_eq(codec_event_msgpack(&evs[k], CODEC_FULL, &a), 0);
        int rc = codec_event_decode(a.data, a.len, &dec, &arena, msg);
        cr_assert_eq(rc, 0, "fixture %d (%s): %s", k, eng_ev_name(evs[k].type), msg);
        expect_equal(&evs[k], &dec);
        cr_assert_eq(codec_event_msgpack(&dec, CODEC_FULL, &b), 0);
        cr_assert_eq(a.len, b.len);
        cr_assert_eq(memcmp(a.data, b.data, a.len), 0, "fixture %d re-encodes differently", k);

        /* valid msgpack by msgpack-c's own reader (trusted: our output) */
        msgpack_unpacked up;
        size_t off = 0;
        msgpack_unpacked_init(&up);
        cr_assert_eq(msgpack_unpack_next(&up, a.data, a.len, &off), MSGPACK_UNPACK_SUCCESS);
        cr_assert_eq(off, a.len);
        cr_assert_eq(up.data.type, MSGPACK_OBJECT_MAP);
        msgpack_unpacked_destroy(&up);

        /* deterministic JSON too */
        codec_buf_reset(&a);
        codec_buf_reset(&b);
        cr_assert_eq(codec_event_json(&evs[k], CODEC_FULL, &a), 0);
        cr_assert_eq(codec_event_json(&dec, CODEC_FULL, &b), 0);
        cr_assert_eq(a.len, b.len);
        cr_assert_eq(memcmp(a.data, b.data, a.len), 0);
    }
    codec_buf_free(&a);
    codec_buf_free(&b);
    eng_evbuf_free(&arena);
}

Test(codec, event_appends_to_buffer)
{
    eng_event evs[NFIX];
    fixtures(evs);
    codec_buf a;
    codec_buf_init(&a);
    codec_buf_append(&a, "xy", 2);
    cr_assert_eq(codec_event_json(&evs[2], CODEC_PUBLIC, &a), 0);
    cr_assert_eq(memcmp(a.data, "xy{\"ev\":\"ticket.called\"", 23), 0);
    codec_buf_free(&a);
}

/* ---- events: public mode ----------------------------------------------- */

Test(codec, public_carries_no_private_data)
{
    eng_event evs[NFIX];
    int n = fixtures(evs);
    char tidhex[33], sechex[33];
    codec_hex(TID, 16, tidhex);
    codec_hex(SECRET, 16, sechex);
    const char *sentinels[] = {S_PHONE, S_NAME, S_NIK,        S_IDEM,   S_COMMENT, "pregnant",
                               tidhex,  sechex, "\"ticket\"", "secret", "channel", "number"};
    codec_buf a;
    codec_buf_init(&a);
    int checked = 0;
    for (int k = 0; k < n; k++) {
        for (int json = 0; json < 2; json++) {
            codec_buf_reset(&a);
            int rc = json ? codec_event_json(&evs[k], CODEC_PUBLIC, &a)
                          : codec_event_msgpack(&evs[k], CODEC_PUBLIC, &a);
            cr_assert_eq(rc, 0);
            if (evs[k].type == ENG_EV_TICKET_FEEDBACK) /* public: that a rating came, no more */
                cr_assert(!contains(&a, "score") && !contains(&a, "comment"),
                          "public feedback carries the rating");
            for (size_t s = 0; s < sizeof sentinels / sizeof sentinels[0]; s++) {
                const char *needle = sentinels[s];
                if (!json && strcmp(needle, "\"ticket\"") == 0)
                    needle = "\xa6ticket"; /* the msgpack key */
                cr_assert(!contains(&a, needle), "%s (%s) leaks '%s'", eng_ev_name(evs[k].type),
                          json ? "json" : "msgpack", sentinels[s]);
            }
            checked++;
        }
    }
    cr_assert_gt(checked, 30);
    /* and the full mode does carry them (the sentinels are real) */
    codec_buf_reset(&a);
    cr_assert_eq(codec_event_json(&evs[0], CODEC_FULL, &a), 0);
    for (int s = 0; s < 8; s++)
        if (s != 4)
            cr_assert(contains(&a, sentinels[s]), "full lacks %s", sentinels[s]);
    codec_buf_free(&a);
}

Test(codec, misuse_is_internal)
{
    eng_event ev;
    codec_buf a;
    codec_buf_init(&a);
    base(&ev, 0, 1);
    cr_assert_eq(codec_event_json(&ev, CODEC_PUBLIC, &a), ANT_EINTERNAL);
    cr_assert_eq(codec_event_msgpack(&ev, CODEC_PUBLIC, &a), ANT_EINTERNAL);
    cr_assert_eq(codec_event_json(&ev, CODEC_FULL, &a), ANT_EINTERNAL);
    base(&ev, ENG_EV__COUNT, 1);
    cr_assert_eq(codec_event_msgpack(&ev, CODEC_FULL, &a), ANT_EINTERNAL);
    base(&ev, ENG_EV_TICKET_DONE, 1);
    cr_assert_eq(codec_event_msgpack(&ev, 7, &a), ANT_EINTERNAL);
    cr_assert_eq(a.len, 0);
    codec_buf_free(&a);
}

/* ---- events: JSON shape ------------------------------------------------ */

static void expect_keys(json_t *o, const char *keys, const char *what)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", keys);
    size_t n = 0;
    for (char *save = NULL, *k = strtok_r(tmp, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
        cr_assert_not_null(json_object_get(o, k), "%s: missing key %s", what, k);
        n++;
    }
    cr_assert_eq(json_object_size(o), n, "%s: %zu keys, want %zu (%s)", what, json_object_size(o),
                 n, keys);
}

Test(codec, json_shape)
{
    static const char *const want[][2] = {
        /* full, public */
        {"ev hall seq at ticket code service priority secret number channel idem phone name nik",
         "ev hall seq at code service priority"},
        {"ev hall seq at ticket code service priority secret number channel phone",
         "ev hall seq at code service priority"},
        {"ev hall seq at ticket code service counter", "ev hall seq at code service counter"},
        {"ev hall seq at ticket code service", "ev hall seq at code service"},
        {"ev hall seq at ticket code service counter recalls",
         "ev hall seq at code service counter recalls"},
        {"ev hall seq at ticket code service counter", "ev hall seq at code service counter"},
        {"ev hall seq at ticket code service counter", "ev hall seq at code service counter"},
        {"ev hall seq at ticket code service counter", "ev hall seq at code service counter"},
        {"ev hall seq at ticket code service placement", "ev hall seq at code service placement"},
        {"ev hall seq at ticket code service counter from_service placement",
         "ev hall seq at code service counter from_service placement"},
        {"ev hall seq at ticket code service", "ev hall seq at code service"},
        {"ev hall seq at ticket code service score comment", NULL},
        {"ev hall seq at ticket code service score", NULL},
        {"ev hall seq at counter state", "ev hall seq at counter state"},
        {"ev hall seq at services", "ev hall seq at services"},
        {"ev hall seq at services", "ev hall seq at services"},
        {"ev hall seq at config_json", "ev hall seq at config"},
        {"ev hall seq at day", "ev hall seq at day"},
        {"ev hall seq at day", "ev hall seq at day"},
    };
    eng_event evs[NFIX];
    int n = fixtures(evs);
    cr_assert_eq(n, (int)(sizeof want / sizeof want[0]));
    codec_buf a;
    codec_buf_init(&a);
    for (int k = 0; k < n; k++) {
        for (int mode = 0; mode < 2; mode++) {
            if (!want[k][mode])
                continue;
            codec_buf_reset(&a);
            cr_assert_eq(codec_event_json(&evs[k], mode, &a), 0);
            if (k == 18) { /* seq 2^64-1: past jansson's integers, check the bytes */
                const char *want18 = "{\"ev\":\"day.rollover\",\"hall\":\"mpp-demo\",\"seq\":"
                                     "18446744073709551615,\"at\":-5,\"day\":\"1970-01-01\"}";
                cr_assert_eq(a.len, strlen(want18));
                cr_assert_eq(memcmp(a.data, want18, a.len), 0);
                continue;
            }
            json_error_t err;
            json_t *o = json_loadb(a.data, a.len, JSON_REJECT_DUPLICATES, &err);
            cr_assert_not_null(o, "fixture %d: %.*s: %s", k, (int)a.len, a.data, err.text);
            char what[64];
            snprintf(what, sizeof what, "fixture %d mode %d", k, mode);
            expect_keys(o, want[k][mode], what);
            cr_assert_str_eq(json_string_value(json_object_get(o, "ev")), eng_ev_name(evs[k].type));
            cr_assert_str_eq(json_string_value(json_object_get(o, "hall")), "mpp-demo");
            cr_assert_eq(json_integer_value(json_object_get(o, "at")), evs[k].at);
            json_t *prio = json_object_get(o, "priority");
            if (prio && mode == CODEC_PUBLIC)
                cr_assert(json_is_boolean(prio));
            if (k == 0) {
                cr_assert_str_eq(json_string_value(json_object_get(o, "code")), "A001");
                if (mode == CODEC_PUBLIC)
                    cr_assert(json_is_true(prio));
                else
                    cr_assert_str_eq(json_string_value(prio), "pregnant");
            }
            if (k == 1)
                cr_assert(mode == CODEC_PUBLIC ? json_is_false(prio) : json_is_null(prio));
            if (k == 13)
                cr_assert_str_eq(json_string_value(json_object_get(o, "state")), "paused");
            if (k == 14) {
                json_t *s = json_object_get(o, "services");
                cr_assert_eq(json_array_size(s), 2);
                expect_keys(json_array_get(s, 1), "id waiting eta_s oldest_wait_s", "services");
                cr_assert_eq(json_integer_value(json_object_get(json_array_get(s, 1), "waiting")),
                             4000000000);
            }
            if (k == 16 && mode == CODEC_PUBLIC) {
                json_t *c = json_object_get(o, "config");
                cr_assert(json_is_object(c));
                cr_assert_str_eq(json_string_value(json_object_get(c, "name")), "Demo \"MPP\"");
            }
            if (k == 16 && mode == CODEC_FULL)
                cr_assert_str_eq(json_string_value(json_object_get(o, "config_json")), S_CONFIG);
            if (k == 17)
                cr_assert_str_eq(json_string_value(json_object_get(o, "day")), "2026-01-01");
            json_decref(o);
        }
    }
    codec_buf_free(&a);
}

Test(codec, json_string_escaping)
{
    eng_event ev;
    base(&ev, ENG_EV_TICKET_ISSUED, 1);
    ev.has_pii = true;
    /* quote, backslash, controls, DEL, valid 2/3/4-byte UTF-8, then invalid bytes */
    strcpy(ev.pii.name,
           "a\"b\\c\n\t\x01\x1f\x7f \xc5\x9a \xe2\x82\xac \xf0\x9f\x98\x80 \xff\xc0\x80"
           "\xed\xa0\x80 \xe2\x82");
    codec_buf a;
    codec_buf_init(&a);
    cr_assert_eq(codec_event_json(&ev, CODEC_FULL, &a), 0);
    cr_assert(contains(&a, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f \xc5\x9a"));
    json_error_t err;
    json_t *o = json_loadb(a.data, a.len, 0, &err);
    cr_assert_not_null(o, "%.*s: %s", (int)a.len, a.data, err.text);
    const char *name = json_string_value(json_object_get(o, "name"));
    cr_assert_str_eq(name, "a\"b\\c\n\t\x01\x1f\x7f \xc5\x9a \xe2\x82\xac \xf0\x9f\x98\x80 "
                           "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf"
                           "\xbd \xef\xbf\xbd\xef\xbf\xbd");
    json_decref(o);
    codec_buf_free(&a);
}

/* ---- events: strict decoding ------------------------------------------- */

/* Decodes a msgpack event written as JSON text (trusted conversion). */
static int decode_json_as_mp(const char *json, char msg[200])
{
    codec_buf mp;
    eng_evbuf arena;
    eng_event ev;
    to_mp(json, &mp);
    eng_evbuf_init(&arena);
    int rc = codec_event_decode(mp.data, mp.len, &ev, &arena, msg);
    eng_evbuf_free(&arena);
    codec_buf_free(&mp);
    return rc;
}

Test(codec, event_decode_errors)
{
    static const char *const cases[][2] = {
        {"{\"ev\":\"counter.state\",\"hall\":\"h\",\"seq\":-1,\"at\":1,\"counter\":\"c\","
         "\"state\":\"open\"}",
         "field 'seq': expected unsigned integer"},
        {"{\"ev\":\"counter.state\",\"hall\":\"h\",\"seq\":1.5,\"at\":1,\"counter\":\"c\","
         "\"state\":\"open\"}",
         "field 'seq': expected unsigned integer"},
        {"{\"hall\":\"h\",\"seq\":1,\"at\":1}", "missing field 'ev'"},
        {"{\"ev\":\"counter.state\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"counter\":\"c\"}",
         "missing field 'state'"},
        {"{\"ev\":\"counter.state\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"counter\":\"c\","
         "\"state\":\"open\",\"xyz\":1}",
         "unknown field 'xyz'"},
        {"{\"ev\":\"counter.state\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"counter\":\"c\","
         "\"state\":\"open\",\"code\":\"A001\"}",
         "field 'code' does not belong in counter.state"},
        {"{\"ev\":\"counter.state\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"counter\":\"c\","
         "\"state\":\"ajar\"}",
         "field 'state': unknown value 'ajar'"},
        {"{\"ev\":\"ticket.exploded\"}", "field 'ev': unknown event 'ticket.exploded'"},
        {"{\"ev\":5}", "field 'ev': expected string"},
        {"{\"ev\":\"day.rollover\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"day\":\"2026-02-30\"}",
         "field 'day': expected YYYY-MM-DD"},
        {"{\"ev\":\"ticket.cancelled\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"ticket\":\"abc\","
         "\"code\":\"A1\",\"service\":\"s\"}",
         "field 'ticket': expected 32 hex digits"},
        {"{\"ev\":\"ticket.cancelled\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"ticket\":"
         "\"000102030405060708090a0b0c0d0e0f\",\"code\":\"A1234567\",\"service\":\"s\"}",
         "field 'code': longer than 7 bytes"},
        {"{\"ev\":\"ticket.issued\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"ticket\":"
         "\"000102030405060708090a0b0c0d0e0f\",\"code\":\"A1\",\"service\":\"s\","
         "\"priority\":\"vip\",\"secret\":\"000102030405060708090a0b0c0d0e0f\","
         "\"number\":1,\"channel\":\"kiosk\"}",
         "field 'priority': unknown reason"},
        {"{\"ev\":\"ticket.issued\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"ticket\":"
         "\"000102030405060708090a0b0c0d0e0f\",\"code\":\"A1\",\"service\":\"s\","
         "\"priority\":null,\"secret\":\"000102030405060708090a0b0c0d0e0f\","
         "\"number\":1,\"channel\":\"kiosk\",\"nik\":\"12345678901234567\"}",
         "field 'nik': longer than 16 bytes"},
        {"{\"ev\":\"service.wait\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"services\":"
         "[{\"id\":\"a\",\"waiting\":1,\"eta_s\":1}]}",
         "field 'services[0]': missing fields"},
        {"{\"ev\":\"service.wait\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"services\":"
         "[{\"id\":\"a\",\"waiting\":4294967296,\"eta_s\":1,\"oldest_wait_s\":1}]}",
         "field 'waiting': 4294967296 is out of range"},
        {"{\"ev\":\"service.wait\",\"hall\":\"h\",\"seq\":1,\"at\":1,\"services\":"
         "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}",
         "field 'services': more than 16 items"},
        {"[1,2]", "event: expected map, got array"},
    };
    char msg[200];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cr_assert_eq(decode_json_as_mp(cases[k][0], msg), ANT_EBADREQ, "%s", cases[k][0]);
        cr_assert(strstr(msg, cases[k][1]), "%s: got '%s', want '%s'", cases[k][0], msg,
                  cases[k][1]);
    }
    /* duplicates and trailing bytes need hand-made bytes */
    eng_evbuf arena;
    eng_event ev;
    eng_evbuf_init(&arena);
    cr_assert_eq(codec_event_decode("\x82\xa2"
                                    "ev\xa2xx\xa2"
                                    "ev\xa2xx",
                                    13, &ev, &arena, msg),
                 ANT_EBADREQ);
    cr_assert(strstr(msg, "unknown event"), "%s", msg);
    cr_assert_eq(codec_event_decode("\x82\xa3seq\x01\xa3seq\x02", 11, &ev, &arena, msg),
                 ANT_EBADREQ);
    cr_assert_str_eq(msg, "duplicate field 'seq'");
    codec_buf a;
    codec_buf_init(&a);
    eng_event evs[NFIX];
    fixtures(evs);
    codec_event_msgpack(&evs[3], CODEC_FULL, &a);
    codec_buf_append(&a, "\xc0", 1);
    cr_assert_eq(codec_event_decode(a.data, a.len, &ev, &arena, msg), ANT_EBADREQ);
    cr_assert(strstr(msg, "1 trailing bytes"), "%s", msg);
    /* a public encoding is not a stored event */
    codec_buf_reset(&a);
    codec_event_msgpack(&evs[0], CODEC_PUBLIC, &a);
    cr_assert_eq(codec_event_decode(a.data, a.len, &ev, &arena, msg), ANT_EBADREQ);
    codec_buf_free(&a);
    eng_evbuf_free(&arena);
}

/* ---- hostile input ----------------------------------------------------- */

static void hostile(const char *bytes, size_t len, const char *want)
{
    eng_evbuf arena;
    eng_event ev;
    codec_request req;
    char msg[200];
    eng_evbuf_init(&arena);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(codec_event_decode(bytes, len, &ev, &arena, msg), ANT_EBADREQ);
    cr_assert(msg[0]);
    if (want)
        cr_assert(strstr(msg, want), "event: '%s', want '%s'", msg, want);
    cr_assert_eq(codec_request_msgpack(bytes, len, &req, msg), ANT_EBADREQ);
    cr_assert(msg[0]);
    if (want)
        cr_assert(strstr(msg, want), "request: '%s', want '%s'", msg, want);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_lt((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, 100.0);
    cr_assert_null(arena.blocks, "nothing may be allocated for hostile input");
    eng_evbuf_free(&arena);
}

Test(codec, hostile_msgpack)
{
    hostile("\xdd\xff\xff\xff\xff", 5, "array of 4294967295 items overruns");
    hostile("\xdf\xff\xff\xff\xff", 5, "map of 4294967295 items overruns the input");
    hostile("\xdb\xff\xff\xff\xff", 5, "string of 4294967295 bytes overruns");
    hostile("\xde\xff\xff", 3, "overruns");
    hostile("", 0, "truncated input");
    hostile("\xc1", 1, "unsupported msgpack type 0xc1");
    hostile("\x81\xa2"
            "ev\xd4\x01\x02",
            7, "unsupported msgpack type 0xd4");
    /* inside a map */
    hostile("\x81\xa2"
            "ev\xdb\xff\xff\xff\xff",
            9, "string of 4294967295 bytes overruns");
    hostile("\x81\xa2"
            "ev\xdd\xff\xff\xff\xff",
            9, "array of 4294967295 items overruns");
    hostile("\x81\xa2"
            "ev\xdf\x7f\xff\xff\xff",
            9, "map of 2147483647 items overruns");
    hostile("\x81\xdb\xff\xff\xff\xff", 6, "overruns");

    /* 1000 nested arrays, at top level and as a value */
    char deep[1100];
    memset(deep, 0x91, 1000);
    deep[1000] = (char)0xc0;
    hostile(deep, 1001, "expected map, got array");
    deep[0] = (char)0x82;
    memcpy(deep + 1, "\xa2op\xa4ping\xa3rid", 12);
    memset(deep + 13, 0x91, 1000);
    deep[1013] = (char)0xc0;
    codec_request req;
    char msg[200];
    cr_assert_eq(codec_request_msgpack(deep, 1014, &req, msg), ANT_EBADREQ);
    cr_assert(strstr(msg, "nesting deeper than 8 levels"), "%s", msg);
    /* a map of 65 entries */
    char many[1 + 3 + 65 * 2];
    many[0] = (char)0xde;
    many[1] = 0;
    many[2] = 65;
    memset(many + 3, 0xc0, 130);
    hostile(many, 133, "more than 64 fields");
}

Test(codec, hostile_json)
{
    codec_request req;
    char msg[200];
    size_t n = 100000;
    char *deep = malloc(n + 32);
    int k = sprintf(deep, "{\"op\":\"ping\",\"rid\":");
    memset(deep + k, '[', 1000);
    memset(deep + k + 1000, ']', 1000);
    strcpy(deep + k + 2000, "}");
    cr_assert_eq(codec_request_json(deep, strlen(deep), &req, msg), ANT_EBADREQ);
    cr_assert(msg[0]);
    k = sprintf(deep, "{\"rid\":9,\"op\":\"ping\",\"x\":");
    memset(deep + k, '[', 20);
    memset(deep + k + 20, ']', 20);
    strcpy(deep + k + 40, "}");
    cr_assert_eq(codec_request_json(deep, strlen(deep), &req, msg), ANT_EBADREQ);
    cr_assert_str_eq(msg, "request: nesting deeper than 8 levels");
    cr_assert_eq(req.rid_type, 2, "the rid is read even so");
    cr_assert_eq(req.rid_u, 9);
    free(deep);

    static const char *const bad[][2] = {
        {"", "request: JSON ends early"},
        {"[1]", "request: expected a JSON object"},
        {"\"ping\"", "request: expected a JSON object"},
        {"{\"op\":\"ping\",\"op\":\"ping\"}", "request: duplicate field"},
        {"{\"op\":\"ping\"} x", "request: invalid JSON"},
        {"{\"op\":\"issue\",\"phone\":\"0812\x01\"}", "request: invalid JSON"},
        {"{\"op\":\"p\\u0000ng\"}", "request: JSON strings may not contain NUL"},
        {"{\"op\":\"\xff\"}", "request: invalid UTF-8"},
        {"{\"op\":\"ping\",\"rid\":99999999999999999999999}", "request: number out of range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(codec_request_json(bad[i][0], strlen(bad[i][0]), &req, msg), ANT_EBADREQ, "%s",
                     bad[i][0]);
        cr_assert(strstr(msg, bad[i][1]), "%s: got '%s'", bad[i][0], msg);
        cr_assert_null(strstr(msg, "0812"), "citizen data echoed: %s", msg);
    }
}

/* ---- every truncation and bit flip ------------------------------------- */

static const char *const valid_requests[] = {
    "{\"op\":\"auth\",\"rid\":1,\"token\":\"tok-abc.DEF_123\"}",
    "{\"op\":\"subscribe\",\"rid\":\"r-2\",\"hall\":\"mpp-demo\",\"since\":12345}",
    "{\"op\":\"unsubscribe\",\"rid\":-3,\"hall\":\"mpp-demo\"}",
    "{\"op\":\"ping\"}",
    "{\"op\":\"issue\",\"rid\":4,\"hall\":\"mpp-demo\",\"service\":\"ktp\",\"priority\":"
    "\"elderly\",\"channel\":\"web\",\"idem\":\"k-1\",\"phone\":\"+628123456789\",\"name\":"
    "\"Budi \xc5\x9a\",\"nik\":\"3171234567890123\"}",
    "{\"op\":\"call\",\"rid\":5,\"hall\":\"mpp-demo\",\"counter\":\"l01\",\"ticket\":"
    "\"deadbeef0102030405060708090a0b0c\"}",
    "{\"op\":\"finish\",\"hall\":\"mpp-demo\",\"counter\":\"l01\",\"transfer_to\":\"kk\","
    "\"placement\":\"first\"}",
    "{\"op\":\"feedback\",\"ticket\":\"deadbeef0102030405060708090a0b0c\",\"secret\":"
    "\"feedfacecafebabe1020304050607080\",\"score\":3,\"comment\":\"ok\\nthanks\"}",
    "{\"op\":\"cancel\",\"ticket\":\"deadbeef0102030405060708090a0b0c\"}",
    "{\"op\":\"counter_pause\",\"hall\":\"mpp-demo\",\"counter\":\"l01\"}",
};

static void mutate_event(const char *p, size_t len, eng_evbuf *arena, codec_buf *tmp)
{
    eng_event ev;
    char msg[200];
    eng_evbuf_reset(arena);
    msg[0] = '\0';
    int rc = codec_event_decode(p, len, &ev, arena, msg);
    if (rc == 0) {
        codec_buf_reset(tmp);
        cr_assert_eq(codec_event_msgpack(&ev, CODEC_FULL, tmp), 0);
        codec_buf_reset(tmp);
        cr_assert_eq(codec_event_json(&ev, CODEC_FULL, tmp), 0);
    } else {
        cr_assert_eq(rc, ANT_EBADREQ);
        cr_assert(msg[0], "an error needs a message");
    }
}

static void mutate_request(const char *p, size_t len, bool json)
{
    codec_request req;
    char msg[200];
    int rc =
        json ? codec_request_json(p, len, &req, msg) : codec_request_msgpack(p, len, &req, msg);
    if (rc == 0) {
        cr_assert(req.op >= CODEC_OP_AUTH && req.op <= CODEC_OP_COMMAND);
        if (req.op == CODEC_OP_COMMAND)
            cr_assert(req.cmd.type >= ENG_CMD_ISSUE && req.cmd.type < ENG_CMD__COUNT);
        cr_assert(req.rid_type >= 0 && req.rid_type <= 3);
    } else {
        cr_assert_eq(rc, ANT_EBADREQ);
        cr_assert(msg[0], "an error needs a message");
    }
}

/* Each mutation runs on its own exact-size heap copy, so ASan sees any overread. */
static char *copy(const char *p, size_t len)
{
    char *c = malloc(len ? len : 1);
    memcpy(c, p, len);
    return c;
}

Test(codec, event_truncations_and_bitflips, .timeout = 120)
{
    eng_event evs[NFIX];
    int n = fixtures(evs);
    codec_buf a, tmp;
    eng_evbuf arena;
    codec_buf_init(&a);
    codec_buf_init(&tmp);
    eng_evbuf_init(&arena);
    long runs = 0;
    for (int k = 0; k < n; k++) {
        codec_buf_reset(&a);
        cr_assert_eq(codec_event_msgpack(&evs[k], CODEC_FULL, &a), 0);
        for (size_t cut = 0; cut < a.len; cut++) {
            char *c = copy(a.data, cut);
            eng_event ev;
            char msg[200];
            eng_evbuf_reset(&arena);
            cr_assert_eq(codec_event_decode(c, cut, &ev, &arena, msg), ANT_EBADREQ,
                         "fixture %d cut at %zu decodes", k, cut);
            cr_assert(msg[0]);
            free(c);
            runs++;
        }
        for (size_t bit = 0; bit < a.len * 8; bit++) {
            char *c = copy(a.data, a.len);
            c[bit / 8] ^= (char)(1 << (bit % 8));
            mutate_event(c, a.len, &arena, &tmp);
            free(c);
            runs++;
        }
    }
    cr_assert_gt(runs, 10000);
    codec_buf_free(&a);
    codec_buf_free(&tmp);
    eng_evbuf_free(&arena);
}

Test(codec, request_truncations_and_bitflips, .timeout = 120)
{
    for (size_t k = 0; k < sizeof valid_requests / sizeof valid_requests[0]; k++) {
        const char *json = valid_requests[k];
        size_t jlen = strlen(json);
        codec_buf mp;
        to_mp(json, &mp);
        codec_request req;
        char msg[200];
        cr_assert_eq(codec_request_msgpack(mp.data, mp.len, &req, msg), 0, "%s: %s", json, msg);
        cr_assert_eq(codec_request_json(json, jlen, &req, msg), 0, "%s: %s", json, msg);
        for (int json_mode = 0; json_mode < 2; json_mode++) {
            const char *p = json_mode ? json : mp.data;
            size_t len = json_mode ? jlen : mp.len;
            for (size_t cut = 0; cut < len; cut++) {
                char *c = copy(p, cut);
                int rc = json_mode ? codec_request_json(c, cut, &req, msg)
                                   : codec_request_msgpack(c, cut, &req, msg);
                cr_assert_eq(rc, ANT_EBADREQ, "%s cut at %zu decodes", json, cut);
                cr_assert(msg[0]);
                free(c);
            }
            for (size_t bit = 0; bit < len * 8; bit++) {
                char *c = copy(p, len);
                c[bit / 8] ^= (char)(1 << (bit % 8));
                mutate_request(c, len, json_mode);
                free(c);
            }
        }
        codec_buf_free(&mp);
    }
}

/* ---- requests: valid --------------------------------------------------- */

Test(codec, request_ops)
{
    codec_request req;
    char msg[200];

    cr_assert_eq(req_both(valid_requests[0], &req, msg), 0, "%s", msg);
    cr_assert_eq(req.op, CODEC_OP_AUTH);
    cr_assert_str_eq(req.op_name, "auth");
    cr_assert_str_eq(req.token, "tok-abc.DEF_123");
    cr_assert_eq(req.rid_type, 2);
    cr_assert_eq(req.rid_u, 1);

    cr_assert_eq(req_both(valid_requests[1], &req, msg), 0, "%s", msg);
    cr_assert_eq(req.op, CODEC_OP_SUBSCRIBE);
    cr_assert_str_eq(req.hall, "mpp-demo");
    cr_assert(req.has_since);
    cr_assert_eq(req.since, 12345);
    cr_assert_eq(req.rid_type, 3);
    cr_assert_str_eq(req.rid_s, "r-2");

    cr_assert_eq(req_both(valid_requests[2], &req, msg), 0, "%s", msg);
    cr_assert_eq(req.op, CODEC_OP_UNSUBSCRIBE);
    cr_assert_eq(req.rid_type, 1);
    cr_assert_eq(req.rid_i, -3);

    cr_assert_eq(req_both("{\"op\":\"ping\",\"rid\":null}", &req, msg), 0, "%s", msg);
    cr_assert_eq(req.op, CODEC_OP_PING);
    cr_assert_eq(req.rid_type, 0);

    cr_assert_eq(req_both(valid_requests[4], &req, msg), 0, "%s", msg);
    cr_assert_eq(req.op, CODEC_OP_COMMAND);
    cr_assert_eq(req.cmd.type, ENG_CMD_ISSUE);
    cr_assert_str_eq(req.cmd.service, "ktp");
    cr_assert_eq(req.cmd.prio, ENG_PRIO_ELDERLY);
    cr_assert_eq(req.cmd.channel, ENG_CH_WEB);
    cr_assert_str_eq(req.cmd.idem, "k-1");
    cr_assert_str_eq(req.cmd.phone, "+628123456789");
    cr_assert_str_eq(req.cmd.name, "Budi \xc5\x9a");
    cr_assert_str_eq(req.cmd.nik, "3171234567890123");
    cr_assert_eq(req.cmd.service, req.s_service, "cmd points into the request");

    cr_assert_eq(req_both("{\"op\":\"issue\",\"hall\":\"h\",\"service\":\"s\",\"priority\":null,"
                          "\"phone\":\"\",\"name\":\"\",\"nik\":\"\"}",
                          &req, msg),
                 0, "%s", msg);
    cr_assert_eq(req.cmd.prio, ENG_PRIO_NONE);
    cr_assert_eq(req.cmd.channel, ENG_CH_KIOSK, "a missing channel means kiosk");
    cr_assert_null(req.cmd.idem);
    cr_assert_null(req.cmd.phone);
    cr_assert_null(req.cmd.name);
    cr_assert_null(req.cmd.nik);

    cr_assert_eq(req_both(valid_requests[5], &req, msg), 0, "%s", msg);
    cr_assert_eq(req.cmd.type, ENG_CMD_CALL);
    cr_assert_str_eq(req.cmd.counter, "l01");
    cr_assert(req.cmd.has_ticket);
    cr_assert_eq(memcmp(req.cmd.tid, TID, 16), 0);
    cr_assert_eq(req.rid_u, 5);

    cr_assert_eq(req_both("{\"op\":\"call\",\"hall\":\"h\",\"counter\":\"c\"}", &req, msg), 0);
    cr_assert_not(req.cmd.has_ticket);

    cr_assert_eq(req_both(valid_requests[6], &req, msg), 0, "%s", msg);
    cr_assert_eq(req.cmd.type, ENG_CMD_FINISH);
    cr_assert_str_eq(req.cmd.transfer_to, "kk");
    cr_assert_eq(req.cmd.placement, ENG_PLACE_FIRST);
    cr_assert_eq(req_both("{\"op\":\"finish\",\"hall\":\"h\",\"counter\":\"c\"}", &req, msg), 0);
    cr_assert_null(req.cmd.transfer_to);
    cr_assert_eq(req.cmd.placement, ENG_PLACE_LAST);

    cr_assert_eq(req_both(valid_requests[7], &req, msg), 0, "%s", msg);
    cr_assert_eq(req.cmd.type, ENG_CMD_FEEDBACK);
    cr_assert_eq(req.cmd.score, 3);
    cr_assert_str_eq(req.cmd.comment, "ok\nthanks");
    cr_assert_str_eq(req.ticket_secret, "feedfacecafebabe1020304050607080");

    cr_assert_eq(req_both("{\"op\":\"cancel\",\"ticket\":\"deadbeef0102030405060708090a0b0c\","
                          "\"secret\":\"FEEDFACECAFEBABE1020304050607080\",\"hall\":\"h\"}",
                          &req, msg),
                 0, "%s", msg);
    cr_assert_eq(req.cmd.type, ENG_CMD_CANCEL);
    cr_assert_str_eq(req.ticket_secret, "feedfacecafebabe1020304050607080");
    cr_assert_str_eq(req.hall, "h");
    cr_assert_eq(req_both(valid_requests[8], &req, msg), 0);
    cr_assert_str_eq(req.ticket_secret, "");

    static const struct {
        const char *op;
        int type;
    } simple[] = {
        {"recall", ENG_CMD_RECALL},
        {"start", ENG_CMD_START},
        {"no_show", ENG_CMD_NO_SHOW},
        {"counter_open", ENG_CMD_COUNTER_OPEN},
        {"counter_close", ENG_CMD_COUNTER_CLOSE},
        {"counter_pause", ENG_CMD_COUNTER_PAUSE},
        {"counter_resume", ENG_CMD_COUNTER_RESUME},
    };
    for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++) {
        char json[200];
        snprintf(json, sizeof json,
                 "{\"counter\":\"loket-7\",\"rid\":\"x\",\"hall\":\"mpp-1\",\"op\":\"%s\"}",
                 simple[k].op);
        cr_assert_eq(req_both(json, &req, msg), 0, "%s: %s", json, msg);
        cr_assert_eq(req.op, CODEC_OP_COMMAND);
        cr_assert_eq(req.cmd.type, simple[k].type);
        cr_assert_str_eq(req.cmd.counter, "loket-7");
        cr_assert_str_eq(req.hall, "mpp-1");
        cr_assert_str_eq(req.op_name, simple[k].op);
    }
    cr_assert_eq(req_both("{\"op\":\"reinstate\",\"ticket\":\"deadbeef0102030405060708090a0b0c\"}",
                          &req, msg),
                 0);
    cr_assert_eq(req.cmd.type, ENG_CMD_REINSTATE);
    cr_assert(req.cmd.has_ticket);
}

/* ---- requests: errors -------------------------------------------------- */

#define X16 "xxxxxxxxxxxxxxxx"
#define TK "\"ticket\":\"deadbeef0102030405060708090a0b0c\""
#define ISSUE "\"op\":\"issue\",\"hall\":\"h\",\"service\":\"s\""

Test(codec, request_errors)
{
    /* input, expected message (exact), or a prefix ending in '*' */
    static const char *const cases[][2] = {
        {"{}", "missing field 'op'"},
        {"{\"op\":7}", "field 'op': expected string, got integer"},
        {"{\"op\":\"explode\"}", "field 'op': unknown op 'explode'"},
        {"{\"op\":\"ping\",\"hall\":\"h\"}", "field 'hall' is not allowed for op 'ping'"},
        {"{\"op\":\"ping\",\"xyz\":1}", "unknown field 'xyz'"},
        {"{\"op\":\"ping\",\"rid\":1.5}",
         "field 'rid': expected integer, string or nil, got float"},
        {"{\"op\":\"ping\",\"rid\":[1]}",
         "field 'rid': expected integer, string or nil, got array"},
        {"{\"op\":\"ping\",\"rid\":\"" X16 X16 X16 X16 "x\"}", "field 'rid': longer than 64 bytes"},
        {"{\"op\":\"auth\"}", "missing field 'token'"},
        {"{\"op\":\"auth\",\"token\":\"\"}",
         "field 'token': expected 1-128 printable ASCII characters"},
        {"{\"op\":\"auth\",\"token\":\"a b\"}",
         "field 'token': expected 1-128 printable ASCII characters"},
        {"{\"op\":\"subscribe\"}", "missing field 'hall'"},
        {"{\"op\":\"subscribe\",\"hall\":null}", "field 'hall': expected string, got nil"},
        {"{\"op\":\"subscribe\",\"hall\":\"Mpp\"}",
         "field 'hall': invalid id 'Mpp' (want [a-z0-9][a-z0-9-]{0,31})"},
        {"{\"op\":\"subscribe\",\"hall\":\"-a\"}", "field 'hall': invalid id '-a'*"},
        {"{\"op\":\"subscribe\",\"hall\":\"abcdefghijklmnopqrstuvwxyzabcdefg\"}",
         "field 'hall': invalid id*"},
        {"{\"op\":\"subscribe\",\"hall\":\"h\",\"since\":-1}",
         "field 'since': expected a non-negative integer"},
        {"{\"op\":\"subscribe\",\"hall\":\"h\",\"since\":\"5\"}",
         "field 'since': expected a non-negative integer"},
        {"{\"op\":\"subscribe\",\"hall\":{\"a\":1}}", "field 'hall': expected string, got map"},
        {"{" ISSUE ",\"priority\":\"vip\"}",
         "field 'priority': expected one of elderly, disabled, pregnant, child"},
        {"{" ISSUE ",\"priority\":true}", "field 'priority': expected string, got boolean"},
        {"{" ISSUE ",\"channel\":\"staff\"}", "field 'channel': expected one of kiosk, web, app"},
        {"{" ISSUE ",\"idem\":\"\"}", "field 'idem': expected 1-64 printable ASCII characters"},
        {"{" ISSUE ",\"idem\":\"a\\tb\"}",
         "field 'idem': expected 1-64 printable ASCII characters"},
        {"{" ISSUE ",\"phone\":\"0812-3456-789\"}",
         "field 'phone': expected 6-16 digits with an optional leading '+'"},
        {"{" ISSUE ",\"phone\":\"+12345\"}", "field 'phone': expected 6-16 digits*"},
        {"{" ISSUE ",\"phone\":\"12345678901234567\"}", "field 'phone': expected 6-16 digits*"},
        {"{" ISSUE ",\"nik\":\"317123456789012\"}", "field 'nik': expected exactly 16 digits"},
        {"{" ISSUE ",\"nik\":\"317123456789012X\"}", "field 'nik': expected exactly 16 digits"},
        {"{" ISSUE ",\"nik\":3171234567890123}", "field 'nik': expected string, got integer"},
        {"{" ISSUE ",\"name\":\"Budi\\u0007Santoso\"}",
         "field 'name': invalid UTF-8 or control characters"},
        {"{" ISSUE ",\"name\":\"Budi\\u0085Santoso\"}",
         "field 'name': invalid UTF-8 or control characters"},
        {"{" ISSUE ",\"name\":\"Budi\\nSantoso\"}",
         "field 'name': invalid UTF-8 or control characters"},
        {"{" ISSUE ",\"name\":\"Budi Santoso Budi Santoso Budi Santoso Budi Santoso Budi Santoso "
         "Budi Santoso Budi Santoso Budi Santoso\"}",
         "field 'name': longer than 100 bytes"},
        {"{" ISSUE ",\"token\":\"t\"}", "field 'token' is not allowed for op 'issue'"},
        {"{\"op\":\"issue\",\"hall\":\"h\"}", "missing field 'service'"},
        {"{\"op\":\"call\",\"hall\":\"h\",\"counter\":\"c\",\"ticket\":\"abc\"}",
         "field 'ticket': expected 32 hex digits"},
        {"{\"op\":\"call\",\"hall\":\"h\"}", "missing field 'counter'"},
        {"{\"op\":\"finish\",\"hall\":\"h\",\"counter\":\"c\",\"placement\":\"middle\"}",
         "field 'placement': expected first or last"},
        {"{\"op\":\"finish\",\"hall\":\"h\",\"counter\":\"c\",\"transfer_to\":\"K K\"}",
         "field 'transfer_to': invalid id 'K K'*"},
        {"{\"op\":\"reinstate\"}", "missing field 'ticket'"},
        {"{\"op\":\"cancel\"," TK ",\"secret\":\"00112233445566778899aabbccddeeffaa\"}",
         "field 'secret': expected 32 hex digits"},
        {"{\"op\":\"feedback\"," TK "}", "missing field 'score' (1 to 4) or 'elements'*"},
        {"{\"op\":\"feedback\"," TK ",\"score\":3,\"elements\":[1,2,3,4,1,2,3,4,1]}",
         "feedback: give either 'score' or 'elements', not both"},
        {"{\"op\":\"feedback\"," TK ",\"elements\":[1,2,3]}",
         "field 'elements': expected an array of 9 answers 1 to 4"},
        {"{\"op\":\"feedback\"," TK ",\"elements\":[1,2,3,4,5,2,3,4,1]}",
         "field 'elements[4]': expected an integer from 1 to 4"},
        {"{\"op\":\"feedback\"," TK ",\"elements\":[1,2,3,4,0,2,3,4,1]}",
         "field 'elements[4]': expected an integer from 1 to 4"},
        {"{\"op\":\"feedback\"," TK ",\"elements\":[1,2,3,4,\"x\",2,3,4,1]}",
         "field 'elements[4]': expected an integer from 1 to 4"},
        {"{\"op\":\"feedback\"," TK ",\"elements\":{\"a\":1}}",
         "field 'elements': expected an array of 9 answers 1 to 4"},
        {"{\"op\":\"feedback\"," TK ",\"score\":0}",
         "field 'score': expected an integer from 1 to 4"},
        {"{\"op\":\"feedback\"," TK ",\"score\":5}",
         "field 'score': expected an integer from 1 to 4"},
        {"{\"op\":\"feedback\"," TK ",\"score\":2.0}",
         "field 'score': expected an integer from 1 to 4"},
        {"{\"op\":\"feedback\"," TK ",\"score\":2,\"comment\":\"rahasia\\u0001sekali\"}",
         "field 'comment': invalid UTF-8 or control characters"},
        {"{\"op\":\"counter_open\",\"hall\":\"h\",\"counter\":\"c\",\"ticket\":null}",
         "field 'ticket' is not allowed for op 'counter_open'"},
    };
    /* values of citizen data in the cases above that must never be echoed */
    static const char *const secret_values[] = {
        "0812-3456-789", "+12345",  "12345678901234567",   "317123456789012",
        "Santoso",       "rahasia", "00112233445566778899"};
    codec_request req;
    char msg[200];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *in = cases[k][0], *want = cases[k][1];
        cr_assert_eq(req_both(in, &req, msg), ANT_EBADREQ, "%s decodes", in);
        size_t wl = strlen(want);
        if (want[wl - 1] == '*')
            cr_assert_eq(strncmp(msg, want, wl - 1), 0, "%s: got '%s', want '%s'", in, msg, want);
        else
            cr_assert_str_eq(msg, want, "%s", in);
        for (size_t s = 0; s < sizeof secret_values / sizeof secret_values[0]; s++)
            cr_assert_null(strstr(msg, secret_values[s]), "%s: message echoes '%s': %s", in,
                           secret_values[s], msg);
    }

    /* a bad msgpack-only shape: non-string keys, trailing bytes, ext types */
    cr_assert_eq(codec_request_msgpack("\x81\x01\x02", 3, &req, msg), ANT_EBADREQ);
    cr_assert_str_eq(msg, "request: field names must be strings");
    cr_assert_eq(codec_request_msgpack("\x81\xa2op\xa4ping\xc0", 10, &req, msg), ANT_EBADREQ);
    cr_assert_str_eq(msg, "request: 1 trailing bytes after the map");
    cr_assert_eq(codec_request_msgpack("\x82\xa2op\xa4ping\xa2op\xa4ping", 17, &req, msg),
                 ANT_EBADREQ);
    cr_assert_str_eq(msg, "duplicate field 'op'");
    cr_assert_eq(codec_request_msgpack("\x82\xa2op\xa4"
                                       "auth\xa5token\xa3t\x00k",
                                       19, &req, msg),
                 ANT_EBADREQ);
    cr_assert_str_eq(msg, "field 'token': contains a NUL byte");
    cr_assert_eq(codec_request_msgpack("\x84\xa2op\xa5issue\xa4hall\xa1h\xa7service\xa1s"
                                       "\xa4name\xa2\xff\xfe",
                                       35, &req, msg),
                 ANT_EBADREQ);
    cr_assert_str_eq(msg, "field 'name': invalid UTF-8 or control characters");
}

Test(codec, request_rid_survives_errors)
{
    codec_request req;
    char msg[200];
    cr_assert_eq(req_both("{\"op\":\"issue\",\"hall\":\"BAD\",\"rid\":77}", &req, msg),
                 ANT_EBADREQ);
    cr_assert_eq(req.rid_type, 2);
    cr_assert_eq(req.rid_u, 77);
    cr_assert_eq(req_both("{\"hall\":\"h\",\"rid\":\"abc\"}", &req, msg), ANT_EBADREQ);
    cr_assert_str_eq(msg, "missing field 'op'");
    cr_assert_eq(req.rid_type, 3);
    cr_assert_str_eq(req.rid_s, "abc");
    cr_assert_eq(req_both("{\"op\":\"nope\",\"rid\":-9}", &req, msg), ANT_EBADREQ);
    cr_assert_eq(req.rid_type, 1);
    cr_assert_eq(req.rid_i, -9);
    /* after the rid, the input breaks off: the rid is still there */
    codec_buf mp;
    to_mp("{\"rid\":5,\"op\":\"ping\"}", &mp);
    cr_assert_eq(codec_request_msgpack(mp.data, mp.len - 2, &req, msg), ANT_EBADREQ);
    cr_assert_eq(req.rid_type, 2);
    cr_assert_eq(req.rid_u, 5);
    codec_buf_free(&mp);
}

/* hall.config: both public encodings carry the same public config object */
Test(codec, public_hall_config_is_the_same_object_in_both)
{
    static const char cfg[] =
        "{\"id\":\"h1\",\"name\":\"Hall\",\"no_show\":{\"min_recalls\":1},"
        "\"priority\":{\"max_consecutive\":2},\"services\":[{\"id\":\"ktp\"}]}";
    eng_event ev;
    base(&ev, ENG_EV_HALL_CONFIG, 5);
    ev.config_json = cfg;
    ev.config_len = sizeof cfg - 1;
    codec_buf j, m;
    codec_buf_init(&j);
    codec_buf_init(&m);
    cr_assert_eq(codec_event_json(&ev, CODEC_PUBLIC, &j), 0);
    cr_assert_eq(codec_event_msgpack(&ev, CODEC_PUBLIC, &m), 0);
    json_t *jv = json_loadb(j.data, j.len, 0, NULL);
    cr_assert_not_null(jv);
    json_t *jc = json_object_get(jv, "config");
    cr_assert(json_is_object(jc), "JSON carries the object 'config'");
    cr_assert_null(json_object_get(jc, "priority"));
    cr_assert_null(json_object_get(jc, "no_show"));
    cr_assert_str_eq(json_string_value(json_object_get(jc, "name")), "Hall");
    /* msgpack: unpack with msgpack-c and compare through JSON text */
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    cr_assert_eq(msgpack_unpack_next(&u, m.data, m.len, NULL), MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq(u.data.type, MSGPACK_OBJECT_MAP);
    const msgpack_object *mc = NULL;
    for (uint32_t i = 0; i < u.data.via.map.size; i++) {
        const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 6 &&
            memcmp(kv->key.via.str.ptr, "config", 6) == 0)
            mc = &kv->val;
        cr_assert(!(kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 11),
                  "no config_json string in public msgpack");
    }
    cr_assert_not_null(mc, "msgpack carries 'config'");
    cr_assert_eq(mc->type, MSGPACK_OBJECT_MAP, "as a map, not a string");
    cr_assert_eq(mc->via.map.size, json_object_size(jc), "same keys as the JSON object");
    msgpack_unpacked_destroy(&u);
    json_decref(jv);
    codec_buf_free(&j);
    codec_buf_free(&m);
}
