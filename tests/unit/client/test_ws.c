/*
 * test_ws.c — the WebSocket client against a fake server: handshake checks,
 * text, binary, fragmented and control frames, masking of what the client
 * sends, the close handshake, msgpack requests, and refusals of bad accept
 * keys, framing violations, oversized lengths and silence.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "client.h"
#include "client/fake_server.h"
#include "common/ant_test.h"

#define MAXF 8

/* What a script saw; filled on the server thread, read after fake_stop. */
typedef struct ws_seen {
    bool handshake_ok;
    char head[2048];
    fk_frame f[MAXF];
    int nf;
} ws_seen;

static void read_frames(int fd, ws_seen *w, int n)
{
    for (int i = 0; i < n && w->nf < MAXF; i++)
        if (!fk_ws_read_frame(fd, &w->f[w->nf++]))
            break;
}

/* Connects a client with proto to s; asserts success. */
static acl_ws *open_ws(fake_server *s, int proto, int timeout_ms)
{
    acl_ws *ws;
    char err[ACL_ERRLEN];
    cr_assert_eq(acl_ws_new(fake_addr(s), proto, timeout_ms, &ws, err), 0, "%s", err);
    int rc = acl_ws_connect(ws, "/v1/ws", NULL);
    cr_assert_eq(rc, 0, "%s", acl_ws_error(ws));
    return ws;
}

/* ---- the whole conversation -------------------------------------------------------- */

static void conversation(int fd, int conn, void *arg)
{
    (void)conn;
    ws_seen *w = arg;
    if (!(w->handshake_ok = fk_ws_accept(fd, "antrean.v1.json", NULL, w->head, sizeof w->head)))
        return;
    static uint8_t big[70000];
    memset(big, 'x', sizeof big);
    const uint8_t bin[] = {0, 1, 2, 0xff};
    fk_ws_frame(fd, true, 1, "{\"rid\":1}", 9);
    fk_ws_frame(fd, true, 2, bin, sizeof bin);
    fk_ws_frame(fd, false, 1, "frag", 4);
    fk_ws_frame(fd, true, 9, "p1", 2); /* a ping between fragments */
    fk_ws_frame(fd, false, 0, "men", 3);
    fk_ws_frame(fd, true, 10, "", 0); /* an unsolicited pong */
    fk_ws_frame(fd, true, 0, "t", 1);
    fk_ws_frame(fd, true, 2, big, sizeof big); /* a 64-bit length */
    read_frames(fd, w, 2);                     /* the pong, then the client's text */
    const uint8_t close[] = {0x03, 0xe8, 'b', 'y', 'e'};
    fk_ws_frame(fd, true, 8, close, sizeof close);
    read_frames(fd, w, 1); /* the client's close */
    fk_wait_eof(fd);
}

