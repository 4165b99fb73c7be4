/*
 * cmd_appt.c — the appointment subcommands (SPEC §11): book a slot, check in
 * with a booking code. Same rules as the other subcommands: one request,
 * aligned "key  value" lines, or the server's JSON with --json.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define TARGET 512

static int call_print(cli_ctx *x, const char *target, const json_t *body,
                      void (*show)(cli_ctx *, const json_t *))
{
    acl_http_resp r;
    int rc = cli_call(x, "POST", target, body, NULL, 0, &r);
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

static void show_url(cli_ctx *x, const char *url)
{
    if (url[0] == '/')
        printf("url       http://%s%s\n", x->server, url);
    else
        printf("url       %s\n", url);
}

static void show_booking(cli_ctx *x, const json_t *j)
{
    printf("booking   %s\n", cli_str(j, "booking"));
    printf("service   %s\n", cli_str(j, "service"));
    printf("slot      %s %s\n", cli_str(j, "date"), cli_str(j, "slot"));
    show_url(x, cli_str(j, "url"));
    printf("id        %s\n", cli_str(j, "id"));
    printf("secret    %s\n", cli_str(j, "secret"));
}

int cli_cmd_book(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "book HALL SERVICE YYYY-MM-DD HH:MM [--idem KEY] [--phone PHONE] "
                                "[--name NAME]";
    cli_args a = {.opts = {{.name = "idem", .has_arg = true},
                           {.name = "phone", .has_arg = true},
                           {.name = "name", .has_arg = true}},
                  .nopts = 3};
    int rc = cli_args_parse(argc, argv, &a, 4, 4, usage);
    if (rc)
        return rc;
    char target[TARGET];
    if (acl_path(target, sizeof target, "/v1/halls/%s/appointments", 1, a.pos[0]))
        return cli_usage_error(usage, "an argument is empty, '.', '..' or too long");
    json_t *body = json_pack("{ssssss}", "service", a.pos[1], "date", a.pos[2], "slot", a.pos[3]);
    static const char *const opt[] = {"idem", "phone", "name"};
    for (int i = 0; i < 3; i++)
        if (cli_opt_get(&a, opt[i]))
            json_object_set_new(body, opt[i], json_string(cli_opt_get(&a, opt[i])));
    rc = call_print(x, target, body, show_booking);
    json_decref(body);
    return rc;
}

static void show_checkin(cli_ctx *x, const json_t *j)
{
    char eta[32];
    bool appt = json_is_true(json_object_get(j, "appointment"));
    bool late = json_is_true(json_object_get(j, "late"));
    printf("code      %s\n", cli_str(j, "code"));
    printf("service   %s%s\n", cli_str(j, "service"),
           appt   ? " (appointment)"
           : late ? " (late: an ordinary ticket)"
                  : "");
    printf("position  %lld\n", cli_int(j, "position", 0));
    printf("eta       %s\n", cli_dur(cli_int(j, "eta_s", -1), eta));
    show_url(x, cli_str(j, "url"));
    printf("id        %s\n", cli_str(j, "id"));
    printf("secret    %s\n", cli_str(j, "secret"));
}

int cli_cmd_checkin(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "checkin HALL BOOKING [--idem KEY]";
    cli_args a = {.opts = {{.name = "idem", .has_arg = true}}, .nopts = 1};
    int rc = cli_args_parse(argc, argv, &a, 2, 2, usage);
    if (rc)
        return rc;
    char target[TARGET];
    if (acl_path(target, sizeof target, "/v1/halls/%s/checkin", 1, a.pos[0]))
        return cli_usage_error(usage, "an argument is empty, '.', '..' or too long");
    json_t *body = json_pack("{ss}", "booking", a.pos[1]);
    if (cli_opt_get(&a, "idem"))
        json_object_set_new(body, "idem", json_string(cli_opt_get(&a, "idem")));
    rc = call_print(x, target, body, show_checkin);
    json_decref(body);
    return rc;
}
