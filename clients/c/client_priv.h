/*
 * client_priv.h — what the files of clients/c share and nobody else sees:
 * the connection struct with its read buffer, deadline-bounded socket I/O
 * (conn.c), and reading an HTTP response (http_client.c) for the WebSocket
 * handshake (ws_client.c). Everything public is in client.h.
 */
#ifndef ACL_CLIENT_PRIV_H
#define ACL_CLIENT_PRIV_H

#include "client.h"

#define ACL_RBUF (ACL_MAX_HEAD + 4096) /* holds a whole response head plus slack */

struct acl_conn {
    int fd; /* -1 when not connected */
    int timeout_ms;
    size_t max_body;
    acl_addr addr;
    char hostport[272]; /* the Host header: host or [v6], ":port" */
    /* received bytes not yet consumed: rbuf[rpos..rlen) */
    unsigned char rbuf[ACL_RBUF];
    size_t rpos, rlen;
    uint64_t rx_bytes;      /* bytes received on the current socket */
    unsigned connects;      /* TCP connections made */
    unsigned requests_done; /* complete responses on the current socket */
    char err[ACL_ERRLEN];
};

/* Monotonic milliseconds; a deadline is now + timeout. */
int64_t acl_io_now_ms(void);
int64_t acl_io_deadline(int timeout_ms);

/* Sets c->err from fmt and returns rc. */
int acl_io_fail(acl_conn *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Connects c (closing any earlier socket) before deadline. 0 or ACL_ECONNECT. */
int acl_io_connect(acl_conn *c, int64_t deadline);

/* Closes the socket and drops buffered bytes. */
void acl_io_close(acl_conn *c);

/*
 * Reads more bytes into rbuf (moving unconsumed bytes to the front first).
 * 0 when at least one byte arrived; ACL_ECLOSED at EOF, ACL_ETIMEOUT,
 * ACL_EIO, or ACL_ETOOBIG when rbuf is full.
 */
int acl_io_fill(acl_conn *c, int64_t deadline);

/* Reads exactly n bytes into dst (buffered bytes first). 0 or as acl_io_fill. */
int acl_io_read(acl_conn *c, void *dst, size_t n, int64_t deadline);

/*
 * Reads one line ending in "\n" (a "\r" before it is dropped) into out
 * (cap bytes, NUL-terminated). ACL_EPROTO when longer than cap - 1.
 */
int acl_io_line(acl_conn *c, char *out, size_t cap, int64_t deadline);

/* Writes all n bytes before deadline. 0, ACL_ETIMEOUT, ACL_ECLOSED or ACL_EIO. */
int acl_io_write(acl_conn *c, const void *p, size_t n, int64_t deadline);

/*
 * Reads one response (its head, then its body unless it is a 101 and
 * upgrade is set) into *resp. method is the request's (HEAD has no body).
 * 1xx other than an expected 101 are skipped. Returns 0 or ACL_E* with
 * c->err set; resp is left empty on failure.
 */
int acl_http_read_response(acl_conn *c, const char *method, bool upgrade, int64_t deadline,
                           acl_http_resp *resp);

/* Base64 of n bytes into out (4 * ceil(n / 3) + 1 bytes, NUL-terminated). */
void acl_base64(const void *p, size_t n, char *out);

#endif /* ACL_CLIENT_PRIV_H */
