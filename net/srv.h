/*
 * srv.h — the shape of antrean-server's network layer (DESIGN.md "net/").
 *
 * One libuv loop thread owns every connection, every hall and all encoding;
 * this header is the net module's internal surface: the server, its halls,
 * connections and the cross-file functions, grouped by the file that
 * implements them. net/ holds no domain rules: routes decode a request into
 * an engine command or a read and encode the result. Nothing here may put
 * citizen data (phone, name, NIK, priority reason, secrets) into a public
 * reply, an event for public subscribers, a log line or a metric.
 */
#ifndef NET_SRV_H
#define NET_SRV_H

#include <http_parser.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "codec.h"
#include "engine.h"
#include "json_out.h"
#include "storage.h"

#define SRV_VERSION "0.1.0"

typedef struct srv srv;
typedef struct conn conn;
typedef struct srv_hall srv_hall;
typedef struct bcast_frame bcast_frame;
typedef struct bcast_sub bcast_sub;
typedef struct auth_token auth_token;

/* ---- trusted proxies (proxy.c) ------------------------------------------- */

#define PROXY_MAX 32
typedef struct proxy_cidr {
    int family; /* 4 or 6 */
    uint8_t addr[16];
    int bits;
} proxy_cidr;

/* "10.0.0.0/8", "::1", "127.0.0.1" (a single address): 0 or ANT_EBADREQ. */
int proxy_parse_cidr(const char *text, proxy_cidr *out);
/* Set c->ip for the request just read: c->peer, or the client named by
 * X-Forwarded-For when c->peer is a trusted proxy. */
void proxy_client_ip(conn *c);

/* ---- options (main.c) --------------------------------------------------- */

typedef struct srv_opts {
    char host[64];
    int port;
    const char *data_dir;
    const char **hall_files; /* borrowed from argv */
    int nhall_files;
    bool demo;
    int durability; /* enum stor_durability */
    uint32_t max_conns;
    const char **origins; /* borrowed from argv */
    int norigins;
    uint32_t keep_days, keep_pii_days;
    uint64_t max_data_size;
    uint32_t snap_every_events, snap_every_s;
    /* limits (SPEC §9) */
    size_t max_head, max_body;
    uint32_t head_timeout_ms, idle_timeout_ms;
    size_t ws_max_msg, ws_max_out;
    uint32_t ws_ping_ms, ws_silent_ms;
    uint32_t issue_burst, issue_per_min;
    uint32_t history;          /* retained events per hall for `since` */
    uint32_t sse_heartbeat_ms; /* SSE comment line interval (SPEC §13: 15 s) */
    bool access_log;
    int log_level;                 /* enum log_level: lines below it are not written */
    proxy_cidr trusted[PROXY_MAX]; /* --trusted-proxy */
    int ntrusted;
    const char *check_config; /* --check-config FILE: validate and exit */
    const char *web_dir;      /* pages (clients/web); NULL: none */
} srv_opts;

void srv_opts_default(srv_opts *o);

/* ---- broadcast frames (bcast.c) ----------------------------------------- */

/* A complete WebSocket frame shared by every subscriber that sends it. */
struct bcast_frame {
    uint32_t refs;
    uint32_t len;
    char data[];
};

/* One produced event, encoded once per protocol, waiting for durability. */
typedef struct bcast_item {
    uint64_t seq;
    int type;        /* enum eng_ev_type */
    bcast_frame *fj; /* text frame, public JSON (owned ref) */
    bcast_frame *fm; /* binary frame, public msgpack (owned ref) */
    bcast_frame *fs; /* SSE bytes, raw (owned ref); NULL until an SSE subscriber needs it */
} bcast_item;

/* A subscription of one connection to one hall's public feed. */
struct bcast_sub {
    conn *c;
    srv_hall *hall;
    uint64_t from_seq;        /* events with seq <= from_seq were covered by the reply */
    bcast_sub *hprev, *hnext; /* hall's list */
    bcast_sub *cnext;         /* connection's list */
};

/* Build the WS frame for payload (opcode 1 text or 2 binary). NULL on ENOMEM. */
bcast_frame *bcast_frame_new(int opcode, const char *payload, size_t len);
void bcast_frame_unref(bcast_frame *f);
/* Encode a public event into both frames of it. 0 or ANT_E*. */
int bcast_encode(srv *s, const eng_event *ev, bcast_item *it);
void bcast_item_release(bcast_item *it);
/* Send the items (in seq order) to the hall's subscribers and keep them in history. */
void bcast_publish(srv *s, srv_hall *h, bcast_item *items, size_t n);
/*
 * After a restart: put a stored event back into the hall's history (events
 * oldest first, ending at the hall's seq), then call bcast_backfill_done,
 * which drops a history that does not reach the present.
 */
