/*
 * test_http.c — the HTTP/1.1 client against canned answers from a fake
 * server: Content-Length, chunked and until-close bodies, keep-alive reuse
 * and reconnection, request headers, the API error shape, and refusals of
 * truncated, oversized, malformed and silent answers.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "client/fake_server.h"
#include "common/ant_test.h"

#define MAXREQ 4

/* A script: answers request k (counting over all connections) with reply[k]. */
typedef struct canned {
    const char *reply[MAXREQ];
    int per_conn;    /* requests answered per connection (default 1) */
    bool wait_eof;   /* after answering, wait for the client to close */
    bool read_first; /* read the request before answering (default true via !no_read) */
    bool no_read;
    int seen;                /* requests read */
    char head[MAXREQ][2048]; /* what the server saw */
    char body[MAXREQ][1024];
    size_t body_len[MAXREQ];
} canned;

static void canned_script(int fd, int conn, void *arg)
{
    (void)conn;
    canned *c = arg;
    int per = c->per_conn ? c->per_conn : 1;
    for (int i = 0; i < per && c->seen < MAXREQ; i++) {
        int k = c->seen;
        if (!c->no_read && !fk_read_request(fd, c->head[k], sizeof c->head[k], c->body[k],
                                            sizeof c->body[k], &c->body_len[k]))
            return;
        c->seen++;
        if (c->reply[k] && !fk_write_str(fd, c->reply[k]))
            return;
    }
    if (c->wait_eof)
        fk_wait_eof(fd);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One GET against a server running canned c; returns the rc, fills r. */
static int get_once(canned *c, int nconns, int timeout_ms, acl_http_resp *r)
{
    fake_server *s = fake_start(canned_script, c, nconns);
    cr_assert_not_null(s);
    acl_conn *conn;
    cr_assert_eq(acl_conn_new(fake_addr(s), timeout_ms, &conn, NULL), 0);
    acl_http_req q = {.method = "GET", .target = "/v1/health"};
    int rc = acl_http_request(conn, &q, r);
    acl_conn_free(conn);
    fake_stop(s);
    return rc;
}

Test(http, content_length_and_headers)
{
    canned c = {.reply = {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "ETag: \"s42\"\r\nRetry-After: 7\r\nX-Odd:   spaced   \r\n"
                          "Content-Length: 11\r\n\r\n{\"ok\":true}"}};
    fake_server *s = fake_start(canned_script, &c, 1);
    cr_assert_not_null(s);
    acl_conn *conn;
    cr_assert_eq(acl_conn_new(fake_addr(s), 2000, &conn, NULL), 0);
    acl_http_req q = {.method = "POST",
                      .target = "/v1/halls/h1/tickets",
                      .bearer = "tok123",
                      .ticket_secret = "sec",
                      .if_none_match = "\"s41\"",
                      .body = "{\"service\":\"ktp\"}",
                      .body_len = 17};
    acl_http_resp r;
    cr_assert_eq(acl_http_request(conn, &q, &r), 0, "%s", acl_conn_error(conn));
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 11);
    cr_assert_str_eq(r.body, "{\"ok\":true}");
    cr_assert_str_eq(r.etag, "\"s42\"");
    cr_assert_eq(r.retry_after, 7);
    cr_assert_str_eq(r.content_type, "application/json");
    cr_assert_str_eq(acl_http_header(&r, "x-odd"), "spaced");
    cr_assert_null(acl_http_header(&r, "X-Missing"));
    cr_assert(r.keep_alive);
    acl_http_resp_free(&r);
    acl_http_resp_free(&r); /* twice is fine */
    acl_conn_free(conn);
    fake_stop(s);
    cr_assert(strstr(c.head[0], "POST /v1/halls/h1/tickets HTTP/1.1\r\n") == c.head[0]);
    cr_assert_not_null(strstr(c.head[0], "\r\nAuthorization: Bearer tok123\r\n"));
    cr_assert_not_null(strstr(c.head[0], "\r\nX-Ticket-Secret: sec\r\n"));
    cr_assert_not_null(strstr(c.head[0], "\r\nIf-None-Match: \"s41\"\r\n"));
    cr_assert_not_null(strstr(c.head[0], "\r\nContent-Length: 17\r\n"));
    cr_assert_not_null(strstr(c.head[0], "\r\nHost: 127.0.0.1:"));
    cr_assert_eq(c.body_len[0], 17);
    cr_assert(memcmp(c.body[0], "{\"service\":\"ktp\"}", 17) == 0);
}

