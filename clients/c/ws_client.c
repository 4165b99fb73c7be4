/*
 * ws_client.c — a WebSocket (RFC 6455) client over an acl_conn: the opening
 * handshake, masked client frames, and a strict, bounded reader of server
 * frames.
 *
 * Own framing rather than wslay: the client is blocking with deadlines, and
 * wslay's defaults (2 GiB messages, a pong queued per ping without bound)
 * are the wrong ones here. Pings are answered at once, so nothing queues. A
 * message over ACL_WS_MAX_MSG is refused from its frame header, before any
 * payload is read. A recv that times out while no frame has begun leaves
 * the connection usable; a timeout in the middle of a frame closes it, as
 * the stream can no longer be followed.
 */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "client_priv.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_FRAMES 100000 /* frames read by one acl_ws_recv call */
#define CLOSE_WAIT_MS 1000

struct acl_ws {
    acl_conn *c; /* owned */
    int proto;
    bool open;       /* handshake done, no close seen or sent */
    bool close_sent; /* our close frame went out */
    acl_ws_counters cnt;
};

static const char *proto_name(int proto)
{
    return proto == ACL_WS_MSGPACK ? "antrean.v1.msgpack" : "antrean.v1.json";
}

int acl_ws_new(const char *server, int proto, int timeout_ms, acl_ws **out, char err[ACL_ERRLEN])
{
    *out = NULL;
    if (proto != ACL_WS_JSON && proto != ACL_WS_MSGPACK) {
        if (err)
            snprintf(err, ACL_ERRLEN, "unknown WebSocket protocol %d", proto);
        return ACL_EARG;
    }
    acl_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return ACL_ENOMEM;
    int rc = acl_conn_new(server, timeout_ms, &ws->c, err);
    if (rc) {
        free(ws);
        return rc;
    }
    ws->proto = proto;
    *out = ws;
    return 0;
}

void acl_ws_free(acl_ws *ws)
{
    if (!ws)
        return;
    acl_conn_free(ws->c);
    free(ws);
}

int acl_ws_proto(const acl_ws *ws)
{
    return ws->proto;
}

bool acl_ws_is_open(const acl_ws *ws)
{
    return ws->open;
}

void acl_ws_set_timeout(acl_ws *ws, int timeout_ms)
{
    acl_conn_set_timeout(ws->c, timeout_ms);
}

const char *acl_ws_error(const acl_ws *ws)
{
    return acl_conn_error(ws->c);
}

void acl_ws_get_counters(const acl_ws *ws, acl_ws_counters *out)
{
    *out = ws->cnt;
}

void acl_ws_msg_free(acl_ws_msg *m)
{
    free(m->data);
    memset(m, 0, sizeof *m);
}

/* ---- sending ------------------------------------------------------------------ */

