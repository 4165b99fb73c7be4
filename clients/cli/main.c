/*
 * main.c — antrean-cli: global options, argument parsing and dispatch to
 * the subcommands (SPEC §8).
 *
 * Global options (--server, --token, --json, --timeout) may stand anywhere
 * on the line; everything else belongs to the subcommand, which declares
 * the options it accepts, so a mistyped option is a usage error (exit 2),
 * never silently ignored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_ARGS 64

static const char usage_text[] =
    "usage: antrean-cli [--server HOST:PORT] [--token TOKEN] [--json] [--timeout SECONDS]\n"
    "                   COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  issue HALL SERVICE [--priority REASON] [--idem KEY] [--channel kiosk|web|app]\n"
    "  counter HALL COUNTER ACTION [--ticket ID] [--transfer-to SERVICE]\n"
    "                              [--placement first|last]\n"
    "      ACTION: open close pause resume call recall start finish no-show\n"
    "  call HALL COUNTER            call the next ticket (counter ... call)\n"
    "  ticket ID --secret SECRET    a ticket's state, position and estimate\n"
    "  cancel ID [--secret SECRET]  cancel (with the secret, or as staff with a token)\n"
    "  book HALL SERVICE YYYY-MM-DD HH:MM [--idem KEY] [--phone PHONE] [--name NAME]\n"
    "                               book an appointment slot\n"
    "  checkin HALL BOOKING [--idem KEY]\n"
    "                               check in with a booking code: a ticket\n"
    "  board HALL [--once] [--for SECONDS]\n"
    "                               live board over WebSocket; --once: print it once\n"
    "  wait HALL SERVICE            waiting tickets and the estimate for a new one\n"
    "  halls                        the halls of the server\n"
    "  health                       server health\n"
    "  stats HALL [--date YYYY-MM-DD] [--csv]\n"
    "  tokens list\n"
    "  tokens create --role ROLE --halls a,b|* [--label LABEL]\n"
    "  tokens delete ID\n"
    "  backup DEST                  ask the server to write a backup to DEST\n"
    "\n"
    "environment: ANTREAN_SERVER (default 127.0.0.1:8080), ANTREAN_TOKEN\n"
    "exit codes: 0 ok, 1 refused by the server, 2 usage error, 3 server unreachable\n";

int cli_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    fputs("antrean-cli: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: antrean-cli %s\n", usage);
    return CLI_EUSAGE;
}

static cli_opt *find_opt(cli_args *a, const char *name, size_t len)
{
    for (int i = 0; i < a->nopts; i++)
        if (strlen(a->opts[i].name) == len && strncmp(a->opts[i].name, name, len) == 0)
            return &a->opts[i];
    return NULL;
}

int cli_args_parse(int argc, char **argv, cli_args *a, int min_pos, int max_pos, const char *usage)
{
    a->npos = 0;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!only_pos && strcmp(s, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (!only_pos && s[0] == '-' && s[1] == '-') {
            const char *name = s + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            cli_opt *o = find_opt(a, name, len);
            if (!o)
                return cli_usage_error(usage, "unknown option --%.*s", (int)len, name);
            if (o->value)
                return cli_usage_error(usage, "--%s given twice", o->name);
            if (!o->has_arg) {
                if (eq)
                    return cli_usage_error(usage, "--%s takes no value", o->name);
                o->value = "";
            } else if (eq) {
                o->value = eq + 1;
            } else if (i + 1 < argc) {
                o->value = argv[++i];
            } else {
                return cli_usage_error(usage, "--%s needs a value", o->name);
            }
            continue;
        }
        if (!only_pos && s[0] == '-' && s[1] != '\0')
            return cli_usage_error(usage, "unknown option %s", s);
        if (a->npos >= max_pos || a->npos >= CLI_MAX_POS)
            return cli_usage_error(usage, "unexpected argument '%s'", s);
        a->pos[a->npos++] = s;
    }
    if (a->npos < min_pos)
        return cli_usage_error(usage, "missing arguments");
    return 0;
}

const char *cli_opt_get(const cli_args *a, const char *name)
{
    for (int i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i].name, name) == 0)
            return a->opts[i].value;
    return NULL;
}

/* ---- dispatch ---------------------------------------------------------------- */