Test(http, chunked_body_with_extensions_and_trailers)
{
    canned c = {.reply = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5;name=val\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n"
                          "0\r\nX-Trailer: yes\r\n\r\n"}};
    acl_http_resp r;
    cr_assert_eq(get_once(&c, 1, 2000, &r), 0);
    cr_assert_eq(r.body_len, 21);
    cr_assert_str_eq(r.body, "hello world0123456789");
    cr_assert(r.keep_alive);
    acl_http_resp_free(&r);
}

Test(http, keep_alive_two_requests_one_connection)
{
    canned c = {.per_conn = 2,
                .reply = {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none",
                          "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n"}};
    fake_server *s = fake_start(canned_script, &c, 1);
    acl_conn *conn;
    cr_assert_eq(acl_conn_new(fake_addr(s), 2000, &conn, NULL), 0);
    acl_http_req q = {.method = "GET", .target = "/a"};
    acl_http_resp r;
    cr_assert_eq(acl_http_request(conn, &q, &r), 0, "%s", acl_conn_error(conn));
    cr_assert_str_eq(r.body, "one");
    acl_http_resp_free(&r);
    q.target = "/b";
    q.if_none_match = "\"e\"";
    cr_assert_eq(acl_http_request(conn, &q, &r), 0, "%s", acl_conn_error(conn));
    cr_assert_eq(r.status, 304);
    cr_assert_eq(r.body_len, 0);
    cr_assert_str_eq(r.body, "");
    acl_http_resp_free(&r);
    cr_assert_eq(acl_conn_connects(conn), 1);
    acl_conn_free(conn);
    fake_stop(s);
    cr_assert_eq(c.seen, 2);
    cr_assert(strncmp(c.head[1], "GET /b HTTP/1.1", 15) == 0);
}

Test(http, reconnects_when_server_closed_keep_alive)
{
    /* connection 0 answers once and closes; the second GET must go out on a new socket */
    canned c = {.reply = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain"}};
    fake_server *s = fake_start(canned_script, &c, 2);
    acl_conn *conn;
    cr_assert_eq(acl_conn_new(fake_addr(s), 2000, &conn, NULL), 0);
    acl_http_req q = {.method = "GET", .target = "/x"};
    acl_http_resp r;
    cr_assert_eq(acl_http_request(conn, &q, &r), 0);
    acl_http_resp_free(&r);
    cr_assert_eq(acl_http_request(conn, &q, &r), 0, "%s", acl_conn_error(conn));
    cr_assert_str_eq(r.body, "again");
    acl_http_resp_free(&r);
    cr_assert_eq(acl_conn_connects(conn), 2);
    acl_conn_free(conn);
    fake_stop(s);
}

/* The server reads the second request on a kept-alive socket and closes without answering. */
Test(http, retries_idempotent_requests_only)
{
    for (int post = 0; post < 2; post++) {
        canned c = {.per_conn = 2,
                    .reply = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", NULL,
                              "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nretry"}};
        fake_server *s = fake_start(canned_script, &c, post ? 1 : 2);
        acl_conn *conn;
        cr_assert_eq(acl_conn_new(fake_addr(s), 2000, &conn, NULL), 0);
        acl_http_req q = {.method = "GET", .target = "/x"};
        acl_http_resp r;
        cr_assert_eq(acl_http_request(conn, &q, &r), 0);
        acl_http_resp_free(&r);
        q.method = post ? "POST" : "DELETE";
        int rc = acl_http_request(conn, &q, &r);
        if (post) {
            cr_assert_eq(rc, ACL_ECLOSED, "rc %d", rc); /* a POST may have been applied */
            cr_assert_eq(acl_conn_connects(conn), 1);
        } else {
            cr_assert_eq(rc, 0, "%s", acl_conn_error(conn));
            cr_assert_str_eq(r.body, "retry");
            cr_assert_eq(acl_conn_connects(conn), 2);
        }
        acl_http_resp_free(&r);
        acl_conn_free(conn);
        fake_stop(s);
    }
}