static int send_frame(acl_ws *ws, int opcode, const void *data, size_t len, int64_t deadline)
{
    if (ws->c->fd < 0)
        return acl_io_fail(ws->c, ACL_ECLOSED, "WebSocket is not connected");
    if (len > ACL_WS_MAX_MSG)
        return acl_io_fail(ws->c, ACL_ETOOBIG, "message of %zu bytes (cap %u)", len,
                           ACL_WS_MAX_MSG);
    uint8_t *f = malloc(14 + len);
    if (!f)
        return acl_io_fail(ws->c, ACL_ENOMEM, "out of memory");
    size_t h = 0;
    f[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        f[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        f[h++] = 0x80 | 126;
        f[h++] = (uint8_t)(len >> 8);
        f[h++] = (uint8_t)len;
    } else {
        f[h++] = 0x80 | 127;
        for (int k = 7; k >= 0; k--)
            f[h++] = (uint8_t)((uint64_t)len >> (8 * k));
    }
    uint8_t *key = f + h;
    if (getrandom(key, 4, 0) != 4) {
        free(f);
        return acl_io_fail(ws->c, ACL_EIO, "getrandom failed for a masking key");
    }
    h += 4;
    const uint8_t *d = data;
    for (size_t i = 0; i < len; i++)
        f[h + i] = d[i] ^ key[i & 3];
    int rc = acl_io_write(ws->c, f, h + len, deadline);
    free(f);
    return rc;
}

int acl_ws_send(acl_ws *ws, int type, const void *data, size_t len)
{
    if (type != ACL_WS_TEXT && type != ACL_WS_BINARY)
        return acl_io_fail(ws->c, ACL_EARG, "acl_ws_send: type must be text or binary");
    if (!ws->open)
        return acl_io_fail(ws->c, ACL_ECLOSED, "WebSocket is not open");
    return send_frame(ws, type, data, len, acl_io_deadline(ws->c->timeout_ms));
}

int acl_ws_ping(acl_ws *ws, const void *data, size_t len)
{
    if (len > 125)
        return acl_io_fail(ws->c, ACL_EARG, "a ping carries at most 125 bytes");
    if (!ws->open)
        return acl_io_fail(ws->c, ACL_ECLOSED, "WebSocket is not open");
    return send_frame(ws, 9, data, len, acl_io_deadline(ws->c->timeout_ms));
}

static void send_close(acl_ws *ws, int code, const char *reason, int64_t deadline)
{
    uint8_t p[125];
    size_t n = 0;
    if (ws->close_sent || ws->c->fd < 0)
        return;
    if (code) {
        size_t rl = reason ? strlen(reason) : 0;
        if (rl > 123)
            rl = 123;
        p[0] = (uint8_t)(code >> 8);
        p[1] = (uint8_t)code;
        if (rl)
            memcpy(p + 2, reason, rl);
        n = 2 + rl;
    }
    ws->close_sent = true;
    send_frame(ws, 8, p, n, deadline); /* best effort: the socket closes next anyway */
}

/* Fails the connection: close frame with code (0: none), socket closed, rc returned. */
static int fail_conn(acl_ws *ws, int code, int rc)
{
    if (code)
        send_close(ws, code, NULL, acl_io_deadline(200));
    ws->open = false;
    acl_io_close(ws->c);
    return rc;
}

/* ---- the opening handshake ------------------------------------------------------ */

static bool has_token(const char *v, const char *tok)
{
    size_t tl = strlen(tok);
    for (const char *p = v; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *st = p;
        while (*p && *p != ',')
            p++;
        const char *en = p;
        while (en > st && (en[-1] == ' ' || en[-1] == '\t'))
            en--;
        if ((size_t)(en - st) == tl && strncasecmp(st, tok, tl) == 0)
            return true;
    }
    return false;
}

static bool safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static int check_upgrade(acl_ws *ws, const acl_http_resp *r, const char *key)
{
    acl_conn *c = ws->c;
    if (r->status != 101) {
        char code[64], msg[160];
        if (acl_api_error(r, code, sizeof code, msg, sizeof msg))
            return acl_io_fail(c, ACL_EPROTO, "WebSocket refused by %s: %d %s: %s", c->hostport,
                               r->status, code, msg);
        return acl_io_fail(c, ACL_EPROTO, "WebSocket refused by %s: HTTP %d", c->hostport,
                           r->status);
    }
    const char *up = acl_http_header(r, "Upgrade");
    const char *conn = acl_http_header(r, "Connection");
    if (!up || strcasecmp(up, "websocket") != 0 || !conn || !has_token(conn, "upgrade"))
        return acl_io_fail(c, ACL_EPROTO, "101 without Upgrade: websocket / Connection: upgrade");
    char cat[96], want[40];
    unsigned char sha[SHA_DIGEST_LENGTH];
    snprintf(cat, sizeof cat, "%s%s", key, WS_GUID);
    SHA1((const unsigned char *)cat, strlen(cat), sha);
    acl_base64(sha, sizeof sha, want);
    const char *acc = acl_http_header(r, "Sec-WebSocket-Accept");
    if (!acc || strcmp(acc, want) != 0)
        return acl_io_fail(c, ACL_EPROTO, "bad Sec-WebSocket-Accept from %s", c->hostport);
    const char *proto = acl_http_header(r, "Sec-WebSocket-Protocol");
    if (proto && strcmp(proto, proto_name(ws->proto)) != 0)
        return acl_io_fail(c, ACL_EPROTO, "server chose subprotocol '%.60s', not %s", proto,
                           proto_name(ws->proto));
    if (!proto && ws->proto != ACL_WS_JSON)
        return acl_io_fail(c, ACL_EPROTO, "server did not accept %s", proto_name(ws->proto));
    if (acl_http_header(r, "Sec-WebSocket-Extensions"))
        return acl_io_fail(c, ACL_EPROTO, "server chose an extension nobody offered");
    return 0;
}

int acl_ws_connect(acl_ws *ws, const char *path, const char *origin)
{
    acl_conn *c = ws->c;
    ws->open = ws->close_sent = false;
    if (!path || path[0] != '/' || !safe(path) || strchr(path, ' ') || (origin && !safe(origin)))
        return acl_io_fail(c, ACL_EARG, "bad WebSocket path or origin");
    int64_t deadline = acl_io_deadline(c->timeout_ms);
    int rc = acl_io_connect(c, deadline);
    if (rc)
        return rc;
    unsigned char raw[16];
    char key[32];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return fail_conn(ws, 0, acl_io_fail(c, ACL_EIO, "getrandom failed for the key"));
    acl_base64(raw, sizeof raw, key);
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: antrean-client/1\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n%s%s%s\r\n",
                     path, c->hostport, key, proto_name(ws->proto), origin ? "Origin: " : "",
                     origin ? origin : "", origin ? "\r\n" : "");
    if (n < 0 || n >= (int)sizeof req)
        return fail_conn(ws, 0, acl_io_fail(c, ACL_EARG, "WebSocket path or origin too long"));
    rc = acl_io_write(c, req, (size_t)n, deadline);
    acl_http_resp r;
    if (rc == 0)
        rc = acl_http_read_response(c, "GET", true, deadline, &r);
    if (rc)
        return fail_conn(ws, 0, rc);
    rc = check_upgrade(ws, &r, key);
    acl_http_resp_free(&r);
    if (rc)
        return fail_conn(ws, 0, rc);
    ws->open = true;
    return 0;
}

