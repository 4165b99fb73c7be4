/*
 * conn.c — one TCP connection with a read buffer, and socket I/O bounded by
 * deadlines.
 *
 * The socket is non-blocking and every wait is a poll() with the time left
 * before the operation's deadline, so a silent or trickling server can
 * never hold a caller past its timeout. Writes use MSG_NOSIGNAL: a peer
 * that went away gives ACL_ECLOSED, never SIGPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_priv.h"

const char *acl_strerror(int rc)
{
    switch (rc) {
    case ACL_OK:
        return "ok";
    case ACL_EARG:
        return "bad argument";
    case ACL_ENOMEM:
        return "out of memory";
    case ACL_ECONNECT:
        return "cannot connect";
    case ACL_ETIMEOUT:
        return "timeout";
    case ACL_ECLOSED:
        return "connection closed";
    case ACL_EPROTO:
        return "protocol error";
    case ACL_ETOOBIG:
        return "too large";
    case ACL_EIO:
        return "i/o error";
    default:
        return "unknown error";
    }
}

/* ---- time and errors ---------------------------------------------------- */

int64_t acl_io_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t acl_io_deadline(int timeout_ms)
{
    return acl_io_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
}

int acl_io_fail(acl_conn *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* Waits for events on c->fd until deadline: 0 when ready, else ACL_ETIMEOUT or ACL_EIO. */
static int wait_fd(acl_conn *c, short events, int64_t deadline, const char *what)
{
    /* EINTR restarts; the deadline still bounds the total wait */
    for (int tries = 0; tries < 1000; tries++) {
        int64_t left = deadline - acl_io_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = c->fd, .events = events};
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return acl_io_fail(c, ACL_EIO, "poll: %s", strerror(errno));
    }
    return acl_io_fail(c, ACL_ETIMEOUT, "timed out %s %s", what, c->hostport);
}

/* ---- connecting ---------------------------------------------------------- */

int acl_conn_new(const char *server, int timeout_ms, acl_conn **out, char err[ACL_ERRLEN])
{
    *out = NULL;
    acl_addr a;
    int rc = acl_addr_parse(server, &a, err);
    if (rc)
        return rc;
    acl_conn *c = calloc(1, sizeof *c);
    if (!c)
        return ACL_ENOMEM;
    c->fd = -1;
    c->timeout_ms = timeout_ms;
    c->max_body = ACL_DEFAULT_MAX_BODY;
    c->addr = a;
    bool v6 = strchr(a.host, ':') != NULL;
    snprintf(c->hostport, sizeof c->hostport, v6 ? "[%s]:%s" : "%s:%s", a.host, a.port);
    *out = c;
    return 0;
}

void acl_io_close(acl_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->rpos = c->rlen = 0;
    c->rx_bytes = 0;
    c->requests_done = 0;
}

void acl_conn_free(acl_conn *c)
{
    if (!c)
        return;
    acl_io_close(c);
    free(c);
}

void acl_conn_close(acl_conn *c)
{
    acl_io_close(c);
}

bool acl_conn_is_open(const acl_conn *c)
{
    return c->fd >= 0;
}

void acl_conn_set_timeout(acl_conn *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms;
}

void acl_conn_set_max_body(acl_conn *c, size_t max)
{
    c->max_body = max;
}

const char *acl_conn_error(const acl_conn *c)
{
    return c->err;
}

const acl_addr *acl_conn_addr(const acl_conn *c)
{
    return &c->addr;
}

unsigned acl_conn_connects(const acl_conn *c)
{
    return c->connects;
}