int bcast_backfill(srv *s, srv_hall *h, const eng_event *ev);
void bcast_backfill_done(srv_hall *h);
/*
 * Subscribe c to h and write the reply result into w: {seq, board} or, when
 * `since` is still covered by the retained history, {seq} with *replay set:
 * then call bcast_replay after the reply is queued.
 */
int bcast_subscribe(srv *s, conn *c, srv_hall *h, bool has_since, uint64_t since, jo *w,
                    bool *replay);
void bcast_replay(srv *s, conn *c, srv_hall *h, uint64_t since);
/*
 * The subscription part of bcast_subscribe, for transports that write their
 * own reply (SSE): *board when a board must start the feed, *replay when
 * bcast_replay must follow.
 */
int bcast_attach(srv *s, conn *c, srv_hall *h, bool has_since, uint64_t since, bool *board,
                 bool *replay);
/* 0, or ANT_ENOTFOUND when c was not subscribed. */
int bcast_unsubscribe(srv *s, conn *c, srv_hall *h);
void bcast_unsubscribe_all(srv *s, conn *c);
void bcast_hall_free(srv_hall *h);
int bcast_hall_init(srv *s, srv_hall *h);

/* ---- halls (halls.c) ----------------------------------------------------- */

struct srv_hall {
    eng_hall *h; /* owned */
    char id[ENG_ID_MAX + 1];
    /* broadcast */
    bcast_sub *subs;
    uint32_t nsubs;
    uint32_t nsse;    /* subscribers over SSE: SSE bytes are built only while > 0 */
    bcast_item *ring; /* owned, cap opts.history: retained history for `since` */
    uint32_t ring_cap, ring_start, ring_n;
    uint64_t bcast_seq; /* highest seq published */
    /* figures */
    uint64_t events_total;
    int64_t last_tick;
};

/* Register a hall (takes h). ANT_ENOMEM; ANT_EBADREQ when the id exists. */
int halls_add(srv *s, eng_hall *h, srv_hall **out);
srv_hall *halls_find(srv *s, const char *id);
/* Find the ticket in any hall; 0 (view and *hall filled) or ANT_ENOTFOUND. */
int halls_find_ticket(srv *s, const uint8_t tid[ENG_TID_LEN], srv_hall **hall,
                      eng_ticket_view *view);
/* Load halls: storage first, then --hall files and --demo for halls not stored yet. */
int halls_load(srv *s, char msg[256]);
/* A whole file (hall configs, at most 16 MiB): a new buffer the caller frees,
 * or NULL with errno set. */
char *halls_read_file(const char *path, size_t *len);
/* --check-config: print every problem of a hall file with its JSON path to
 * out (the API's messages); 0 when valid, 1 otherwise. */
int check_config_file(const char *path, FILE *out);
void halls_free(srv *s);
/* The demo hall config (demo_hall.c). */
extern const char demo_hall_json[];

/* ---- commands (srv_cmd.c) ----------------------------------------------- */

/* A request id as given, echoed in the reply. */
typedef struct srv_rid {
    int type; /* 0 absent, 1 int, 2 uint, 3 string (codec_request) */
    int64_t i;
    uint64_t u;
    char s[65];
} srv_rid;
/* Who asked: the reply goes to this connection in this encoding. */
typedef struct srv_origin {
    conn *c;            /* NULL: no reply (tick) */
    int kind;           /* 0 HTTP, 1 WS */
    int fmt;            /* jo format of the reply */
    int route;          /* metrics route id (HTTP) */
    const srv_rid *rid; /* WS: echoed in the reply */
} srv_origin;

/*
 * Reply builder, called right after eng_apply succeeded (rc 0) or failed;
 * writes the result object into w (only when rc == 0) and returns the HTTP
 * status of the success reply.
 */
typedef int (*srv_result_fn)(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                             void *arg);

/*
 * Apply cmd to hall h now; store its events; once durable, send the reply
 * to origin and broadcast the events. Errors are answered right away.
 */
void srv_command(srv *s, srv_hall *h, eng_cmd *cmd, const srv_origin *o, srv_result_fn fn,
                 void *arg);
