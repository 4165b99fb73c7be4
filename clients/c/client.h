/*
 * client.h — the antrean client library (acl_): HTTP/1.1 and WebSocket
 * (RFC 6455) over blocking TCP, JSON and msgpack. Used by antrean-cli and
 * antrean-bench; the whole public surface of clients/c is this header.
 *
 * It never trusts the server: every length the server sends is checked
 * against a cap before anything is allocated or read, every wait is bounded
 * by a deadline (poll), and every loop is bounded in count. Writes use
 * MSG_NOSIGNAL, so a peer that went away never raises SIGPIPE.
 *
 * No global state. One acl_conn / acl_ws is used by one thread at a time;
 * different objects may be used from different threads.
 *
 * Errors: functions return 0 or a negative ACL_E* code (below; a range of its
 * own, apart from the server's ANT_E* codes). The object's last failure is
 * described in words by acl_conn_error() / acl_ws_error().
 *
 * Timeouts: timeout_ms bounds one whole operation — a connect, one HTTP
 * request with its complete response, one WebSocket handshake, one
 * acl_ws_recv call — not each read.
 */
#ifndef ACL_CLIENT_H
#define ACL_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h" /* codec_buf */

enum {
    ACL_OK = 0,
    ACL_EARG = -101,     /* a bad argument from the caller (address, path, size) */
    ACL_ENOMEM = -102,   /* out of memory */
    ACL_ECONNECT = -103, /* could not connect: refused, unreachable, unknown name, timeout */
    ACL_ETIMEOUT = -104, /* the deadline passed while waiting for the server */
    ACL_ECLOSED = -105,  /* the server closed the connection before a complete message */
    ACL_EPROTO = -106,   /* the server broke HTTP or WebSocket rules */
    ACL_ETOOBIG = -107,  /* a length over one of the caps below */
    ACL_EIO = -108,      /* any other socket error (reset, ...) */
};

/* A short constant name for rc ("timeout", "protocol error", ...). Static storage. */
const char *acl_strerror(int rc);

#define ACL_ERRLEN 256                   /* error message buffers */
#define ACL_DEFAULT_PORT "8080"          /* when the server address has no port */
#define ACL_MAX_HEAD (16 * 1024)         /* response head (status line + headers) */
#define ACL_MAX_HEADERS 64               /* response header lines */
#define ACL_DEFAULT_MAX_BODY (16u << 20) /* response body; see acl_conn_set_max_body */
#define ACL_WS_MAX_MSG (1u << 20)        /* a WebSocket message, in or out */

/* ---- addresses and paths (url.c) -------------------------------------- */

typedef struct acl_addr {
    char host[256]; /* name or address; an IPv6 literal without brackets */
    char port[8];   /* decimal, 1..65535 */
} acl_addr;

/*
 * Parses "host:port", "[v6addr]:port", "host" or "[v6addr]" (port 8080); an
 * optional "http://" or "ws://" prefix and one trailing '/' are accepted.
 * Returns 0 or ACL_EARG with err (caller-owned, ACL_ERRLEN bytes) set.
 */
int acl_addr_parse(const char *server, acl_addr *out, char err[ACL_ERRLEN]);

/*
 * Formats a request target into out (caller-owned, cap bytes, NUL-ended).
 * fmt is literal text with "%s" for arguments (const char *) and "%%" for
 * '%'; every argument is percent-encoded (all but ALPHA DIGIT - . _ ~), so a
 * hall id or a token id can never add a path segment or a query field.
 * Empty, NULL, "." and ".." arguments in the path part (before '?') are
 * refused. Example: acl_path(buf, sizeof buf, "/v1/halls/%s/stats?date=%s",
 * 2, hall, date). nargs must equal the number of %s. Returns 0, ACL_EARG or
 * ACL_ETOOBIG.
 */
int acl_path(char *out, size_t cap, const char *fmt, int nargs, ...);

/* ---- connections (conn.c) --------------------------------------------- */

typedef struct acl_conn acl_conn;

/*
 * A connection to server (see acl_addr_parse). No I/O: HTTP requests connect
 * on demand and reconnect when a keep-alive connection was closed. On success
 * *out is owned by the caller (acl_conn_free). On failure returns ACL_EARG
 * (err set) or ACL_ENOMEM, and *out is NULL.
 */
