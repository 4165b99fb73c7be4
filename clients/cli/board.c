/*
 * board.c — `antrean-cli board HALL`: a live board in the terminal.
 *
 * Subscribes over WebSocket (msgpack), keeps the board of SPEC §4 and
 * applies each event to it, and redraws at most five times a second. After
 * a disconnect it reconnects with backoff and resubscribes with `since`, so
 * the server replays what was missed (or sends a fresh board with
 * "resync"). A gap in seq resubscribes the same way; hall.config and
 * day.rollover, which change the board's shape, resubscribe without
 * `since` for a whole new board. --json prints every message as one JSON
 * line instead; --once prints GET /board once.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define NOW_CALLING 10
#define SILENT_MS 90000 /* the server pings every 30 s: this much silence means it is gone */
#define REDRAW_MS 200
#define BACKOFF_MAX_MS 10000
#define RID_AUTH 1
#define RID_SUB 2

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct board_state {
    json_t *board; /* owned; NULL until the first subscribe reply */
    long long seq; /* last seq applied; -1 for none */
    bool subscribed;
    bool dirty;
    char status[200];
} board_state;

/* ---- rendering -------------------------------------------------------------------------- */

void cli_board_render(const json_t *b, const char *status)
{
    char t[16], eta[32], old[32];
    long long now_ms = (long long)time(NULL) * 1000;
    printf("antrean board  %s   seq %lld   %s%s%s\n\n", cli_str(b, "hall"), cli_int(b, "seq", 0),
           cli_clock(now_ms, t), status ? "   " : "", status ? status : "");
    printf("NOW CALLING\n");
    const json_t *calls = json_object_get(b, "now_calling");
    size_t i;
    json_t *v;
    json_array_foreach(calls, i, v)
    {
        const char *label = cli_str(v, "label");
        printf("  %-7s -> %-20s %-12s %s\n", cli_str(v, "code"),
               label[0] ? label : cli_str(v, "counter"), cli_str(v, "service"),
               cli_clock(cli_int(v, "at", 0), t));
    }
    if (json_array_size(calls) == 0)
        printf("  (nobody called yet)\n");
    printf("\n%-36s %7s %8s %8s\n", "SERVICES", "WAITING", "ETA", "OLDEST");
    json_array_foreach(json_object_get(b, "services"), i, v)
    {
        printf("  %-12s %-21.21s %7lld %8s %8s\n", cli_str(v, "id"), cli_str(v, "name"),
               cli_int(v, "waiting", 0), cli_dur(cli_int(v, "eta_s", -1), eta),
               cli_dur(cli_int(v, "oldest_wait_s", -1), old));
    }
    printf("\nCOUNTERS\n");
    json_array_foreach(json_object_get(b, "counters"), i, v)
    {
        const char *tk = cli_str(v, "ticket");
        printf("  %-8s %-20s %-7s %s\n", cli_str(v, "id"), cli_str(v, "label"), cli_str(v, "state"),
               tk[0] ? tk : "-");
    }
    fflush(stdout);
}

static void redraw(board_state *st, bool tty)
{
    if (!st->board)
        return;
    if (tty)
        fputs("\033[H\033[2J", stdout);
    else
        fputs("----\n", stdout);
    cli_board_render(st->board, st->status);
    st->dirty = false;
}

/* ---- applying events ------------------------------------------------------------------- */

static json_t *find_id(json_t *list, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (strcmp(cli_str(v, "id"), id) == 0) return v;
    return NULL;
}

static void adjust_waiting(board_state *st, const char *service, int delta)
{
    json_t *s = find_id(json_object_get(st->board, "services"), service);
    long long w = cli_int(s, "waiting", 0) + delta;
    if (s)
        json_object_set_new(s, "waiting", json_integer(w < 0 ? 0 : w));
}

static void set_counter_ticket(board_state *st, const char *counter, const char *code)
{
    json_t *c = find_id(json_object_get(st->board, "counters"), counter);
    if (c)
        json_object_set_new(c, "ticket", code ? json_string(code) : json_null());
}

static void push_call(board_state *st, const json_t *ev)
{
    json_t *calls = json_object_get(st->board, "now_calling");
    if (!json_is_array(calls))
        return;
    const char *counter = cli_str(ev, "counter");
    json_t *c = find_id(json_object_get(st->board, "counters"), counter);
    const char *label = c ? cli_str(c, "label") : counter;
    json_array_insert_new(calls, 0,
                          json_pack("{ss ss ss ss sI}", "code", cli_str(ev, "code"), "service",
                                    cli_str(ev, "service"), "counter", counter, "label", label,
                                    "at", (json_int_t)cli_int(ev, "at", 0)));
    while (json_array_size(calls) > NOW_CALLING)
        json_array_remove(calls, json_array_size(calls) - 1);
}

static void apply_wait(board_state *st, const json_t *ev)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(ev, "services"), i, w)
    {
        json_t *s = find_id(json_object_get(st->board, "services"), cli_str(w, "id"));
        if (!s)
            continue;
        json_object_set(s, "waiting", json_object_get(w, "waiting"));
        json_object_set(s, "eta_s", json_object_get(w, "eta_s"));
        json_object_set(s, "oldest_wait_s", json_object_get(w, "oldest_wait_s"));
    }
}

