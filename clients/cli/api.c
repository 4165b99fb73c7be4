/*
 * api.c — one API call with antrean-cli's error rules, and small output
 * helpers shared by the subcommands.
 *
 * The rules: the server's {"error":{"code","message"}} is printed as
 * "antrean-cli: CODE: MESSAGE" (exit 1); a server that cannot be reached
 * gives a message naming the address (exit 3); anything else the transport
 * reports (timeout, protocol error) is exit 1 with its description.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("antrean-cli: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EFAIL;
}

/* A printable prefix of a non-JSON error body, for the message. */
static void snippet(const acl_http_resp *r, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < r->body_len && k + 1 < cap && k < 160; i++) {
        char ch = r->body[i];
        out[k++] = (ch >= 0x20 && ch < 0x7f) ? ch : ' ';
    }
    while (k > 0 && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
}

static int report_status(const char *method, const char *target, const acl_http_resp *r)
{
    char code[64], msg[512], retry[48] = "";
    if (r->retry_after >= 0)
        snprintf(retry, sizeof retry, " (retry after %lds)", r->retry_after);
    if (acl_api_error(r, code, sizeof code, msg, sizeof msg))
        return cli_fail("%s: %s%s", code, msg, retry);
    snippet(r, msg, sizeof msg);
    return cli_fail("%s %s: HTTP %d%s%s%s", method, target, r->status, msg[0] ? ": " : "", msg,
                    retry);
}

int cli_call(cli_ctx *x, const char *method, const char *target, const json_t *body,
             const acl_header *hdrs, size_t nhdrs, acl_http_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after = -1;
    codec_buf b;
    codec_buf_init(&b);
    if (body && acl_json_to_text(body, &b) != 0) {
        codec_buf_free(&b);
        return cli_fail("out of memory");
    }
    acl_http_req q = {
        .method = method,
        .target = target,
        .bearer = x->token,
        .headers = hdrs,
        .nheaders = nhdrs,
        .body = body ? (b.data ? b.data : "") : NULL,
        .body_len = b.len,
    };
    int rc = acl_http_request(x->conn, &q, resp);
    codec_buf_free(&b);
    if (rc == ACL_ECONNECT) {
        fprintf(stderr, "antrean-cli: %s (is antrean-server running there? set --server)\n",
                acl_conn_error(x->conn));
        return CLI_ECONN;
    }
    if (rc)
        return cli_fail("%s: %s", acl_strerror(rc), acl_conn_error(x->conn));
    if ((resp->status >= 200 && resp->status < 300) || resp->status == 304)
        return 0;
    int code = report_status(method, target, resp);
    int status = resp->status;
    acl_http_resp_free(resp);
    resp->status = status;
    return code;
}

int cli_body_json(const acl_http_resp *resp, json_t **out)
{
    json_error_t je;
    *out = json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY, &je);
    if (!*out)
        return cli_fail("the server's reply is not JSON (%s)", je.text);
    return 0;
}

void cli_print_raw(const acl_http_resp *resp)
{
    fwrite(resp->body, 1, resp->body_len, stdout);
    if (resp->body_len == 0 || resp->body[resp->body_len - 1] != '\n')
        fputc('\n', stdout);
}

const char *cli_dur(long long s, char out[32])
{
    if (s < 0)
        snprintf(out, 32, "-");
    else if (s < 60)
        snprintf(out, 32, "%llds", s);
    else if (s < 3600)
        snprintf(out, 32, "%lldm%02llds", s / 60, s % 60);
    else
        snprintf(out, 32, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    return out;
}

const char *cli_clock(long long ms, char out[16])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !localtime_r(&t, &tm))
        snprintf(out, 16, "--:--:--");
    else
        strftime(out, 16, "%H:%M:%S", &tm);
    return out;
}

const char *cli_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

long long cli_int(const json_t *o, const char *key, long long dflt)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return dflt;
}