int acl_conn_new(const char *server, int timeout_ms, acl_conn **out, char err[ACL_ERRLEN]);
void acl_conn_free(acl_conn *c);   /* closes the socket; NULL is fine */
int acl_conn_connect(acl_conn *c); /* connects now if not connected */
void acl_conn_close(acl_conn *c);  /* closes the socket; c stays usable */
bool acl_conn_is_open(const acl_conn *c);
void acl_conn_set_timeout(acl_conn *c, int timeout_ms);
void acl_conn_set_max_body(acl_conn *c, size_t max); /* default ACL_DEFAULT_MAX_BODY */
/* The last failure in words; points into c, valid until the next call on c. */
const char *acl_conn_error(const acl_conn *c);
/* The server as given (after parsing). Points into c. */
const acl_addr *acl_conn_addr(const acl_conn *c);
/* How many TCP connections c has made (tests: keep-alive reuse). */
unsigned acl_conn_connects(const acl_conn *c);

/* ---- HTTP/1.1 (http_client.c) ----------------------------------------- */

typedef struct acl_header {
    const char *name, *value;
} acl_header;

/* A request. Every pointer is borrowed for the duration of the call. */
typedef struct acl_http_req {
    const char *method;        /* "GET", "POST", ... */
    const char *target;        /* "/v1/..." (see acl_path) */
    const char *bearer;        /* NULL, or a token: Authorization: Bearer TOKEN */
    const char *ticket_secret; /* NULL, or X-Ticket-Secret */
    const char *if_none_match; /* NULL, or If-None-Match */
    const char *content_type;  /* NULL: application/json when there is a body */
    const acl_header *headers; /* extra headers, nheaders of them */
    size_t nheaders;
    const void *body; /* NULL or body_len bytes; sent with Content-Length */
    size_t body_len;
} acl_http_req;

/*
 * A response. Everything it points to is owned by it: free with
 * acl_http_resp_free (which leaves it zeroed, so freeing twice is fine).
 */
typedef struct acl_http_resp {
    int status;
    int minor_version;        /* HTTP/1.x */
    bool keep_alive;          /* the connection stays open after this response */
    const char *etag;         /* ETag or NULL; points into the header block */
    const char *content_type; /* Content-Type or NULL */
    long retry_after;         /* Retry-After in seconds, -1 when absent or not a number */
    acl_header *headers;      /* every header line, in order, nheaders of them */
    size_t nheaders;
    char *body; /* malloc'ed, NUL-terminated (not counted in body_len); never NULL after success */
    size_t body_len;
    char *head_; /* storage behind headers; private */
} acl_http_resp;

/*
 * Sends req on c (connecting if needed) and reads the complete response into
 * *resp (which need not be initialised; on failure it is left empty). Handles
 * Content-Length, chunked and read-until-close bodies, skips 1xx interim
 * responses and keeps the connection for the next request when both sides
 * allow. An idempotent request (GET, HEAD, PUT, DELETE) that fails on a
 * reused connection before any byte of the response arrived is retried once
 * on a new connection. Caps: ACL_MAX_HEAD, ACL_MAX_HEADERS, max_body.
 * Returns 0 (whatever the status) or ACL_E*; after a failure the socket is
 * closed.
 */
int acl_http_request(acl_conn *c, const acl_http_req *req, acl_http_resp *resp);
void acl_http_resp_free(acl_http_resp *resp);
/* The value of the first header named name (case-insensitive), or NULL. Points into resp. */
const char *acl_http_header(const acl_http_resp *resp, const char *name);

/*
 * When resp's body is the API's error shape {"error":{"code","message"}},
 * copies them into code and msg (caller-owned, NUL-terminated, truncated to
 * fit) and returns true; otherwise returns false and leaves both empty.
 */
bool acl_api_error(const acl_http_resp *resp, char *code, size_t code_cap, char *msg,
                   size_t msg_cap);

/* ---- WebSocket (ws_client.c) ------------------------------------------ */

enum acl_ws_proto {
    ACL_WS_JSON = 0,    /* antrean.v1.json: text frames */
    ACL_WS_MSGPACK = 1, /* antrean.v1.msgpack: binary frames */
};

/* Message types: the RFC 6455 opcodes. */
enum acl_ws_type {
    ACL_WS_TEXT = 1,
    ACL_WS_BINARY = 2,
    ACL_WS_CLOSE = 8,
};

typedef struct acl_ws acl_ws;

/*
 * A WebSocket client for server (see acl_addr_parse) speaking proto. No I/O.
 * On success *out is owned by the caller (acl_ws_free). On failure returns
 * ACL_EARG (err set) or ACL_ENOMEM, and *out is NULL.
 */
int acl_ws_new(const char *server, int proto, int timeout_ms, acl_ws **out, char err[ACL_ERRLEN]);
void acl_ws_free(acl_ws *ws); /* closes the socket without a close handshake; NULL is fine */

