/*
 * cmd_admin.c — the manager and admin subcommands: stats (JSON as a table,
 * or the server's CSV), tokens (list, create, delete) and backup.
 *
 * A new token's secret is printed once, as the server shows it once; the
 * list never carries secrets. backup asks the server to write the backup
 * (the data lives with the server), so DEST is a path on the server's host.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define TARGET 512

/* ---- stats ----------------------------------------------------------------------- */

static bool valid_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static double num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static void stats_rows(const json_t *rows, const char *title, bool service)
{
    char p50[32], p90[32], mx[32], mean[32];
    printf("%-14s %6s %6s %7s %6s %7s %7s %7s %7s %7s %6s %5s %6s\n", title, "issued", "served",
           "no_show", "cancel", "expired", "p50", "p90", "max", "mean", "sla", "skm", "index");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        char sla[16] = "-";
        if (service)
            snprintf(sla, sizeof sla, "%.0f%%", num(r, "within_sla") * 100.0);
        printf("%-14s %6lld %6lld %7lld %6lld %7lld %7s %7s %7s %7s %6s %5.2f %6.1f\n",
               cli_str(r, "id"), cli_int(r, "issued", 0), cli_int(r, "served", 0),
               cli_int(r, "no_show", 0), cli_int(r, "cancelled", 0), cli_int(r, "expired", 0),
               cli_dur(cli_int(r, "wait_p50_s", -1), p50),
               cli_dur(cli_int(r, "wait_p90_s", -1), p90),
               cli_dur(cli_int(r, "wait_max_s", -1), mx),
               cli_dur(cli_int(r, "service_mean_s", -1), mean), sla, num(r, "skm_score"),
               num(r, "skm_index"));
    }
    if (json_array_size(rows) == 0)
        printf("  (none)\n");
}

int cli_cmd_stats(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "stats HALL [--date YYYY-MM-DD] [--csv]";
    cli_args a = {.opts = {{.name = "date", .has_arg = true}, {.name = "csv", .has_arg = false}},
                  .nopts = 2};
    int rc = cli_args_parse(argc, argv, &a, 1, 1, usage);
    if (rc)
        return rc;
    const char *date = cli_opt_get(&a, "date");
    bool csv = cli_opt_get(&a, "csv") != NULL;
    if (date && !valid_date(date))
        return cli_usage_error(usage, "--date: expected YYYY-MM-DD, not '%s'", date);
    char target[TARGET];
    if (date)
        rc = acl_path(target, sizeof target,
                      csv ? "/v1/halls/%s/stats?date=%s&format=csv" : "/v1/halls/%s/stats?date=%s",
                      2, a.pos[0], date);
    else
        rc = acl_path(target, sizeof target,
                      csv ? "/v1/halls/%s/stats?format=csv" : "/v1/halls/%s/stats", 1, a.pos[0]);
    if (rc)
        return cli_usage_error(usage, "bad hall id '%s'", a.pos[0]);
    acl_http_resp r;
    rc = cli_call(x, "GET", target, NULL, NULL, 0, &r);
    if (rc)
        return rc;
    if (csv || x->json) {
        cli_print_raw(&r);
        acl_http_resp_free(&r);
        return 0;
    }
    json_t *j;
    rc = cli_body_json(&r, &j);
    acl_http_resp_free(&r);
    if (rc)
        return rc;
    printf("hall %s  date %s\n\n", cli_str(j, "hall"), cli_str(j, "date"));
    stats_rows(json_object_get(j, "services"), "SERVICE", true);
    printf("\n");
    stats_rows(json_object_get(j, "counters"), "COUNTER", false);
    json_decref(j);
    return 0;
}

/* ---- tokens ------------------------------------------------------------------------ */

static void halls_text(const json_t *h, char *out, size_t cap)
{
    size_t i, k = 0;
    json_t *v;
    out[0] = '\0';
    if (json_is_string(h)) {
        snprintf(out, cap, "%s", json_string_value(h));
        return;
    }
    json_array_foreach(h, i, v)
    {
        int n = snprintf(out + k, cap - k, "%s%s", i ? "," : "", json_string_value(v) ?: "");
        if (n < 0 || (size_t)n >= cap - k)
            break;
        k += (size_t)n;
    }
}

static int tokens_list(cli_ctx *x, int argc, char **argv)
{
    cli_args a = {.nopts = 0};
    int rc = cli_args_parse(argc, argv, &a, 0, 0, "tokens list");
    if (rc)
        return rc;
    acl_http_resp r;
    if ((rc = cli_call(x, "GET", "/v1/tokens", NULL, NULL, 0, &r)))
        return rc;
    if (x->json) {
        cli_print_raw(&r);
        acl_http_resp_free(&r);
        return 0;
    }
    json_t *j;
    rc = cli_body_json(&r, &j);
    acl_http_resp_free(&r);
    if (rc)
        return rc;
    const json_t *list = json_is_array(j) ? j : json_object_get(j, "tokens");
    printf("%-20s %-9s %-30s %s\n", "ID", "ROLE", "HALLS", "LABEL");
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        char halls[256];
        halls_text(json_object_get(t, "halls"), halls, sizeof halls);
        printf("%-20s %-9s %-30s %s\n", cli_str(t, "id"), cli_str(t, "role"), halls,
               cli_str(t, "label"));
    }
    json_decref(j);
    return 0;
}

