/*
 * ws.c — WebSocket (RFC 6455) for /v1/ws: handshake and framing.
 *
 * Own framing rather than wslay: the server only needs unmasked outgoing
 * frames (broadcast frames are shared byte-for-byte) and a strict, bounded
 * reader of masked client frames. Limits of SPEC §5: a message over
 * opts.ws_max_msg is refused with 1009 as soon as its header says so (no
 * payload is buffered), any framing violation closes with 1002, invalid
 * UTF-8 in a text message with 1007. Pongs answer pings only while little
 * output is queued, so a ping flood cannot grow memory. The handshake picks
 * antrean.v1.msgpack or antrean.v1.json (none offered: JSON; only unknown
 * ones: 400) and checks Origin against --allow-origin.
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "srv.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Does the comma-separated header value contain token (case-insensitive)? */
static bool has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t st = i;
        while (i < n && v[i] != ',')
            i++;
        size_t en = i;
        while (en > st && (v[en - 1] == ' ' || v[en - 1] == '\t'))
            en--;
        if (en - st == tl && strncasecmp(v + st, token, tl) == 0)
            return true;
    }
    return false;
}

static bool origin_allowed(conn *c)
{
    srv *s = c->s;
    size_t on, hn;
    const char *o = http_header(c, "Origin", &on);
    if (!o)
        return true; /* not a browser */
    for (int i = 0; i < s->o.norigins; i++) {
        const char *a = s->o.origins[i];
        if (strcmp(a, "*") == 0 || (strlen(a) == on && strncasecmp(a, o, on) == 0))
            return true;
    }
    /* same origin as the server itself (the pages it serves) */
    const char *host = http_header(c, "Host", &hn);
    if (!host)
        return false;
    for (int k = 0; k < 2; k++) {
        const char *scheme = k ? "https://" : "http://";
        size_t sl = strlen(scheme);
        if (on == sl + hn && strncasecmp(o, scheme, sl) == 0 && strncasecmp(o + sl, host, hn) == 0)
            return true;
    }
    return false;
}

void ws_handshake(conn *c)
{
    srv *s = c->s;
    size_t n;
    const char *v;
    c->h.route = RT_WS;
    if (c->h.p.method != HTTP_GET) {
        http_respond_error(c, ANT_EMETHOD, "use GET to open a WebSocket");
        http_done(c);
        return;
    }
    v = http_header(c, "Upgrade", &n);
    bool up = v && has_token(v, n, "websocket");
    v = http_header(c, "Connection", &n);
    up = up && v && has_token(v, n, "upgrade");
    const char *key = http_header(c, "Sec-WebSocket-Key", &n);
    size_t keylen = n;
    v = http_header(c, "Sec-WebSocket-Version", &n);
    if (!up || !key || keylen != 24 || !v || n != 2 || memcmp(v, "13", 2) != 0) {
        http_respond_error(c, ANT_EBADREQ,
                           "a WebSocket upgrade needs Upgrade: websocket, Connection: Upgrade, "
                           "Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key");
        http_done(c);
        return;
    }
    if (!origin_allowed(c)) {
        http_respond_error(c, ANT_EFORBIDDEN, "origin not allowed (see --allow-origin)");
        http_done(c);
        return;
    }
    int fmt = JO_JSON;
    const char *proto = NULL;
    v = http_header(c, "Sec-WebSocket-Protocol", &n);
    if (v) {
        /* first known one in the client's order of preference */
        size_t i = 0;
        while (i < n && !proto) {
            while (i < n && (v[i] == ' ' || v[i] == ','))
                i++;
            size_t st = i;
            while (i < n && v[i] != ',' && v[i] != ' ')
                i++;
            if (i - st == 18 && strncmp(v + st, "antrean.v1.msgpack", 18) == 0) {
                proto = "antrean.v1.msgpack";
                fmt = JO_MSGPACK;
            } else if (i - st == 15 && strncmp(v + st, "antrean.v1.json", 15) == 0) {
                proto = "antrean.v1.json";
            }
        }
        if (!proto) {
            http_respond_error(c, ANT_EBADREQ,
                               "unknown WebSocket subprotocol; offer antrean.v1.msgpack or "
                               "antrean.v1.json");
            http_done(c);
            return;
        }
    }
    unsigned char sha[SHA_DIGEST_LENGTH];
    char cat[24 + sizeof WS_GUID];
    memcpy(cat, key, 24);
    memcpy(cat + 24, WS_GUID, sizeof WS_GUID - 1);
    SHA1((const unsigned char *)cat, 24 + sizeof WS_GUID - 1, sha);
    char accept[32];
    EVP_EncodeBlock((unsigned char *)accept, sha, SHA_DIGEST_LENGTH);
    char resp[512];
    int rn = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                      accept, proto ? "Sec-WebSocket-Protocol: " : "", proto ? proto : "",
                      proto ? "\r\n" : "");
    conn_write(c, resp, (size_t)rn);
    metrics_request(s, RT_WS, 101);
    if (s->o.access_log)
        log_access(s, c, HTTP_GET, RT_WS, 101, srv_mono_us() - c->h.t0_us);
    c->proto = CONN_WS;
    c->h.busy = false;
    c->h.in_message = false;
    s->nws++;
    c->w.fmt = fmt;
    codec_buf_init(&c->w.msg);
    c->w.msg_opcode = 0;
    c->w.last_rx_ms = c->w.last_ping_ms = srv_now_ms();
    http_conn_free(c); /* the request head and body are no longer needed */
    conn_arm_timer(c);
}