/* Store + broadcast the events of evbuf (no reply): ticks and rollovers. */
void srv_emit(srv *s, srv_hall *h, eng_evbuf *evs);
/* Run fn(arg, rc) once everything stored so far is durable. */
int srv_when_durable(srv *s, stor_done_fn fn, void *arg);
/* Per-second hall work: ticks, snapshots. */
void srv_tick_all(srv *s);
/* Fill 16 random bytes from the CSPRNG; 0 or ANT_EINTERNAL. */
int srv_random(uint8_t *out, size_t n);
int64_t srv_now_ms(void);
uint64_t srv_mono_us(void);

/* ---- connections (conn.c) ----------------------------------------------- */

enum conn_proto { CONN_HTTP = 0, CONN_WS = 1, CONN_SSE = 2 };

typedef struct conn_out {
    bcast_frame *f; /* NULL: bytes in the connection's own buffer */
    size_t off, len;
} conn_out;

typedef struct http_hdr {
    uint32_t name_off, name_len, val_off, val_len;
} http_hdr;

#define HTTP_MAX_HEADERS 64

/* Per-connection HTTP request state (http.c). */
typedef struct http_state {
    http_parser p;
    codec_buf head; /* url and header bytes of the request being read */
    uint32_t url_len;
    http_hdr hdr[HTTP_MAX_HEADERS];
    int nhdr;
    bool last_was_value;
    size_t head_bytes; /* counted from the wire, for the 8 KiB limit */
    codec_buf body;
    bool in_message, headers_done, complete, in_feed;
    int err; /* ANT_E* found by a parser callback */
    uint32_t nreq;
    bool busy; /* a request is being answered (maybe asynchronously) */
    bool keep_alive;
    int64_t started_ms;
    uint64_t t0_us;
    int route;
} http_state;

/* Per-connection WebSocket state (ws.c). */
typedef struct ws_state {
    int fmt;        /* JO_JSON or JO_MSGPACK */
    codec_buf msg;  /* message being reassembled */
    int msg_opcode; /* 0: none in progress */
    bool close_sent;
    bool pong_queued;
    int64_t last_rx_ms, last_ping_ms;
    auth_token *tok; /* after auth op (ref'd by id, see auth.c) */
    char tok_id[24];
} ws_state;

struct conn {
    uv_tcp_t tcp; /* first: handle->data is the conn too */
    uv_timer_t timer;
    uv_shutdown_t shut;
    srv *s;
    uint64_t id;
    int refs; /* handles open + pending commands */
    int handles_open;
    bool closing;  /* no more input processed, nothing more sent */
    bool draining; /* output done, reading to EOF before close */
    bool close_after_write;
    int proto;     /* enum conn_proto */
    char peer[48]; /* the TCP peer */
    char ip[48];   /* the client of the current request (proxy.c); rate limits only */
    int64_t accepted_ms, last_io_ms, close_at_ms;
    /* input */
    char *in; /* owned; unparsed input */
    size_t in_len, in_cap;
    bool reading;
    /* output: items to write; own bytes double-buffered */
    codec_buf ob[2];
    int ob_cur; /* buffer items are appended to */
    conn_out *q;
    size_t qn, qcap;
    conn_out *fly; /* items of the write in flight (owned array) */
    size_t flyn, flycap;
    uv_buf_t *bufs;
    size_t bufcap;
    uv_write_t wr;
    bool writing;
    size_t out_bytes; /* queued + in flight */
    bool dirty;
    conn *dirty_next;
    conn *prev, *next; /* all connections */
    /* protocol state */
    http_state h;
    ws_state w;
    bcast_sub *subs;
    int64_t sse_last_hb_ms; /* SSE: last heartbeat comment */
};

int conn_listen(srv *s, char msg[256]);
void conn_stop_listening(srv *s);
/* Queue own bytes (copied). */
void conn_write(conn *c, const void *p, size_t n);
/* Queue a shared frame (takes a ref). */
void conn_write_frame(conn *c, bcast_frame *f);
/* Start of an own-bytes item written in pieces: returns the buffer to append to. */
codec_buf *conn_begin(conn *c, size_t *mark);
void conn_commit(conn *c, size_t mark);
/* Close after what is queued has been written. */
void conn_close_after_write(conn *c);
/* Forget queued output not yet handed to the kernel (a dropped subscriber). */
void conn_drop_queued(conn *c);
void conn_close(conn *c);
void conn_ref(conn *c);
void conn_unref(conn *c);
/* Write everything queued this loop turn (uv_check). */
void conn_flush_all(srv *s);
/* Re-arm the connection's timer for its current state. */
void conn_arm_timer(conn *c);
/* Continue processing buffered input (after an asynchronous reply). */
void conn_resume_input(conn *c);
void conn_close_all(srv *s, bool ws_going_away);

/* ---- HTTP (http.c) ------------------------------------------------------- */