Test(http, connection_close_and_body_until_eof)
{
    canned c = {.reply = {"HTTP/1.0 200 OK\r\nContent-Type: text/csv\r\n\r\na,b\r\n1,2\r\n"}};
    acl_http_resp r;
    cr_assert_eq(get_once(&c, 1, 2000, &r), 0);
    cr_assert_not(r.keep_alive);
    cr_assert_str_eq(r.body, "a,b\r\n1,2\r\n");
    acl_http_resp_free(&r);
}

Test(http, interim_100_skipped)
{
    canned c = {.reply = {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                          "Content-Length: 2\r\nConnection: close\r\n\r\n{}"}};
    acl_http_resp r;
    cr_assert_eq(get_once(&c, 1, 2000, &r), 0);
    cr_assert_eq(r.status, 201);
    cr_assert_not(r.keep_alive);
    acl_http_resp_free(&r);
}

Test(http, api_error_401)
{
    canned c = {
        .reply = {"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                  "Content-Length: 60\r\n\r\n"
                  "{\"error\":{\"code\":\"unauthorized\",\"message\":\"unknown token\"}}\n"}};
    acl_http_resp r;
    cr_assert_eq(get_once(&c, 1, 2000, &r), 0);
    cr_assert_eq(r.status, 401);
    char code[32], msg[64];
    cr_assert(acl_api_error(&r, code, sizeof code, msg, sizeof msg));
    cr_assert_str_eq(code, "unauthorized");
    cr_assert_str_eq(msg, "unknown token");
    acl_http_resp_free(&r);

    canned d = {
        .reply = {"HTTP/1.1 429 Too Many\r\nRetry-After: 30\r\nContent-Length: 4\r\n\r\nslow"}};
    cr_assert_eq(get_once(&d, 1, 2000, &r), 0);
    cr_assert_eq(r.retry_after, 30);
    cr_assert_not(acl_api_error(&r, code, sizeof code, msg, sizeof msg));
    cr_assert_str_eq(code, "");
    acl_http_resp_free(&r);
}

/* Each answer below must be refused with the given code. */
typedef struct bad_case {
    const char *reply;
    int rc;
} bad_case;