typedef struct command {
    const char *name;
    int (*run)(cli_ctx *x, int argc, char **argv);
} command;

static const command commands[] = {
    {"issue", cli_cmd_issue},   {"counter", cli_cmd_counter}, {"call", cli_cmd_call},
    {"ticket", cli_cmd_ticket}, {"cancel", cli_cmd_cancel},   {"board", cli_cmd_board},
    {"wait", cli_cmd_wait},     {"halls", cli_cmd_halls},     {"health", cli_cmd_health},
    {"stats", cli_cmd_stats},   {"tokens", cli_cmd_tokens},   {"backup", cli_cmd_backup},
    {"book", cli_cmd_book},     {"checkin", cli_cmd_checkin},
};

static int short_usage(const char *fmt, const char *arg)
{
    fputs("antrean-cli: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nusage: antrean-cli [--server HOST:PORT] [--token TOKEN] [--json] COMMAND [ARGS]\n"
          "       (antrean-cli --help lists the commands)\n",
          stderr);
    return CLI_EUSAGE;
}

/* A bad global option: printed like any usage error; -1 for global_opt. */
static int bad_global(const char *fmt, const char *arg)
{
    short_usage(fmt, arg);
    return -1;
}

/* Takes a global option at argv[*i] (moving *i past its value); 1 taken, 0 not, <0 error. */
static int global_opt(cli_ctx *x, int argc, char **argv, int *i)
{
    static const char *const names[] = {"server", "token", "timeout"};
    const char *s = argv[*i];
    if (strcmp(s, "--json") == 0) {
        x->json = true;
        return 1;
    }
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(names[k]);
        if (strncmp(s, "--", 2) != 0 || strncmp(s + 2, names[k], n) != 0)
            continue;
        const char *v;
        if (s[2 + n] == '=')
            v = s + 3 + n;
        else if (s[2 + n] == '\0' && *i + 1 < argc)
            v = argv[++*i];
        else if (s[2 + n] == '\0')
            return bad_global("%s needs a value", s);
        else
            continue;
        if (k == 0) {
            x->server = v;
        } else if (k == 1) {
            x->token = v;
        } else {
            char *end;
            double secs = strtod(v, &end);
            if (*end || !(secs > 0 && secs <= 3600))
                return bad_global("--timeout: expected seconds (0-3600), not '%s'", v);
            x->timeout_ms = (int)(secs * 1000);
        }
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli_ctx x = {
        .server = getenv("ANTREAN_SERVER"), .token = getenv("ANTREAN_TOKEN"), .timeout_ms = 10000};
    if (!x.server || !*x.server)
        x.server = "127.0.0.1:8080";
    if (x.token && !*x.token)
        x.token = NULL;

    /* pull the global options out, keep the rest in order */
    char *rest[MAX_ARGS];
    int nrest = 0;
    bool dashdash = false;
    for (int i = 1; i < argc; i++) {
        if (!dashdash && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
            fputs(usage_text, stdout);
            return CLI_OK;
        }
        if (!dashdash && strcmp(argv[i], "--") == 0)
            dashdash = true;
        int g = dashdash ? 0 : global_opt(&x, argc, argv, &i);
        if (g < 0)
            return CLI_EUSAGE;
        if (g == 1)
            continue;
        if (nrest >= MAX_ARGS)
            return short_usage("too many arguments%s", "");
        rest[nrest++] = argv[i];
    }
    if (nrest == 0)
        return short_usage("no command given%s", "");

    const command *cmd = NULL;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(commands[k].name, rest[0]) == 0)
            cmd = &commands[k];
    if (!cmd)
        return short_usage("unknown command '%s'", rest[0]);

    char err[ACL_ERRLEN];
    int rc = acl_conn_new(x.server, x.timeout_ms, &x.conn, err);
    if (rc == ACL_EARG)
        return short_usage("%s", err);
    if (rc)
        return cli_fail("out of memory");
    int code = cmd->run(&x, nrest - 1, rest + 1);
    acl_conn_free(x.conn);
    return code;
}