/*
 * Connects (dropping any earlier connection) and performs the handshake on
 * path ("/v1/ws"). origin may be NULL. Checks the status (101), Upgrade,
 * Connection, Sec-WebSocket-Accept against the key sent, and the subprotocol
 * (absent is accepted only for JSON, which is the server's default). A
 * non-101 answer gives ACL_EPROTO with the status and the API error, if any,
 * in acl_ws_error. Returns 0 or ACL_E*.
 */
int acl_ws_connect(acl_ws *ws, const char *path, const char *origin);

/* A received message. data is malloc'ed, NUL-terminated (not counted), owned by the caller. */
typedef struct acl_ws_msg {
    int type;       /* ACL_WS_TEXT, ACL_WS_BINARY or ACL_WS_CLOSE */
    char *data;     /* payload; for CLOSE the reason text */
    size_t len;     /* ≤ ACL_WS_MAX_MSG */
    int close_code; /* CLOSE: the code, 1005 when the frame had none */
} acl_ws_msg;
void acl_ws_msg_free(acl_ws_msg *m); /* frees data and zeroes m */

/*
 * Waits up to timeout_ms for the next data message (fragments reassembled,
 * text checked to be UTF-8) or the server's close. Pings are answered with
 * pongs and pongs are counted on the way; neither is returned. A close is
 * answered and returned once as ACL_WS_CLOSE; later calls give ACL_ECLOSED.
 * A framing violation sends close 1002, a message over ACL_WS_MAX_MSG close
 * 1009 (before its payload is read); both close the socket. Returns 0 with
 * *m filled (caller frees), or ACL_E* with *m empty.
 */
int acl_ws_recv(acl_ws *ws, int timeout_ms, acl_ws_msg *m);

/* Sends one masked frame: ACL_WS_TEXT or ACL_WS_BINARY, len ≤ ACL_WS_MAX_MSG. Borrowed data. */
int acl_ws_send(acl_ws *ws, int type, const void *data, size_t len);
int acl_ws_ping(acl_ws *ws, const void *data, size_t len); /* len ≤ 125 */

/*
 * Sends a close frame (code 1000 when 0; reason may be NULL, ≤ 123 bytes),
 * waits up to the timeout for the server's close, discarding data, then
 * closes the socket. Returns 0 or ACL_E* (the socket is closed either way).
 */
int acl_ws_close(acl_ws *ws, int code, const char *reason);

int acl_ws_proto(const acl_ws *ws);
bool acl_ws_is_open(const acl_ws *ws);
void acl_ws_set_timeout(acl_ws *ws, int timeout_ms);
const char *acl_ws_error(const acl_ws *ws); /* points into ws */

typedef struct acl_ws_counters {
    unsigned long pings_received, pongs_sent, pongs_received, frames_received;
} acl_ws_counters;
void acl_ws_get_counters(const acl_ws *ws, acl_ws_counters *out);

/*
 * Sends v (a JSON object, borrowed) as one request in ws's encoding: JSON
 * text in a text frame, or msgpack in a binary frame.
 */
int acl_ws_send_json(acl_ws *ws, const json_t *v);

/*
 * acl_ws_recv, then decodes the data message (JSON text, or msgpack via
 * acl_msgpack_to_json) into *out (a new reference the caller owns and
 * json_decref's). A close gives ACL_ECLOSED (after answering it); a message
 * that does not decode gives ACL_EPROTO.
 */
int acl_ws_recv_json(acl_ws *ws, int timeout_ms, json_t **out);

/* ---- JSON and msgpack (wire.c) ---------------------------------------- */

/*
 * Appends v (borrowed) as msgpack to out (caller-owned): objects → maps,
 * arrays, strings, integers, reals (float64), true/false/null. Nesting is
 * capped at 32. Returns 0, ACL_EARG (too deep) or ACL_ENOMEM.
 */
int acl_json_to_msgpack(const json_t *v, codec_buf *out);

/* Appends v (borrowed) as compact JSON text to out. Returns 0 or ACL_ENOMEM. */
int acl_json_to_text(const json_t *v, codec_buf *out);

/*
 * Appends the one msgpack value in p[0..len) as JSON text to out
 * (caller-owned), followed by a NUL that out->len does not count. Bounded:
 * every length and count is checked against the bytes that remain, nesting
 * is capped at 32, trailing bytes are an error. Map keys must be strings or
 * integers (written as strings); bin becomes a base64 string; ext, invalid
 * UTF-8 and non-finite floats are refused. Returns 0, ACL_EPROTO or
 * ACL_ENOMEM with err (caller-owned, may be NULL) set; on failure out->len
 * is restored.
 */
int acl_msgpack_to_json(const void *p, size_t len, codec_buf *out, char err[ACL_ERRLEN]);

/* True when p[0..n) is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
bool acl_utf8_valid(const void *p, size_t n);

#endif /* ACL_CLIENT_H */
