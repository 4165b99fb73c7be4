/*
 * cmd_tickets.c — the citizen and operator subcommands: issue, counter,
 * call, ticket, cancel, wait, and the read-only halls and health.
 *
 * Each builds one request (targets through acl_path, so arguments are
 * escaped), prints the answer as aligned "key  value" lines, or the
 * server's JSON unchanged with --json.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define TARGET 512

/* Runs the call and prints either the raw body (--json) or through show(). */
static int call_show(cli_ctx *x, const char *method, const char *target, const json_t *body,
                     const acl_header *h, size_t nh, void (*show)(cli_ctx *, const json_t *))
{
    acl_http_resp r;
    int rc = cli_call(x, method, target, body, h, nh, &r);
    if (rc)
        return rc;
    if (x->json) {
        cli_print_raw(&r);
    } else {
        json_t *j;
        rc = cli_body_json(&r, &j);
        if (rc == 0) {
            show(x, j);
            json_decref(j);
        }
    }
    acl_http_resp_free(&r);
    return rc;
}

static int bad_target(const char *usage)
{
    return cli_usage_error(usage, "an argument is empty, '.', '..' or too long");
}

/* ---- issue ---------------------------------------------------------------------- */

static void show_issue(cli_ctx *x, const json_t *j)
{
    char eta[32];
    const char *id = cli_str(j, "id");
    printf("code      %s\n", cli_str(j, "code"));
    printf("service   %s%s\n", cli_str(j, "service"),
           json_is_true(json_object_get(j, "priority")) ? " (priority)" : "");
    printf("position  %lld\n", cli_int(j, "position", 0));
    printf("eta       %s\n", cli_dur(cli_int(j, "eta_s", -1), eta));
    const char *url = cli_str(j, "url");
    if (url[0] == '/')
        printf("url       http://%s%s\n", x->server, url);
    else
        printf("url       %s\n", url);
    printf("id        %s\n", id);
    printf("secret    %s\n", cli_str(j, "secret"));
}

int cli_cmd_issue(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "issue HALL SERVICE [--priority REASON] [--idem KEY] "
                                "[--channel kiosk|web|app]";
    cli_args a = {.opts = {{.name = "priority", .has_arg = true},
                           {.name = "idem", .has_arg = true},
                           {.name = "channel", .has_arg = true}},
                  .nopts = 3};
    int rc = cli_args_parse(argc, argv, &a, 2, 2, usage);
    if (rc)
        return rc;
    const char *prio = cli_opt_get(&a, "priority");
    const char *ch = cli_opt_get(&a, "channel");
    if (prio && strcmp(prio, "elderly") && strcmp(prio, "disabled") && strcmp(prio, "pregnant") &&
        strcmp(prio, "child"))
        return cli_usage_error(usage, "--priority: expected elderly, disabled, pregnant or child");
    if (ch && strcmp(ch, "kiosk") && strcmp(ch, "web") && strcmp(ch, "app"))
        return cli_usage_error(usage, "--channel: expected kiosk, web or app");
    char target[TARGET];
    if (acl_path(target, sizeof target, "/v1/halls/%s/tickets", 1, a.pos[0]))
        return bad_target(usage);
    json_t *body = json_pack("{ss}", "service", a.pos[1]);
    if (prio)
        json_object_set_new(body, "priority", json_string(prio));
    if (ch)
        json_object_set_new(body, "channel", json_string(ch));
    const char *idem = cli_opt_get(&a, "idem");
    if (idem)
        json_object_set_new(body, "idem", json_string(idem));
    rc = call_show(x, "POST", target, body, NULL, 0, show_issue);
    json_decref(body);
    return rc;
}

/* ---- counter actions --------------------------------------------------------------- */

static void show_counter(cli_ctx *x, const json_t *j)
{
    (void)x;
    const json_t *c = json_object_get(j, "counter");
    const json_t *t = json_object_get(j, "ticket");
    printf("counter   %s (%s)  %s\n", cli_str(c, "label"), cli_str(c, "id"), cli_str(c, "state"));
    if (json_is_object(t))
        printf("ticket    %s  %s  %s  recalls %lld  id %s\n", cli_str(t, "code"),
               cli_str(t, "service"), cli_str(t, "state"), cli_int(t, "recalls", 0),
               cli_str(t, "id"));
    else
        printf("ticket    -\n");
}

static const char *const actions[] = {"open",   "close", "pause",  "resume",  "call",
                                      "recall", "start", "finish", "no-show", NULL};

static int counter_action(cli_ctx *x, const char *hall, const char *counter, const char *action,
                          const cli_args *a, const char *usage)
{
    bool known = false;
    for (int i = 0; actions[i]; i++)
        known |= strcmp(actions[i], action) == 0;
    if (!known)
        return cli_usage_error(usage,
                               "unknown action '%s' (open close pause resume call recall "
                               "start finish no-show)",
                               action);
    const char *ticket = cli_opt_get(a, "ticket");
    const char *to = cli_opt_get(a, "transfer-to");
    const char *place = cli_opt_get(a, "placement");
    if (ticket && strcmp(action, "call") != 0)
        return cli_usage_error(usage, "--ticket goes with the call action only");
    if ((to || place) && strcmp(action, "finish") != 0)
        return cli_usage_error(usage, "--transfer-to and --placement go with finish only");
    if (place && strcmp(place, "first") && strcmp(place, "last"))
        return cli_usage_error(usage, "--placement: expected first or last");
    if (place && !to)
        return cli_usage_error(usage, "--placement needs --transfer-to");
    char target[TARGET];
    if (acl_path(target, sizeof target, "/v1/halls/%s/counters/%s/%s", 3, hall, counter, action))
        return bad_target(usage);
    json_t *body = json_object();
    if (ticket)
        json_object_set_new(body, "ticket", json_string(ticket));
    if (to)
        json_object_set_new(body, "transfer_to", json_string(to));
    if (place)
        json_object_set_new(body, "placement", json_string(place));
    int rc = call_show(x, "POST", target, body, NULL, 0, show_counter);
    json_decref(body);
    return rc;
}