void ws_conn_free(conn *c)
{
    codec_buf_free(&c->w.msg);
}

static void frame_header(codec_buf *b, int opcode, size_t len, int *rc)
{
    uint8_t h[10];
    size_t hl;
    h[0] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        h[1] = (uint8_t)len;
        hl = 2;
    } else if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        hl = 10;
    }
    *rc = codec_buf_append(b, h, hl);
}

static void send_frame(conn *c, int opcode, const char *p, size_t n)
{
    if (c->closing || c->w.close_sent)
        return;
    size_t mark;
    codec_buf *b = conn_begin(c, &mark);
    int rc;
    frame_header(b, opcode, n, &rc);
    if (rc == 0 && n)
        rc = codec_buf_append(b, p, n);
    if (rc != 0) {
        b->len = mark;
        conn_close(c);
        return;
    }
    conn_commit(c, mark);
}

void ws_check_backlog(conn *c)
{
    srv *s = c->s;
    if (c->out_bytes <= s->o.ws_max_out || c->closing || c->w.close_sent)
        return;
    s->m.ws_dropped_slow++;
    log_line("warn", "slow subscriber dropped", "conn=%llu unsent=%zu", (unsigned long long)c->id,
             c->out_bytes);
    conn_drop_queued(c);
    ws_close(c, 1008, "subscriber too slow");
}

void ws_send(conn *c, int opcode, const char *p, size_t n)
{
    send_frame(c, opcode, p, n);
    ws_check_backlog(c);
}

void ws_close(conn *c, uint16_t code, const char *reason)
{
    if (c->closing || c->w.close_sent)
        return;
    char pl[125];
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > 120)
        rl = 120;
    pl[0] = (char)(code >> 8);
    pl[1] = (char)(code & 0xff);
    if (rl)
        memcpy(pl + 2, reason, rl);
    send_frame(c, 8, pl, 2 + rl);
    c->w.close_sent = true;
    if (code == 1002 || code == 1007 || code == 1009)
        c->s->m.ws_closed_proto++;
    conn_close_after_write(c);
}

void ws_on_timer(conn *c, int64_t now)
{
    srv *s = c->s;
    if (now - c->w.last_rx_ms >= (int64_t)s->o.ws_silent_ms) {
        ws_close(c, 1001, "no traffic");
        return;
    }
    if (now - c->w.last_ping_ms >= (int64_t)s->o.ws_ping_ms) {
        send_frame(c, 9, NULL, 0);
        c->w.last_ping_ms = now;
    }
}