/* Applies one event; false when the board must be fetched whole again. */
static bool apply_event(board_state *st, const json_t *ev)
{
    const char *name = cli_str(ev, "ev");
    const char *code = cli_str(ev, "code"), *svc = cli_str(ev, "service");
    const char *counter = cli_str(ev, "counter");
    if (!strcmp(name, "hall.config") || !strcmp(name, "day.rollover"))
        return false;
    if (!strcmp(name, "ticket.issued") || !strcmp(name, "ticket.reinstated") ||
        !strcmp(name, "ticket.transferred")) {
        adjust_waiting(st, svc, +1);
        if (!strcmp(name, "ticket.transferred") && counter[0])
            set_counter_ticket(st, counter, NULL);
    } else if (!strcmp(name, "ticket.cancelled")) {
        adjust_waiting(st, svc, -1);
    } else if (!strcmp(name, "ticket.called")) {
        adjust_waiting(st, svc, -1);
        push_call(st, ev);
        set_counter_ticket(st, counter, code);
    } else if (!strcmp(name, "ticket.recalled")) {
        push_call(st, ev);
    } else if (!strcmp(name, "ticket.serving")) {
        set_counter_ticket(st, counter, code);
    } else if (!strcmp(name, "ticket.done") || !strcmp(name, "ticket.no_show")) {
        set_counter_ticket(st, counter, NULL);
    } else if (!strcmp(name, "counter.state")) {
        json_t *c = find_id(json_object_get(st->board, "counters"), counter);
        if (c)
            json_object_set_new(c, "state", json_string(cli_str(ev, "state")));
    } else if (!strcmp(name, "service.wait")) {
        apply_wait(st, ev);
    }
    json_object_set_new(st->board, "seq", json_integer(cli_int(ev, "seq", 0)));
    return true;
}

/* ---- one session ----------------------------------------------------------------------- */

enum session_end { END_RECONNECT, END_RESYNC, END_STOP, END_FATAL };

/* A reply to one of our requests: 0 fine, CLI_EFAIL when the server refused. */
static int on_reply(board_state *st, const json_t *m)
{
    long long rid = cli_int(m, "rid", -1);
    if (!json_is_true(json_object_get(m, "ok"))) {
        const json_t *e = json_object_get(m, "error");
        return cli_fail("%s: %s", cli_str(e, "code"), cli_str(e, "message"));
    }
    if (rid != RID_SUB)
        return 0;
    const json_t *r = json_object_get(m, "result");
    json_t *b = json_object_get(r, "board");
    /* A reply with a board is a fresh start at its seq. Without one (a
     * `since` resume) the missed events follow, so keep our own seq: the
     * reply's seq is the hall's latest, and taking it would drop them. */
    if (json_is_object(b)) {
        json_decref(st->board);
        st->board = json_incref(b);
        st->seq = cli_int(r, "seq", st->seq);
    }
    st->subscribed = true;
    st->dirty = true;
    return 0;
}

static bool send_req(acl_ws *ws, json_t *req)
{
    int rc = acl_ws_send_json(ws, req);
    json_decref(req);
    return rc == 0;
}