void http_conn_init(conn *c);
void http_conn_free(conn *c);
/* Feed input; returns bytes consumed (the rest stays buffered). */
size_t http_feed(conn *c, const char *data, size_t len);
/* A header of the current request, or NULL; *n its length. */
const char *http_header(conn *c, const char *name, size_t *n);
/* Start a response: status line and common headers; returns the buffer to finish. */
void http_respond(conn *c, int status, const char *ctype, const char *extra_headers,
                  const char *body, size_t blen);
void http_respond_error(conn *c, int rc, const char *msg);
/* Same, with a Retry-After of retry_after seconds on 429/503 (0: 1 s). */
void http_respond_error_ra(conn *c, int rc, const char *msg, uint32_t retry_after);
/* The request was answered (sync or async): continue with the next one. */
void http_done(conn *c);

/* ---- routes (route.c, routes_*.c) ---------------------------------------- */

enum route_id {
    RT_NONE = 0,
    RT_HEALTH,
    RT_HALLS,
    RT_HALL,
    RT_BOARD,
    RT_WAIT,
    RT_ISSUE,
    RT_TICKET,
    RT_TICKET_CANCEL,
    RT_FEEDBACK,
    RT_COUNTER,
    RT_REINSTATE,
    RT_TICKETS,
    RT_STATS,
    RT_HALL_PUT,
    RT_HALL_POST,
    RT_TOKENS,
    RT_WS,
    RT_METRICS,
    RT_PAGE,
    RT_QR,
    RT_BACKUP,
    RT_SLOTS,
    RT_BOOK,
    RT_APPTS,
    RT_APPT,
    RT_CHECKIN,
    RT_EVENTS,
    RT_REPORT,
    RT__COUNT
};
extern const char *const route_names[RT__COUNT];

/* Dispatch the complete request in c->h (route.c). */
void route_dispatch(conn *c);
/* Board object (SPEC §4) into w (routes_public.c). */
void route_write_board(srv *s, srv_hall *h, jo *w);
/* Statistics object of a day into w (routes_staff.c). */
void route_write_stats(srv_hall *h, const eng_day_stats *st, jo *w);
/* Result objects of commands, shared by HTTP and WebSocket (srv_result_fn). */
/* routes_appt.c: WS ops book, checkin, appointment_cancel; tok: the connection's or NULL */
void ws_appt_command(conn *c, codec_request *req, const srv_rid *rid, auth_token *tok);
int route_issue_result(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                       void *arg);
int route_counter_result(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                         void *arg);
int route_ticket_result(srv *s, srv_hall *h, const eng_cmd *cmd, const eng_result *res, jo *w,
                        void *arg);

/* ---- WebSocket (ws.c, ws_ops.c) ----------------------------------------- */

/* The request is an upgrade to /v1/ws: answer the handshake or an error. */
void ws_handshake(conn *c);
size_t ws_feed(conn *c, const char *data, size_t len);
/* Send a close frame with code and reason, then close. */
void ws_close(conn *c, uint16_t code, const char *reason);
void ws_send(conn *c, int opcode, const char *p, size_t n);
/* Drop the connection with 1008 (and count it) when its unsent output passes ws_max_out. */
void ws_check_backlog(conn *c);
/* Timer: ping / silence. */
void ws_on_timer(conn *c, int64_t now);
void ws_conn_free(conn *c);
/* One complete message (ws_ops.c). */
void ws_on_message(conn *c, int opcode, const char *p, size_t n);

void ws_rid_of(const codec_request *r, srv_rid *out);
/* {"rid", "ok": true, "result": — the caller writes the result and closes the object. */
void ws_begin_result(jo *w, const srv_rid *rid);
/* Send the message in b in the connection's format. */
void ws_send_msg(conn *c, const codec_buf *b);
/* Send {"rid","ok":false,"error":{code,message}}. */
void ws_reply_error(conn *c, const srv_rid *rid, int rc, const char *msg);

/* ---- Server-Sent Events (sse.c) ----------------------------------------- */

/* The SSE bytes of an item (refs 1, caller owns), built from its JSON frame; NULL on ENOMEM. */
bcast_frame *sse_frame_of(srv *s, const bcast_item *it);
/* Drop the stream (and count it) when its unsent output passes ws_max_out. */
void sse_check_backlog(conn *c);
/* Timer: heartbeat comment. */
void sse_on_timer(conn *c, int64_t now);

/* ---- auth (auth.c) -------------------------------------------------------- */