int cli_cmd_counter(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "counter HALL COUNTER ACTION [--ticket ID] "
                                "[--transfer-to SERVICE] [--placement first|last]";
    cli_args a = {.opts = {{.name = "ticket", .has_arg = true},
                           {.name = "transfer-to", .has_arg = true},
                           {.name = "placement", .has_arg = true}},
                  .nopts = 3};
    int rc = cli_args_parse(argc, argv, &a, 3, 3, usage);
    if (rc)
        return rc;
    return counter_action(x, a.pos[0], a.pos[1], a.pos[2], &a, usage);
}

int cli_cmd_call(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "call HALL COUNTER [--ticket ID]";
    cli_args a = {.opts = {{.name = "ticket", .has_arg = true}}, .nopts = 1};
    int rc = cli_args_parse(argc, argv, &a, 2, 2, usage);
    if (rc)
        return rc;
    return counter_action(x, a.pos[0], a.pos[1], "call", &a, usage);
}

/* ---- a ticket ---------------------------------------------------------------------- */

static void show_ticket(cli_ctx *x, const json_t *j)
{
    (void)x;
    char eta[32];
    printf("code      %s\n", cli_str(j, "code"));
    printf("state     %s\n", cli_str(j, "state"));
    printf("service   %s\n", cli_str(j, "service"));
    bool waiting = strcmp(cli_str(j, "state"), "waiting") == 0;
    if (waiting && json_object_get(j, "position"))
        printf("position  %lld\n", cli_int(j, "position", 0));
    if (waiting && json_object_get(j, "eta_s"))
        printf("eta       %s\n", cli_dur(cli_int(j, "eta_s", -1), eta));
    if (json_object_get(j, "counter"))
        printf("counter   %s (%s)\n", cli_str(j, "label"), cli_str(j, "counter"));
}

static int ticket_request(cli_ctx *x, int argc, char **argv, const char *method, const char *usage)
{
    cli_args a = {.opts = {{.name = "secret", .has_arg = true}}, .nopts = 1};
    int rc = cli_args_parse(argc, argv, &a, 1, 1, usage);
    if (rc)
        return rc;
    const char *secret = cli_opt_get(&a, "secret");
    if (!secret && !x->token)
        return cli_usage_error(usage, "needs --secret (or a staff --token)");
    char target[TARGET];
    if (acl_path(target, sizeof target, "/v1/tickets/%s", 1, a.pos[0]))
        return bad_target(usage);
    acl_header h = {"X-Ticket-Secret", secret};
    return call_show(x, method, target, NULL, secret ? &h : NULL, secret ? 1 : 0, show_ticket);
}

int cli_cmd_ticket(cli_ctx *x, int argc, char **argv)
{
    return ticket_request(x, argc, argv, "GET", "ticket ID --secret SECRET");
}

int cli_cmd_cancel(cli_ctx *x, int argc, char **argv)
{
    return ticket_request(x, argc, argv, "DELETE", "cancel ID [--secret SECRET]");
}

/* ---- read-only ----------------------------------------------------------------------- */

static void show_wait(cli_ctx *x, const json_t *j)
{
    (void)x;
    char eta[32], old[32];
    printf("waiting   %lld\n", cli_int(j, "waiting", 0));
    printf("eta       %s\n", cli_dur(cli_int(j, "eta_s", -1), eta));
    printf("oldest    %s\n", cli_dur(cli_int(j, "oldest_wait_s", -1), old));
    printf("seq       %lld\n", cli_int(j, "seq", 0));
}

int cli_cmd_wait(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "wait HALL SERVICE";
    cli_args a = {.nopts = 0};
    int rc = cli_args_parse(argc, argv, &a, 2, 2, usage);
    if (rc)
        return rc;
    char target[TARGET];
    if (acl_path(target, sizeof target, "/v1/halls/%s/services/%s/wait", 2, a.pos[0], a.pos[1]))
        return bad_target(usage);
    return call_show(x, "GET", target, NULL, NULL, 0, show_wait);
}

static void show_halls(cli_ctx *x, const json_t *j)
{
    (void)x;
    size_t i;
    json_t *h;
    if (json_array_size(j) == 0)
        printf("(no halls)\n");
    json_array_foreach(j, i, h) printf("%-24s %s\n", cli_str(h, "id"), cli_str(h, "name"));
}

int cli_cmd_halls(cli_ctx *x, int argc, char **argv)
{
    cli_args a = {.nopts = 0};
    int rc = cli_args_parse(argc, argv, &a, 0, 0, "halls");
    if (rc)
        return rc;
    return call_show(x, "GET", "/v1/halls", NULL, NULL, 0, show_halls);
}

static void show_health(cli_ctx *x, const json_t *j)
{
    printf("ok          %s\n", json_is_true(json_object_get(j, "ok")) ? "true" : "false");
    printf("version     %s\n", cli_str(j, "version"));
    printf("durability  %s\n", cli_str(j, "durability"));
    printf("server      %s\n", x->server);
}

int cli_cmd_health(cli_ctx *x, int argc, char **argv)
{
    cli_args a = {.nopts = 0};
    int rc = cli_args_parse(argc, argv, &a, 0, 0, "health");
    if (rc)
        return rc;
    return call_show(x, "GET", "/v1/health", NULL, NULL, 0, show_health);
}