/* One address: 0 connected, else errno-like code in *why. */
static int try_addr(acl_conn *c, const struct addrinfo *ai, int64_t deadline, int *why)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *why = errno;
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        *why = errno;
        close(fd);
        return -1;
    }
    c->fd = fd;
    if (wait_fd(c, POLLOUT, deadline, "connecting to") != 0) {
        *why = ETIMEDOUT;
        c->fd = -1;
        close(fd);
        return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    if (soerr != 0) {
        *why = soerr;
        c->fd = -1;
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

int acl_io_connect(acl_conn *c, int64_t deadline)
{
    acl_io_close(c);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(c->addr.host, c->addr.port, &hints, &res);
    if (g != 0)
        return acl_io_fail(c, ACL_ECONNECT, "cannot resolve %s: %s", c->addr.host, gai_strerror(g));
    int why = ECONNREFUSED;
    int n = 0;
    for (struct addrinfo *ai = res; ai && n < 16; ai = ai->ai_next, n++) {
        if (try_addr(c, ai, deadline, &why) == 0) {
            freeaddrinfo(res);
            c->connects++;
            c->err[0] = '\0';
            return 0;
        }
        if (acl_io_now_ms() >= deadline)
            break;
    }
    freeaddrinfo(res);
    if (why == ETIMEDOUT)
        return acl_io_fail(c, ACL_ECONNECT, "cannot connect to %s: timed out", c->hostport);
    return acl_io_fail(c, ACL_ECONNECT, "cannot connect to %s: %s", c->hostport, strerror(why));
}

int acl_conn_connect(acl_conn *c)
{
    if (c->fd >= 0)
        return 0;
    return acl_io_connect(c, acl_io_deadline(c->timeout_ms));
}

/* ---- reading and writing ------------------------------------------------- */

int acl_io_fill(acl_conn *c, int64_t deadline)
{
    if (c->fd < 0)
        return acl_io_fail(c, ACL_ECLOSED, "not connected");
    if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rlen == sizeof c->rbuf)
        return acl_io_fail(c, ACL_ETOOBIG, "read buffer full (%zu bytes)", sizeof c->rbuf);
    for (int tries = 0; tries < 1000; tries++) {
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, 0);
        if (n > 0) {
            c->rlen += (size_t)n;
            c->rx_bytes += (uint64_t)n;
            return 0;
        }
        if (n == 0)
            return acl_io_fail(c, ACL_ECLOSED, "%s closed the connection", c->hostport);
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return acl_io_fail(c, errno == ECONNRESET ? ACL_ECLOSED : ACL_EIO,
                               "receiving from %s: %s", c->hostport, strerror(errno));
        int rc = wait_fd(c, POLLIN, deadline, "waiting for");
        if (rc)
            return rc;
    }
    return acl_io_fail(c, ACL_EIO, "receiving from %s: no progress", c->hostport);
}

int acl_io_read(acl_conn *c, void *dst, size_t n, int64_t deadline)
{
    unsigned char *d = dst;
    while (n > 0) {
        if (c->rpos == c->rlen) {
            c->rpos = c->rlen = 0;
            int rc = acl_io_fill(c, deadline);
            if (rc)
                return rc;
        }
        size_t k = c->rlen - c->rpos;
        if (k > n)
            k = n;
        memcpy(d, c->rbuf + c->rpos, k);
        c->rpos += k;
        d += k;
        n -= k;
    }
    return 0;
}

int acl_io_line(acl_conn *c, char *out, size_t cap, int64_t deadline)
{
    size_t scanned = 0;
    /* each round reads at least one byte, and a line is at most cap bytes */
    for (size_t round = 0; round <= cap + 1; round++) {
        unsigned char *s = c->rbuf + c->rpos;
        size_t avail = c->rlen - c->rpos;
        unsigned char *nl = memchr(s + scanned, '\n', avail - scanned);
        if (nl) {
            size_t len = (size_t)(nl - s);
            size_t keep = len > 0 && s[len - 1] == '\r' ? len - 1 : len;
            if (keep >= cap)
                return acl_io_fail(c, ACL_EPROTO, "line longer than %zu bytes", cap - 1);
            memcpy(out, s, keep);
            out[keep] = '\0';
            c->rpos += len + 1;
            return 0;
        }
        scanned = avail;
        if (avail >= cap + 1)
            return acl_io_fail(c, ACL_EPROTO, "line longer than %zu bytes", cap - 1);
        int rc = acl_io_fill(c, deadline);
        if (rc)
            return rc;
    }
    return acl_io_fail(c, ACL_EPROTO, "line longer than %zu bytes", cap - 1);
}

int acl_io_write(acl_conn *c, const void *p, size_t n, int64_t deadline)
{
    const char *s = p;
    if (c->fd < 0)
        return acl_io_fail(c, ACL_ECLOSED, "not connected");
    /* each successful send makes progress; EAGAIN waits count against the deadline */
    for (unsigned long tries = 0; n > 0 && tries < 100000; tries++) {
        ssize_t k = send(c->fd, s, n, MSG_NOSIGNAL);
        if (k > 0) {
            s += k;
            n -= (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(c, POLLOUT, deadline, "sending to");
            if (rc)
                return rc;
            continue;
        }
        if (k < 0 && (errno == EPIPE || errno == ECONNRESET))
            return acl_io_fail(c, ACL_ECLOSED, "%s closed the connection", c->hostport);
        return acl_io_fail(c, ACL_EIO, "sending to %s: %s", c->hostport,
                           k < 0 ? strerror(errno) : "no progress");
    }
    return n == 0 ? 0 : acl_io_fail(c, ACL_EIO, "sending to %s: no progress", c->hostport);
}