/* Strict UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF). */
static bool utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = p[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (b >= 0xc2 && b <= 0xdf) {
            k = 1;
            cp = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
            k = 2;
            cp = b & 0x0f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            k = 3;
            cp = b & 0x07;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

static void on_control(conn *c, int op, const char *p, size_t n)
{
    if (op == 9) { /* ping: answer unless output is already backing up */
        if (c->out_bytes < 65536)
            send_frame(c, 10, p, n);
    } else if (op == 8) { /* close: echo the code, then close */
        uint16_t code = 1000;
        if (n == 1) {
            ws_close(c, 1002, "bad close frame");
            return;
        }
        if (n >= 2) {
            code = (uint16_t)(((uint8_t)p[0] << 8) | (uint8_t)p[1]);
            if (code < 1000 || code == 1004 || code == 1005 || code == 1006 ||
                (code > 1014 && code < 3000) || code >= 5000) {
                ws_close(c, 1002, "bad close code");
                return;
            }
            if (!utf8_valid((const unsigned char *)p + 2, n - 2)) {
                ws_close(c, 1007, "close reason is not UTF-8");
                return;
            }
        }
        ws_close(c, code, NULL);
    }
}

size_t ws_feed(conn *c, const char *data_in, size_t len)
{
    srv *s = c->s;
    char *data = (char *)data_in; /* the read buffers are ours: unmask in place */
    size_t off = 0;
    while (!c->closing && !c->w.close_sent) {
        size_t avail = len - off;
        if (avail < 2)
            break;
        uint8_t *h = (uint8_t *)data + off;
        bool fin = h[0] & 0x80;
        int op = h[0] & 0x0f;
        bool masked = h[1] & 0x80;
        uint64_t plen = h[1] & 0x7f;
        size_t hl = 2;
        if (plen == 126) {
            if (avail < 4)
                break;
            plen = ((uint64_t)h[2] << 8) | h[3];
            hl = 4;
        } else if (plen == 127) {
            if (avail < 10)
                break;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = (plen << 8) | h[2 + i];
            hl = 10;
            if (plen >> 63) {
                ws_close(c, 1002, "bad frame length");
                break;
            }
        }
        if (h[0] & 0x70) {
            ws_close(c, 1002, "reserved bits set");
            break;
        }
        if (!masked) {
            ws_close(c, 1002, "client frames must be masked");
            break;
        }
        bool control = op & 0x8;
        if (control) {
            if (op > 10) {
                ws_close(c, 1002, "unknown opcode");
                break;
            }
            if (!fin || plen > 125) {
                ws_close(c, 1002, "bad control frame");
                break;
            }
        } else {
            if (op > 2) {
                ws_close(c, 1002, "unknown opcode");
                break;
            }
            if (op == 0 && !c->w.msg_opcode) {
                ws_close(c, 1002, "continuation without a message");
                break;
            }
            if (op != 0 && c->w.msg_opcode) {
                ws_close(c, 1002, "new message inside a fragmented one");
                break;
            }
            if (c->w.msg.len + plen > s->o.ws_max_msg) {
                ws_close(c, 1009, "message too big");
                break;
            }
        }
        hl += 4;
        if (avail < hl + plen)
            break; /* wait for the rest of the frame */
        const uint8_t *mask = (const uint8_t *)data + off + hl - 4;
        char *pl = data + off + hl;
        for (uint64_t i = 0; i < plen; i++)
            pl[i] ^= (char)mask[i & 3];
        off += hl + (size_t)plen;
        c->w.last_rx_ms = srv_now_ms();
        if (control) {
            on_control(c, op, pl, (size_t)plen);
            continue;
        }
        const char *msg = pl;
        size_t mlen = (size_t)plen;
        int mop = op ? op : c->w.msg_opcode;
        if (!fin || c->w.msg_opcode) {
            if (codec_buf_append(&c->w.msg, pl, (size_t)plen) != 0) {
                ws_close(c, 1011, "out of memory");
                break;
            }
            if (!fin) {
                c->w.msg_opcode = mop;
                continue;
            }
            msg = c->w.msg.data;
            mlen = c->w.msg.len;
        }
        c->w.msg_opcode = 0;
        if (mop == 1 && !utf8_valid((const unsigned char *)msg, mlen)) {
            ws_close(c, 1007, "text message is not UTF-8");
            break;
        }
        s->m.ws_msgs_in++;
        ws_on_message(c, mop, msg, mlen);
        codec_buf_reset(&c->w.msg);
    }
    if (c->closing || c->w.close_sent)
        return len; /* discard the rest */
    return off;
}