enum auth_role { AUTH_DISPLAY = 0, AUTH_KIOSK, AUTH_OPERATOR, AUTH_MANAGER, AUTH_ADMIN };
enum auth_perm {
    PERM_ISSUE = 0, /* kiosk, operator, manager, admin */
    PERM_COUNTER,   /* operator+ */
    PERM_PII,       /* manager+ */
    PERM_STATS,     /* manager+ */
    PERM_ADMIN,     /* admin */
};

struct auth_token {
    char id[24];
    uint8_t hash[32]; /* SHA-256 of the token text */
    int role;
    bool all_halls;
    int nhalls;
    char (*halls)[ENG_ID_MAX + 1]; /* owned */
    char label[65];
    int64_t created;
    auth_token *next;
};

const char *auth_role_name(int role);
int auth_role_from_name(const char *s);
int auth_init(srv *s, char msg[256]);
void auth_free(srv *s);
/* Token from the text (Bearer value); NULL when unknown. */
auth_token *auth_lookup(srv *s, const char *text, size_t n);
/* 0, ANT_EUNAUTH (no token), ANT_EFORBIDDEN (role or hall). hall may be NULL (global). */
int auth_check(const auth_token *t, int perm, const char *hall);
/* Create a token (stored hashed); its text, shown once, goes to token_out; *out borrowed. */
int auth_create(srv *s, int role, json_t *halls, const char *label, const char *fixed_id,
                char *token_out, size_t token_sz, auth_token **out);
int auth_delete(srv *s, const char *id);
/* List form {"id","role","halls","label","created"}; with secret, the create reply
 * {"id","token","role","halls","label"} (SPEC §4), the only time it is shown. */
void auth_write(const auth_token *t, const char *secret, jo *w);
/* The token of the request's Authorization header (NULL when absent or unknown). */
auth_token *auth_of_request(conn *c, bool *present);

/* ---- rate limit (ratelimit.c) -------------------------------------------- */

typedef struct rl_table rl_table;
rl_table *rl_new(uint32_t burst, uint32_t per_min);
void rl_free(rl_table *t);
/* 0 when allowed, else the seconds to wait (Retry-After). */
uint32_t rl_take(rl_table *t, const char *ip, int64_t now_ms);

/* ---- metrics (metrics.c) -------------------------------------------------- */

#define MET_LAT_BUCKETS 12
typedef struct srv_metrics {
    uint64_t req_status[RT__COUNT][18]; /* by route and status (index: see metrics.c) */
    uint64_t cmd_lat[MET_LAT_BUCKETS + 1];
    uint64_t cmd_lat_sum_us, cmd_count;
    uint64_t conns_total, conns_rejected;
    uint64_t ws_dropped_slow, ws_msgs_in, ws_closed_proto;
    uint64_t rate_limited;
    uint64_t sse_total, sse_dropped_slow;
} srv_metrics;

void metrics_request(srv *s, int route, int status);
void metrics_cmd_latency(srv *s, uint64_t us);
void metrics_write(srv *s, codec_buf *out);

/* ---- log (log.c) --------------------------------------------------------- */

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };
/* "debug", "info", "warn", "error" -> enum log_level, or -1. */
int log_level_from_name(const char *name);
/* Lines below level are dropped from then on (main.c, once, before the loop). */
void log_set_level(int level);
/* logfmt line on stderr: level, msg, then key=value pairs (values quoted as needed). */
void log_line(const char *level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_access(srv *s, conn *c, int method, int route, int status, uint64_t us);
void log_flush(void);

/* ---- the server ----------------------------------------------------------- */

struct srv {
    srv_opts o;
    uv_loop_t *loop;
    uv_tcp_t listener;
    bool listening;
    uv_check_t check;
    uv_idle_t idle; /* see conn.c mark_dirty */
    bool idle_init, idle_on;
    uv_timer_t tick;
    uv_signal_t sigterm, sigint;
    bool stopping;
    stor *st;
    bool broken; /* a commit failed after apply: refuse writes */
    /* halls */
    srv_hall **halls;
    size_t nhalls, hcap;
    /* connections */
    conn *conns;
    uint32_t nconns, nws, nsubs, nsse;
    uint64_t next_conn_id;
    conn *dirty;
    char rbuf[65536]; /* shared read buffer when a connection has nothing buffered */
    bool rbuf_busy;
    /* scratch */
    eng_evbuf evs;
    codec_buf scratch, scratch2;
    codec_request req; /* the WebSocket request being handled */
    /* auth */
    auth_token *tokens;
    rl_table *rl;
    srv_metrics m;
    uint32_t pending_cmds;
    int64_t last_retention_ms; /* stor_retention_run: at start, then daily */
    int exit_code;
};

#endif
