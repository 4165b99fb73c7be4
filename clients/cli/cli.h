/*
 * cli.h — antrean-cli's own module: what its files share (main.c: options
 * and dispatch; api.c: one API call with the error rules; cmd_*.c and
 * board.c: the subcommands).
 *
 * The CLI talks to a server over the public API only (clients/c), never to
 * the engine. Exit codes: 0 success, 1 the server refused or failed
 * (printed as "antrean-cli: CODE: MESSAGE"), 2 a usage error, 3 the server
 * could not be reached.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"

enum { CLI_OK = 0, CLI_EFAIL = 1, CLI_EUSAGE = 2, CLI_ECONN = 3 };

/* Global state of one run, owned by main. */
typedef struct cli_ctx {
    const char *server; /* HOST:PORT */
    const char *token;  /* NULL when none */
    bool json;          /* --json: print the server's JSON as it came */
    int timeout_ms;
    acl_conn *conn; /* owned by main; reused by every request (keep-alive) */
} cli_ctx;

/* ---- arguments (main.c) -------------------------------------------------- */

#define CLI_MAX_POS 8
#define CLI_MAX_OPTS 8

/* One option a subcommand accepts: "--name VALUE" / "--name=VALUE", or a flag. */
typedef struct cli_opt {
    const char *name; /* without the dashes */
    bool has_arg;
    const char *value; /* set by cli_args_parse: the argument, or "" for a seen flag */
} cli_opt;

typedef struct cli_args {
    const char *pos[CLI_MAX_POS]; /* positional arguments, borrowed from argv */
    int npos;
    cli_opt opts[CLI_MAX_OPTS]; /* the subcommand's options (filled in by it) */
    int nopts;
} cli_args;

/*
 * Parses argv[0..argc) (the subcommand's arguments) against a->opts, which
 * the caller has filled; expects between min_pos and max_pos positional
 * arguments. On a usage error prints it with the usage line and returns
 * CLI_EUSAGE; else 0. Everything is borrowed from argv.
 */
int cli_args_parse(int argc, char **argv, cli_args *a, int min_pos, int max_pos, const char *usage);
/* The value of option name, or NULL when not given. */
const char *cli_opt_get(const cli_args *a, const char *name);
/* Prints "antrean-cli: MSG" and "usage: antrean-cli USAGE" on stderr; returns CLI_EUSAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- one API call (api.c) ------------------------------------------------ */

/*
 * Sends METHOD target with body (borrowed JSON, may be NULL) and the token
 * when there is one, plus extra headers (borrowed). On a 2xx or 304 returns
 * 0 with *resp filled (the caller frees it with acl_http_resp_free).
 * Otherwise prints the failure on stderr — the server's error as
 * "antrean-cli: CODE: MESSAGE" — frees *resp (keeping only resp->status,
 * 0 when no response came) and returns the exit code (CLI_EFAIL, or
 * CLI_ECONN when the server cannot be reached).
 */
int cli_call(cli_ctx *x, const char *method, const char *target, const json_t *body,
             const acl_header *hdrs, size_t nhdrs, acl_http_resp *resp);

/*
 * Parses resp's body as JSON into *out (a new reference the caller owns).
 * Prints a message and returns CLI_EFAIL when it is not JSON.
 */
int cli_body_json(const acl_http_resp *resp, json_t **out);

/* Prints the body as it came (adding a final newline if missing) to stdout. */
void cli_print_raw(const acl_http_resp *resp);

/* Prints "antrean-cli: MSG" on stderr and returns CLI_EFAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Seconds as "45s", "4m10s", "1h02m" into out (caller-owned, 32 bytes); returns out. */
const char *cli_dur(long long s, char out[32]);
/* ms since the epoch as local "HH:MM:SS" into out (16 bytes); returns out. */
const char *cli_clock(long long ms, char out[16]);

/* JSON field helpers: a missing or mistyped field reads as "" / 0 / -1. */
const char *cli_str(const json_t *o, const char *key);
long long cli_int(const json_t *o, const char *key, long long dflt);

/* ---- subcommands (cmd_tickets.c, cmd_admin.c, board.c) --------------------- */

/* Each takes the arguments after the subcommand name and returns an exit code. */
int cli_cmd_issue(cli_ctx *x, int argc, char **argv);
int cli_cmd_counter(cli_ctx *x, int argc, char **argv);
int cli_cmd_call(cli_ctx *x, int argc, char **argv);
int cli_cmd_ticket(cli_ctx *x, int argc, char **argv);
int cli_cmd_cancel(cli_ctx *x, int argc, char **argv);
int cli_cmd_wait(cli_ctx *x, int argc, char **argv);
int cli_cmd_halls(cli_ctx *x, int argc, char **argv);
int cli_cmd_health(cli_ctx *x, int argc, char **argv);
int cli_cmd_stats(cli_ctx *x, int argc, char **argv);
int cli_cmd_tokens(cli_ctx *x, int argc, char **argv);
int cli_cmd_backup(cli_ctx *x, int argc, char **argv);
int cli_cmd_board(cli_ctx *x, int argc, char **argv);
/* cmd_appt.c: appointments (SPEC §11) */
int cli_cmd_book(cli_ctx *x, int argc, char **argv);
int cli_cmd_checkin(cli_ctx *x, int argc, char **argv);

/* Renders a board object (SPEC §4 shape; borrowed) as text to stdout. status may be NULL. */
void cli_board_render(const json_t *board, const char *status);

#endif /* CLI_H */