Test(ws, handshake_frames_ping_and_close)
{
    ws_seen w = {0};
    fake_server *s = fake_start(conversation, &w, 1);
    acl_ws *ws = open_ws(s, ACL_WS_JSON, 3000);
    cr_assert(acl_ws_is_open(ws));
    acl_ws_msg m;

    cr_assert_eq(acl_ws_recv(ws, 2000, &m), 0, "%s", acl_ws_error(ws));
    cr_assert_eq(m.type, ACL_WS_TEXT);
    cr_assert_str_eq(m.data, "{\"rid\":1}");
    acl_ws_msg_free(&m);

    cr_assert_eq(acl_ws_recv(ws, 2000, &m), 0);
    cr_assert_eq(m.type, ACL_WS_BINARY);
    cr_assert_eq(m.len, 4);
    cr_assert(memcmp(m.data, "\0\1\2\xff", 4) == 0);
    acl_ws_msg_free(&m);

    cr_assert_eq(acl_ws_recv(ws, 2000, &m), 0, "%s", acl_ws_error(ws));
    cr_assert_eq(m.type, ACL_WS_TEXT);
    cr_assert_str_eq(m.data, "fragment");
    acl_ws_msg_free(&m);

    cr_assert_eq(acl_ws_recv(ws, 2000, &m), 0, "%s", acl_ws_error(ws));
    cr_assert_eq(m.type, ACL_WS_BINARY);
    cr_assert_eq(m.len, 70000);
    acl_ws_msg_free(&m);

    cr_assert_eq(acl_ws_send(ws, ACL_WS_TEXT, "hi there", 8), 0);
    cr_assert_eq(acl_ws_recv(ws, 2000, &m), 0, "%s", acl_ws_error(ws));
    cr_assert_eq(m.type, ACL_WS_CLOSE);
    cr_assert_eq(m.close_code, 1000);
    cr_assert_str_eq(m.data, "bye");
    acl_ws_msg_free(&m);
    cr_assert_not(acl_ws_is_open(ws));
    cr_assert_eq(acl_ws_recv(ws, 100, &m), ACL_ECLOSED);

    acl_ws_counters cnt;
    acl_ws_get_counters(ws, &cnt);
    cr_assert_eq(cnt.pings_received, 1);
    cr_assert_eq(cnt.pongs_sent, 1);
    cr_assert_eq(cnt.pongs_received, 1);
    acl_ws_free(ws);
    fake_stop(s);

    cr_assert(w.handshake_ok);
    cr_assert_not_null(strstr(w.head, "GET /v1/ws HTTP/1.1\r\n"));
    cr_assert_not_null(strstr(w.head, "\r\nSec-WebSocket-Version: 13\r\n"));
    cr_assert_not_null(strstr(w.head, "\r\nSec-WebSocket-Protocol: antrean.v1.json\r\n"));
    cr_assert_eq(w.nf, 3);
    /* every client frame is masked; the pong echoes the ping */
    cr_assert(w.f[0].masked && w.f[0].fin);
    cr_assert_eq(w.f[0].opcode, 10);
    cr_assert_eq(w.f[0].len, 2);
    cr_assert(memcmp(w.f[0].payload, "p1", 2) == 0);
    cr_assert(w.f[1].masked);
    cr_assert_eq(w.f[1].opcode, 1);
    cr_assert_eq(w.f[1].len, 8);
    cr_assert(memcmp(w.f[1].payload, "hi there", 8) == 0);
    cr_assert(w.f[2].masked);
    cr_assert_eq(w.f[2].opcode, 8);
    cr_assert_geq(w.f[2].len, 2);
    cr_assert_eq(w.f[2].payload[0] << 8 | w.f[2].payload[1], 1000);
}

/* ---- msgpack ------------------------------------------------------------------------------ */

static void msgpack_peer(int fd, int conn, void *arg)
{
    (void)conn;
    ws_seen *w = arg;
    if (!(w->handshake_ok = fk_ws_accept(fd, "antrean.v1.msgpack", NULL, w->head, sizeof w->head)))
        return;
    read_frames(fd, w, 1); /* the request */
    /* {"rid":7,"ok":true,"result":{"seq":300}} */
    const uint8_t reply[] = {0x83, 0xa3, 'r', 'i', 'd',  0x07, 0xa2, 'o', 'k', 0xc3, 0xa6, 'r', 'e',
                             's',  'u',  'l', 't', 0x81, 0xa3, 's',  'e', 'q', 0xcd, 0x01, 0x2c};
    fk_ws_frame(fd, true, 2, reply, sizeof reply);
    read_frames(fd, w, 1); /* the close */
}