static const bad_case bad_cases[] = {
    {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", ACL_EPROTO}, /* truncated body */
    {"HTTP/1.1 200 OK\r\nContent-", ACL_EPROTO},                      /* truncated head */
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", ACL_EPROTO}, /* cut chunk */
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", ACL_EPROTO},
    {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999\r\n\r\n", ACL_ETOOBIG},
    {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", ACL_ETOOBIG},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", ACL_ETOOBIG},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ACL_EPROTO},
    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", ACL_EPROTO},
    {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", ACL_EPROTO},
    {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", ACL_EPROTO},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", ACL_EPROTO},
    {"HTTP/2 200\r\n\r\n", ACL_EPROTO},
    {"HTTP/1.1 20 OK\r\n\r\n", ACL_EPROTO},
    {"SSH-2.0-OpenSSH\r\n\r\n", ACL_EPROTO},
    {"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", ACL_EPROTO},
    {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", ACL_EPROTO},
    {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", ACL_EPROTO},
    {"HTTP/1.1 101 Switching Protocols\r\n\r\n", ACL_EPROTO},
    {"", ACL_ECLOSED}, /* closed without a byte */
};

Test(http, refuses_bad_answers)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        canned c = {.reply = {bad_cases[i].reply}};
        acl_http_resp r;
        int rc = get_once(&c, 1, 2000, &r);
        cr_assert_eq(rc, bad_cases[i].rc, "case %zu: got %d (%s)", i, rc, acl_strerror(rc));
        cr_assert_null(r.body, "case %zu", i);
        cr_assert_null(r.headers, "case %zu", i);
    }
}

Test(http, caps_head_headers_and_body)
{
    /* a 20 KiB header line */
    static char big[24 * 1024];
    strcpy(big, "HTTP/1.1 200 OK\r\nX-Big: ");
    size_t n = strlen(big);
    memset(big + n, 'a', 20 * 1024);
    strcpy(big + n + 20 * 1024, "\r\n\r\n");
    canned c = {.reply = {big}};
    acl_http_resp r;
    cr_assert_eq(get_once(&c, 1, 2000, &r), ACL_ETOOBIG);

    /* 100 header lines */
    static char many[4096];
    strcpy(many, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 100; i++)
        strcat(many, "X-A: b\r\n");
    strcat(many, "\r\n");
    canned d = {.reply = {many}};
    cr_assert_eq(get_once(&d, 1, 2000, &r), ACL_ETOOBIG);

    /* a body over the connection's cap, announced and chunked */
    for (int k = 0; k < 2; k++) {
        canned e = {.reply = {k ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
                                : "HTTP/1.1 200 OK\r\nContent-Length: 32\r\n\r\n"}};
        fake_server *s = fake_start(canned_script, &e, 1);
        acl_conn *conn;
        cr_assert_eq(acl_conn_new(fake_addr(s), 2000, &conn, NULL), 0);
        acl_conn_set_max_body(conn, 20);
        acl_http_req q = {.method = "GET", .target = "/"};
        cr_assert_eq(acl_http_request(conn, &q, &r), ACL_ETOOBIG, "k=%d", k);
        cr_assert_not(acl_conn_is_open(conn));
        acl_conn_free(conn);
        fake_stop(s);
    }
}

Test(http, times_out_against_a_silent_server)
{
    canned c = {.wait_eof = true}; /* reads the request, never answers */
    long long t0 = now_ms();
    acl_http_resp r;
    cr_assert_eq(get_once(&c, 1, 200, &r), ACL_ETIMEOUT);
    long long took = now_ms() - t0;
    cr_assert(took >= 150 && took < 2000, "took %lld ms", took);
}

Test(http, connection_refused)
{
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", fake_dead_port());
    acl_conn *conn;
    cr_assert_eq(acl_conn_new(addr, 1000, &conn, NULL), 0);
    acl_http_req q = {.method = "GET", .target = "/v1/health"};
    acl_http_resp r;
    cr_assert_eq(acl_http_request(conn, &q, &r), ACL_ECONNECT);
    cr_assert_not_null(strstr(acl_conn_error(conn), "refused"), "%s", acl_conn_error(conn));
    acl_conn_free(conn);
}

Test(http, refuses_bad_requests_before_sending)
{
    acl_conn *conn;
    cr_assert_eq(acl_conn_new("127.0.0.1:1", 1000, &conn, NULL), 0);
    acl_http_resp r;
    acl_http_req bad[] = {
        {.method = "GET", .target = "no-slash"},
        {.method = "GET", .target = "/a b"},
        {.method = "G T", .target = "/"},
        {.method = "GET", .target = "/", .bearer = "x\r\nInjected: 1"},
        {.method = "GET", .target = "/", .ticket_secret = "a\nb"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(acl_http_request(conn, &bad[i], &r), ACL_EARG, "case %zu", i);
    cr_assert_eq(acl_conn_connects(conn), 0);
    acl_conn_free(conn);
}