/* ---- receiving ------------------------------------------------------------------- */

static bool close_code_ok(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

/* A close frame from the server: answered, then the socket is closed. */
static int on_close(acl_ws *ws, const uint8_t *p, size_t n, acl_ws_msg *m)
{
    int code = 1005;
    if (n == 1)
        return fail_conn(ws, 1002, acl_io_fail(ws->c, ACL_EPROTO, "close frame of 1 byte"));
    if (n >= 2) {
        code = p[0] << 8 | p[1];
        if (!close_code_ok(code) || !acl_utf8_valid(p + 2, n - 2))
            return fail_conn(ws, 1002,
                             acl_io_fail(ws->c, ACL_EPROTO, "bad close frame (code %d)", code));
    }
    size_t rl = n >= 2 ? n - 2 : 0;
    m->data = malloc(rl + 1);
    if (!m->data)
        return fail_conn(ws, 0, acl_io_fail(ws->c, ACL_ENOMEM, "out of memory"));
    if (rl)
        memcpy(m->data, p + 2, rl);
    m->data[rl] = '\0';
    m->len = rl;
    m->type = ACL_WS_CLOSE;
    m->close_code = code;
    send_close(ws, code == 1005 ? 0 : code, NULL, acl_io_deadline(200));
    ws->open = false;
    acl_io_close(ws->c);
    acl_io_fail(ws->c, ACL_ECLOSED, "server closed the WebSocket (%d)", code);
    return 0;
}

/* Reads one frame header; *len is the payload length. */
static int frame_header(acl_ws *ws, int64_t deadline, int *fin, int *op, uint64_t *len)
{
    acl_conn *c = ws->c;
    uint8_t h[8];
    int rc = acl_io_read(c, h, 2, deadline);
    if (rc)
        return rc;
    *fin = h[0] >> 7;
    *op = h[0] & 15;
    if (h[0] & 0x70)
        return acl_io_fail(c, ACL_EPROTO, "frame with RSV bits set");
    if (h[1] & 0x80)
        return acl_io_fail(c, ACL_EPROTO, "masked frame from the server");
    uint64_t n = h[1] & 127;
    if (n == 126) {
        if ((rc = acl_io_read(c, h, 2, deadline)))
            return rc;
        n = (uint64_t)h[0] << 8 | h[1];
        if (n < 126)
            return acl_io_fail(c, ACL_EPROTO, "frame length not minimally encoded");
    } else if (n == 127) {
        if ((rc = acl_io_read(c, h, 8, deadline)))
            return rc;
        n = 0;
        for (int k = 0; k < 8; k++)
            n = n << 8 | h[k];
        if (n >> 63)
            return acl_io_fail(c, ACL_EPROTO, "frame length with the top bit set");
        if (n <= 0xffff)
            return acl_io_fail(c, ACL_EPROTO, "frame length not minimally encoded");
    }
    if (*op >= 8) {
        if (*op > 10)
            return acl_io_fail(c, ACL_EPROTO, "unknown control opcode %d", *op);
        if (!*fin || n > 125)
            return acl_io_fail(c, ACL_EPROTO, "fragmented or long control frame");
    } else if (*op > 2) {
        return acl_io_fail(c, ACL_EPROTO, "unknown data opcode %d", *op);
    }
    *len = n;
    return 0;
}

/* The ws-level close code for a failure rc. */
static int code_for(int rc)
{
    return rc == ACL_EPROTO ? 1002 : rc == ACL_ETOOBIG ? 1009 : 0;
}

int acl_ws_recv(acl_ws *ws, int timeout_ms, acl_ws_msg *m)
{
    memset(m, 0, sizeof *m);
    acl_conn *c = ws->c;
    if (!ws->open)
        return acl_io_fail(c, ACL_ECLOSED, "WebSocket is not open");
    int64_t deadline = acl_io_deadline(timeout_ms);
    char *buf = NULL;
    size_t len = 0;
    int type = 0; /* of the message being reassembled, 0 when none */
    int rc = 0;
    for (int frames = 0; frames < MAX_FRAMES; frames++) {
        /* between messages, a timeout leaves the stream intact */
        if (type == 0 && c->rpos == c->rlen) {
            rc = acl_io_fill(c, deadline);
            if (rc == ACL_ETIMEOUT)
                return rc;
            if (rc)
                break;
        }
        int fin = 0, op = 0;
        uint64_t n = 0;
        if ((rc = frame_header(ws, deadline, &fin, &op, &n)))
            break;
        ws->cnt.frames_received++;
        if (op >= 8) {
            uint8_t p[125];
            if ((rc = acl_io_read(c, p, (size_t)n, deadline)))
                break;
            if (op == 8) {
                free(buf);
                return on_close(ws, p, (size_t)n, m);
            }
            if (op == 10) {
                ws->cnt.pongs_received++;
                continue;
            }
            ws->cnt.pings_received++;
            if ((rc = send_frame(ws, 10, p, (size_t)n, deadline)))
                break;
            ws->cnt.pongs_sent++;
            continue;
        }
        if ((op == 0) != (type != 0)) {
            rc = acl_io_fail(c, ACL_EPROTO,
                             op == 0 ? "continuation frame outside a message"
                                     : "new message inside a fragmented one");
            break;
        }
        if (n > ACL_WS_MAX_MSG - len) {
            rc = acl_io_fail(c, ACL_ETOOBIG, "message over %u bytes", ACL_WS_MAX_MSG);
            break;
        }
        char *nb = realloc(buf, len + (size_t)n + 1);
        if (!nb) {
            rc = acl_io_fail(c, ACL_ENOMEM, "out of memory");
            break;
        }
        buf = nb;
        if ((rc = acl_io_read(c, buf + len, (size_t)n, deadline)))
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (type == 0)
            type = op;
        if (!fin)
            continue;
        if (type == ACL_WS_TEXT && !acl_utf8_valid(buf, len)) {
            free(buf);
            return fail_conn(ws, 1007, acl_io_fail(c, ACL_EPROTO, "text message not UTF-8"));
        }
        m->type = type;
        m->data = buf;
        m->len = len;
        return 0;
    }
    free(buf);
    if (rc == 0)
        rc = acl_io_fail(c, ACL_EPROTO, "more than %d frames without a message", MAX_FRAMES);
    return fail_conn(ws, code_for(rc), rc);
}

int acl_ws_close(acl_ws *ws, int code, const char *reason)
{
    acl_conn *c = ws->c;
    if (!ws->open) {
        acl_io_close(c);
        return 0;
    }
    int64_t deadline =
        acl_io_deadline(c->timeout_ms < CLOSE_WAIT_MS ? c->timeout_ms : CLOSE_WAIT_MS);
    send_close(ws, code ? code : 1000, reason, deadline);
    /* read until the server's close (or EOF, or the deadline), discarding data */
    int rc = 0;
    for (int i = 0; i < MAX_FRAMES && c->fd >= 0; i++) {
        int left = (int)(deadline - acl_io_now_ms());
        acl_ws_msg m;
        rc = acl_ws_recv(ws, left > 0 ? left : 0, &m);
        bool done = rc != 0 || m.type == ACL_WS_CLOSE;
        acl_ws_msg_free(&m);
        if (done)
            break;
    }
    ws->open = false;
    acl_io_close(c);
    return rc == ACL_ECLOSED || rc == 0 ? 0 : rc;
}

/* ---- JSON on top ------------------------------------------------------------------- */

int acl_ws_send_json(acl_ws *ws, const json_t *v)
{
    codec_buf b;
    codec_buf_init(&b);
    int rc = ws->proto == ACL_WS_MSGPACK ? acl_json_to_msgpack(v, &b) : acl_json_to_text(v, &b);
    if (rc == 0)
        rc = acl_ws_send(ws, ws->proto == ACL_WS_MSGPACK ? ACL_WS_BINARY : ACL_WS_TEXT,
                         b.data ? b.data : "", b.len);
    else
        acl_io_fail(ws->c, rc, "cannot encode the request");
    codec_buf_free(&b);
    return rc;
}

int acl_ws_recv_json(acl_ws *ws, int timeout_ms, json_t **out)
{
    *out = NULL;
    acl_ws_msg m;
    int rc = acl_ws_recv(ws, timeout_ms, &m);
    if (rc)
        return rc;
    if (m.type == ACL_WS_CLOSE) {
        acl_io_fail(ws->c, ACL_ECLOSED, "server closed the WebSocket (%d%s%s)", m.close_code,
                    m.len ? ": " : "", m.data);
        acl_ws_msg_free(&m);
        return ACL_ECLOSED;
    }
    codec_buf b;
    codec_buf_init(&b);
    const char *text = m.data;
    size_t tlen = m.len;
    char err[ACL_ERRLEN];
    if (m.type == ACL_WS_BINARY) {
        rc = acl_msgpack_to_json(m.data, m.len, &b, err);
        if (rc)
            acl_io_fail(ws->c, rc, "%s", err);
        text = b.data;
        tlen = b.len;
    }
    if (rc == 0) {
        json_error_t je;
        *out = json_loadb(text, tlen, 0, &je);
        if (!*out)
            rc = acl_io_fail(ws->c, ACL_EPROTO, "message is not JSON: %s", je.text);
    }
    codec_buf_free(&b);
    acl_ws_msg_free(&m);
    return rc;
}