Test(ws, msgpack_request_and_reply)
{
    ws_seen w = {0};
    fake_server *s = fake_start(msgpack_peer, &w, 1);
    acl_ws *ws = open_ws(s, ACL_WS_MSGPACK, 3000);
    json_t *req = json_pack("{ss si ss}", "op", "subscribe", "rid", 7, "hall", "mpp-demo");
    cr_assert_eq(acl_ws_send_json(ws, req), 0);
    json_decref(req);
    json_t *rep;
    cr_assert_eq(acl_ws_recv_json(ws, 2000, &rep), 0, "%s", acl_ws_error(ws));
    cr_assert_eq(json_integer_value(json_object_get(rep, "rid")), 7);
    cr_assert(json_is_true(json_object_get(rep, "ok")));
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(rep, "result"), "seq")), 300);
    json_decref(rep);
    cr_assert_eq(acl_ws_close(ws, 1000, "done"), 0);
    acl_ws_free(ws);
    fake_stop(s);

    cr_assert_not_null(strstr(w.head, "Sec-WebSocket-Protocol: antrean.v1.msgpack\r\n"));
    cr_assert_eq(w.nf, 2);
    cr_assert(w.f[0].masked);
    cr_assert_eq(w.f[0].opcode, 2);
    codec_buf b;
    codec_buf_init(&b);
    cr_assert_eq(acl_msgpack_to_json(w.f[0].payload, w.f[0].len, &b, NULL), 0);
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(j, "op")), "subscribe");
    cr_assert_str_eq(json_string_value(json_object_get(j, "hall")), "mpp-demo");
    json_decref(j);
    codec_buf_free(&b);
    cr_assert_eq(w.f[1].opcode, 8);
    cr_assert(memcmp(w.f[1].payload + 2, "done", 4) == 0);
}

/* ---- refused handshakes ------------------------------------------------------------------- */

typedef struct hs_case {
    const char *proto;      /* what the server answers */
    const char *bad_accept; /* NULL: the right key */
    const char *raw;        /* instead of a handshake, this answer */
} hs_case;

static void handshake_peer(int fd, int conn, void *arg)
{
    (void)conn;
    const hs_case *c = arg;
    char head[2048];
    if (c->raw) {
        if (fk_read_request(fd, head, sizeof head, NULL, 0, NULL))
            fk_write_str(fd, c->raw);
    } else {
        fk_ws_accept(fd, c->proto, c->bad_accept, head, sizeof head);
    }
    fk_wait_eof(fd);
}

static int try_handshake(const hs_case *c, int proto, char *err_out, size_t cap)
{
    fake_server *s = fake_start(handshake_peer, (void *)c, 1);
    acl_ws *ws;
    cr_assert_eq(acl_ws_new(fake_addr(s), proto, 2000, &ws, NULL), 0);
    int rc = acl_ws_connect(ws, "/v1/ws", "http://localhost");
    snprintf(err_out, cap, "%s", acl_ws_error(ws));
    cr_assert_not(acl_ws_is_open(ws));
    acl_ws_free(ws);
    fake_stop(s);
    return rc;
}

Test(ws, refuses_bad_handshakes)
{
    char err[ACL_ERRLEN];
    hs_case bad_key = {.proto = "antrean.v1.json", .bad_accept = "dGhlIHNhbXBsZSBub25jZQ=="};
    cr_assert_eq(try_handshake(&bad_key, ACL_WS_JSON, err, sizeof err), ACL_EPROTO);
    cr_assert_not_null(strstr(err, "Sec-WebSocket-Accept"), "%s", err);

    hs_case other_proto = {.proto = "antrean.v2"};
    cr_assert_eq(try_handshake(&other_proto, ACL_WS_JSON, err, sizeof err), ACL_EPROTO);

    hs_case no_proto = {.proto = NULL};
    cr_assert_eq(try_handshake(&no_proto, ACL_WS_MSGPACK, err, sizeof err), ACL_EPROTO);

    hs_case refused = {.raw =
                           "HTTP/1.1 400 Bad Request\r\nContent-Length: 56\r\n\r\n"
                           "{\"error\":{\"code\":\"bad_request\",\"message\":\"no upgrade\"}}\n"};
    cr_assert_eq(try_handshake(&refused, ACL_WS_JSON, err, sizeof err), ACL_EPROTO);
    cr_assert_not_null(strstr(err, "400 bad_request: no upgrade"), "%s", err);

    hs_case no_upgrade = {.raw = "HTTP/1.1 101 Switching Protocols\r\n\r\n"};
    cr_assert_eq(try_handshake(&no_upgrade, ACL_WS_JSON, err, sizeof err), ACL_EPROTO);
}