static int session(cli_ctx *x, acl_ws *ws, const char *hall, board_state *st, long long end_ms,
                   bool tty, int *exit_code)
{
    if (x->token &&
        !send_req(ws, json_pack("{ss si ss}", "op", "auth", "rid", RID_AUTH, "token", x->token)))
        return END_RECONNECT;
    json_t *sub = json_pack("{ss si ss}", "op", "subscribe", "rid", RID_SUB, "hall", hall);
    if (st->seq >= 0 && st->board)
        json_object_set_new(sub, "since", json_integer(st->seq));
    if (!send_req(ws, sub))
        return END_RECONNECT;
    long long heard = now_ms();
    long long last_draw = 0;
    for (;;) {
        long long now = now_ms();
        if (stop_flag || (end_ms && now >= end_ms))
            return END_STOP;
        if (now - heard > SILENT_MS) {
            snprintf(st->status, sizeof st->status, "server silent; reconnecting");
            return END_RECONNECT;
        }
        if (!x->json && st->dirty && now - last_draw >= REDRAW_MS) {
            redraw(st, tty);
            last_draw = now;
        } else if (!x->json && tty && now - last_draw >= 1000) {
            redraw(st, tty); /* the clock */
            last_draw = now;
        }
        int wait = st->dirty ? REDRAW_MS : 1000;
        if (end_ms && end_ms - now < wait)
            wait = (int)(end_ms - now);
        json_t *m = NULL;
        int rc = acl_ws_recv_json(ws, wait > 0 ? wait : 0, &m);
        if (rc == ACL_ETIMEOUT)
            continue;
        if (rc) {
            snprintf(st->status, sizeof st->status, "disconnected: %s", acl_ws_error(ws));
            return END_RECONNECT;
        }
        heard = now_ms();
        if (x->json) {
            json_dumpf(m, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            fflush(stdout);
        }
        int result = -1;
        if (json_object_get(m, "rid")) {
            if (on_reply(st, m) != 0) {
                *exit_code = CLI_EFAIL;
                result = END_FATAL;
            } else {
                snprintf(st->status, sizeof st->status, "live");
            }
        } else if (json_object_get(m, "ev") && st->subscribed && st->board) {
            long long seq = cli_int(m, "seq", -1);
            if (seq > st->seq + 1) {
                snprintf(st->status, sizeof st->status, "missed events; resubscribing");
                result = END_RECONNECT;
            } else if (seq == st->seq + 1) {
                st->seq = seq;
                st->dirty = true;
                if (!apply_event(st, m))
                    result = END_RESYNC;
            }
        }
        json_decref(m);
        if (result >= 0)
            return result;
    }
}

/* ---- the command ----------------------------------------------------------------------- */

/* Sleeps ms in short steps so that a signal or the end of --for cuts it short. */
static void nap(long long ms, long long end_ms)
{
    long long until = now_ms() + ms;
    for (int i = 0; i < 1000 && !stop_flag; i++) {
        long long now = now_ms();
        if (now >= until || (end_ms && now >= end_ms))
            return;
        long long step = until - now < 100 ? until - now : 100;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int board_once(cli_ctx *x, const char *hall, const char *usage)
{
    char target[512];
    if (acl_path(target, sizeof target, "/v1/halls/%s/board", 1, hall))
        return cli_usage_error(usage, "bad hall id '%s'", hall);
    acl_http_resp r;
    int rc = cli_call(x, "GET", target, NULL, NULL, 0, &r);
    if (rc)
        return rc;
    json_t *j = NULL;
    if (x->json)
        cli_print_raw(&r);
    else if ((rc = cli_body_json(&r, &j)) == 0)
        cli_board_render(j, NULL);
    json_decref(j);
    acl_http_resp_free(&r);
    return rc;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked poll returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_cmd_board(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "board HALL [--once] [--for SECONDS]";
    cli_args a = {.opts = {{.name = "once", .has_arg = false}, {.name = "for", .has_arg = true}},
                  .nopts = 2};
    int rc = cli_args_parse(argc, argv, &a, 1, 1, usage);
    if (rc)
        return rc;
    const char *hall = a.pos[0];
    if (cli_opt_get(&a, "once"))
        return board_once(x, hall, usage);
    long long end_ms = 0;
    const char *forv = cli_opt_get(&a, "for");
    if (forv) {
        char *e;
        double secs = strtod(forv, &e);
        if (*e || !(secs > 0 && secs < 1e7))
            return cli_usage_error(usage, "--for: expected seconds, not '%s'", forv);
        end_ms = now_ms() + (long long)(secs * 1000);
    }

    acl_ws *ws;
    char err[ACL_ERRLEN];
    if ((rc = acl_ws_new(x->server, ACL_WS_MSGPACK, x->timeout_ms, &ws, err)))
        return rc == ACL_EARG ? cli_usage_error(usage, "%s", err) : cli_fail("out of memory");
    catch_signals();
    bool tty = isatty(STDOUT_FILENO) && !x->json;
    board_state st = {.seq = -1};
    int exit_code = CLI_OK;
    long long backoff = 500;
    bool ever = false;
    for (unsigned long round = 0; !stop_flag && round < 100000000UL; round++) {
        if (end_ms && now_ms() >= end_ms)
            break;
        rc = acl_ws_connect(ws, "/v1/ws", NULL);
        if (rc && !ever) {
            /* never reached: the same rules as any other command */
            if (rc == ACL_ECONNECT) {
                fprintf(stderr, "antrean-cli: %s (is antrean-server running there?)\n",
                        acl_ws_error(ws));
                exit_code = CLI_ECONN;
            } else {
                exit_code = cli_fail("%s", acl_ws_error(ws));
            }
            break;
        }
        int end = END_RECONNECT;
        if (rc == 0) {
            ever = true;
            st.subscribed = false;
            end = session(x, ws, hall, &st, end_ms, tty, &exit_code);
            if (st.subscribed)
                backoff = 500;
        } else {
            snprintf(st.status, sizeof st.status, "disconnected: %s", acl_ws_error(ws));
        }
        if (end == END_STOP || end == END_FATAL)
            break;
        acl_ws_close(ws, 1000, NULL);
        if (end == END_RESYNC) {
            st.seq = -1; /* a whole new board */
            continue;
        }
        char wait[32];
        size_t sl = strlen(st.status);
        snprintf(st.status + sl, sizeof st.status - sl, " - retrying in %s",
                 cli_dur(backoff / 1000 ? backoff / 1000 : 1, wait));
        if (!x->json)
            redraw(&st, tty);
        else
            fprintf(stderr, "antrean-cli: %s\n", st.status);
        nap(backoff, end_ms);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    if (acl_ws_is_open(ws))
        acl_ws_close(ws, 1000, "bye");
    acl_ws_free(ws);
    json_decref(st.board);
    return exit_code;
}