static int tokens_create(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "tokens create --role ROLE --halls a,b|* [--label LABEL]";
    cli_args a = {.opts = {{.name = "role", .has_arg = true},
                           {.name = "halls", .has_arg = true},
                           {.name = "label", .has_arg = true}},
                  .nopts = 3};
    int rc = cli_args_parse(argc, argv, &a, 0, 0, usage);
    if (rc)
        return rc;
    const char *role = cli_opt_get(&a, "role"), *halls = cli_opt_get(&a, "halls");
    const char *label = cli_opt_get(&a, "label");
    if (!role || !halls)
        return cli_usage_error(usage, "--role and --halls are required");
    json_t *hv;
    if (strcmp(halls, "*") == 0) {
        hv = json_string("*");
    } else {
        hv = json_array();
        const char *p = halls;
        for (int n = 0; n < 256; n++) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (len == 0) {
                json_decref(hv);
                return cli_usage_error(usage, "--halls: an empty hall id in '%s'", halls);
            }
            json_array_append_new(hv, json_stringn(p, len));
            if (!comma)
                break;
            p = comma + 1;
        }
    }
    json_t *body = json_pack("{ss so}", "role", role, "halls", hv);
    if (label)
        json_object_set_new(body, "label", json_string(label));
    acl_http_resp r;
    rc = cli_call(x, "POST", "/v1/tokens", body, NULL, 0, &r);
    json_decref(body);
    if (rc)
        return rc;
    json_t *j = NULL;
    if (x->json)
        cli_print_raw(&r);
    else
        rc = cli_body_json(&r, &j);
    acl_http_resp_free(&r);
    if (j) {
        char hs[256];
        halls_text(json_object_get(j, "halls"), hs, sizeof hs);
        printf("id      %s\n", cli_str(j, "id"));
        printf("token   %s\n", cli_str(j, "token"));
        printf("role    %s\n", cli_str(j, "role"));
        printf("halls   %s\n", hs);
        printf("label   %s\n", cli_str(j, "label"));
        fprintf(stderr, "antrean-cli: the token is shown only this once; keep it safe\n");
        json_decref(j);
    }
    return rc;
}

static int tokens_delete(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "tokens delete ID";
    cli_args a = {.nopts = 0};
    int rc = cli_args_parse(argc, argv, &a, 1, 1, usage);
    if (rc)
        return rc;
    char target[TARGET];
    if (acl_path(target, sizeof target, "/v1/tokens/%s", 1, a.pos[0]))
        return cli_usage_error(usage, "bad token id '%s'", a.pos[0]);
    acl_http_resp r;
    if ((rc = cli_call(x, "DELETE", target, NULL, NULL, 0, &r)))
        return rc;
    if (x->json)
        cli_print_raw(&r);
    else
        printf("deleted %s\n", a.pos[0]);
    acl_http_resp_free(&r);
    return 0;
}

int cli_cmd_tokens(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "tokens list | tokens create --role ROLE --halls a,b|* "
                                "[--label LABEL] | tokens delete ID";
    if (argc < 1)
        return cli_usage_error(usage, "tokens needs list, create or delete");
    if (strcmp(argv[0], "list") == 0)
        return tokens_list(x, argc - 1, argv + 1);
    if (strcmp(argv[0], "create") == 0)
        return tokens_create(x, argc - 1, argv + 1);
    if (strcmp(argv[0], "delete") == 0)
        return tokens_delete(x, argc - 1, argv + 1);
    return cli_usage_error(usage, "unknown tokens action '%s'", argv[0]);
}

/* ---- backup --------------------------------------------------------------------------- */

int cli_cmd_backup(cli_ctx *x, int argc, char **argv)
{
    static const char usage[] = "backup DEST";
    cli_args a = {.nopts = 0};
    int rc = cli_args_parse(argc, argv, &a, 1, 1, usage);
    if (rc)
        return rc;
    if (!a.pos[0][0])
        return cli_usage_error(usage, "DEST is empty");
    json_t *body = json_pack("{ss}", "dest", a.pos[0]);
    acl_http_resp r;
    rc = cli_call(x, "POST", "/v1/admin/backup", body, NULL, 0, &r);
    json_decref(body);
    if (rc == CLI_EFAIL && (r.status == 404 || r.status == 405))
        fprintf(stderr, "antrean-cli: this server has no backup endpoint "
                        "(POST /v1/admin/backup)\n");
    if (rc)
        return rc;
    json_t *j = NULL;
    if (x->json) {
        cli_print_raw(&r);
    } else if ((j = json_loadb(r.body, r.body_len, 0, NULL)) != NULL) {
        const char *dest = cli_str(j, "dest");
        printf("backup written to %s\n", dest[0] ? dest : a.pos[0]);
        if (json_object_get(j, "bytes"))
            printf("bytes  %lld\n", cli_int(j, "bytes", 0));
    } else {
        printf("backup written to %s\n", a.pos[0]);
    }
    json_decref(j);
    acl_http_resp_free(&r);
    return 0;
}