Test(ws, json_without_subprotocol_is_accepted)
{
    hs_case none = {.proto = NULL};
    fake_server *s = fake_start(handshake_peer, &none, 1);
    acl_ws *ws = open_ws(s, ACL_WS_JSON, 2000);
    acl_ws_free(ws);
    fake_stop(s);
}

/* ---- refused frames ------------------------------------------------------------------------ */

typedef struct frame_case {
    uint8_t bytes[16];
    size_t n;
    int rc;
    int close_code; /* what the client must send back, 0 for nothing checked */
} frame_case;

static const frame_case frame_cases[] = {
    {{0x81, 0x85, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e'}, 11, ACL_EPROTO, 1002}, /* masked */
    {{0xc1, 0x01, 'a'}, 3, ACL_EPROTO, 1002},                                  /* RSV1 */
    {{0x83, 0x00}, 2, ACL_EPROTO, 1002},                                       /* opcode 3 */
    {{0x8b, 0x00}, 2, ACL_EPROTO, 1002},                                       /* opcode 11 */
    {{0x09, 0x00}, 2, ACL_EPROTO, 1002},                                       /* fragmented ping */
    {{0x89, 0x7e, 0x00, 0x80}, 4, ACL_EPROTO, 1002},                           /* long ping */
    {{0x80, 0x01, 'a'}, 3, ACL_EPROTO, 1002},                         /* continuation first */
    {{0x01, 0x01, 'a', 0x81, 0x01, 'b'}, 6, ACL_EPROTO, 1002},        /* text inside a text */
    {{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, 10, ACL_EPROTO, 1002},  /* top bit */
    {{0x82, 0x7f, 0, 0, 0, 0, 0, 0x20, 0, 0}, 10, ACL_ETOOBIG, 1009}, /* 2 MiB */
    {{0x82, 0x7f, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, 10, ACL_ETOOBIG, 1009},
    {{0x82, 0x7e, 0x00, 0x05, 'a'}, 5, ACL_EPROTO, 1002}, /* 16-bit length below 126 */
    {{0x81, 0x02, 0xc3, 0x28}, 4, ACL_EPROTO, 1007},      /* text not UTF-8 */
    {{0x88, 0x01, 0x03}, 3, ACL_EPROTO, 1002},            /* close of one byte */
    {{0x88, 0x02, 0x03, 0xed}, 4, ACL_EPROTO, 1002},      /* close code 1005 on the wire */
    {{0x82, 0x05, 'a', 'b'}, 4, ACL_EPROTO, 0},           /* truncated payload, then EOF */
};

typedef struct frame_run {
    const frame_case *c;
    ws_seen seen;
} frame_run;

static void frame_peer(int fd, int conn, void *arg)
{
    (void)conn;
    frame_run *r = arg;
    if (!fk_ws_accept(fd, "antrean.v1.json", NULL, r->seen.head, sizeof r->seen.head))
        return;
    fk_write(fd, r->c->bytes, r->c->n);
    if (r->c->close_code)
        read_frames(fd, &r->seen, 1);
}

Test(ws, refuses_bad_frames)
{
    for (size_t i = 0; i < sizeof frame_cases / sizeof frame_cases[0]; i++) {
        frame_run run = {.c = &frame_cases[i]};
        fake_server *s = fake_start(frame_peer, &run, 1);
        acl_ws *ws = open_ws(s, ACL_WS_JSON, 2000);
        acl_ws_msg m;
        int rc = acl_ws_recv(ws, 1000, &m);
        int want = frame_cases[i].rc;
        if (want == ACL_EPROTO && frame_cases[i].close_code == 0)
            cr_assert(rc == ACL_EPROTO || rc == ACL_ECLOSED, "case %zu: rc %d", i, rc);
        else
            cr_assert_eq(rc, want, "case %zu: rc %d (%s)", i, rc, acl_ws_error(ws));
        cr_assert_null(m.data, "case %zu", i);
        cr_assert_not(acl_ws_is_open(ws), "case %zu", i);
        acl_ws_free(ws);
        fake_stop(s);
        if (frame_cases[i].close_code) {
            cr_assert_eq(run.seen.nf, 1, "case %zu", i);
            cr_assert_eq(run.seen.f[0].opcode, 8, "case %zu", i);
            cr_assert(run.seen.f[0].masked);
            cr_assert_eq(run.seen.f[0].payload[0] << 8 | run.seen.f[0].payload[1],
                         frame_cases[i].close_code, "case %zu", i);
        }
    }
}

/* ---- silence ------------------------------------------------------------------------------ */

static void slow_peer(int fd, int conn, void *arg)
{
    (void)conn;
    ws_seen *w = arg;
    if (!fk_ws_accept(fd, "antrean.v1.json", NULL, w->head, sizeof w->head))
        return;
    read_frames(fd, w, 1); /* the client says when its first recv timed out */
    fk_ws_frame(fd, true, 1, "late", 4);
    fk_wait_eof(fd);
}

Test(ws, recv_timeout_keeps_the_connection)
{
    ws_seen w = {0};
    fake_server *s = fake_start(slow_peer, &w, 1);
    acl_ws *ws = open_ws(s, ACL_WS_JSON, 2000);
    acl_ws_msg m;
    cr_assert_eq(acl_ws_recv(ws, 150, &m), ACL_ETIMEOUT);
    cr_assert(acl_ws_is_open(ws));
    cr_assert_eq(acl_ws_send(ws, ACL_WS_TEXT, "go", 2), 0);
    cr_assert_eq(acl_ws_recv(ws, 2000, &m), 0, "%s", acl_ws_error(ws));
    cr_assert_str_eq(m.data, "late");
    acl_ws_msg_free(&m);
    acl_ws_free(ws);
    fake_stop(s);
}

static void silent_handshake(int fd, int conn, void *arg)
{
    (void)conn;
    (void)arg;
    char head[2048];
    fk_read_request(fd, head, sizeof head, NULL, 0, NULL);
    fk_wait_eof(fd);
}

Test(ws, handshake_times_out)
{
    fake_server *s = fake_start(silent_handshake, NULL, 1);
    acl_ws *ws;
    cr_assert_eq(acl_ws_new(fake_addr(s), ACL_WS_JSON, 200, &ws, NULL), 0);
    cr_assert_eq(acl_ws_connect(ws, "/v1/ws", NULL), ACL_ETIMEOUT);
    acl_ws_free(ws);
    fake_stop(s);
}

Test(ws, refuses_bad_arguments)
{
    acl_ws *ws;
    cr_assert_eq(acl_ws_new("127.0.0.1:1", 5, 100, &ws, NULL), ACL_EARG);
    cr_assert_null(ws);
    cr_assert_eq(acl_ws_new("127.0.0.1:1", ACL_WS_JSON, 100, &ws, NULL), 0);
    cr_assert_eq(acl_ws_connect(ws, "v1/ws", NULL), ACL_EARG);
    cr_assert_eq(acl_ws_connect(ws, "/v1/ws\r\nX: y", NULL), ACL_EARG);
    cr_assert_eq(acl_ws_send(ws, ACL_WS_TEXT, "x", 1), ACL_ECLOSED);
    cr_assert_eq(acl_ws_ping(ws, "x", 200), ACL_EARG);
    acl_ws_free(ws);
}
