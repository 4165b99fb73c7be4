/*
 * fake_server.c — see fake_server.h. Blocking sockets, every read behind a
 * poll with FK_WAIT_MS, so a script can never hang a test.
 */
#include "client/fake_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"

struct fake_server {
    int lfd;
    int nconns, accepted;
    fake_script script;
    void *arg;
    pthread_t th;
    char addr[32];
};

static bool wait_in(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (int i = 0; i < 100; i++) {
        int n = poll(&p, 1, FK_WAIT_MS);
        if (n > 0)
            return true;
        if (n == 0 || errno != EINTR)
            return false;
    }
    return false;
}

static void *serve(void *p)
{
    fake_server *s = p;
    for (int i = 0; i < s->nconns; i++) {
        if (!wait_in(s->lfd))
            break;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            break;
        s->accepted++;
        s->script(fd, i, s->arg);
        close(fd);
    }
    return NULL;
}

fake_server *fake_start(fake_script script, void *arg, int nconns)
{
    fake_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->script = script;
    s->arg = arg;
    s->nconns = nconns;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->lfd, 8) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0) {
        if (s->lfd >= 0)
            close(s->lfd);
        free(s);
        return NULL;
    }
    snprintf(s->addr, sizeof s->addr, "127.0.0.1:%d", ntohs(a.sin_port));
    if (pthread_create(&s->th, NULL, serve, s) != 0) {
        close(s->lfd);
        free(s);
        return NULL;
    }
    return s;
}

const char *fake_addr(const fake_server *s)
{
    return s->addr;
}

void fake_stop(fake_server *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
    free(s);
}

int fake_accepted(const fake_server *s)
{
    return s->accepted;
}

int fake_dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd); /* bound but never listening: connecting is refused */
    return ntohs(a.sin_port);
}

/* ---- helpers -------------------------------------------------------------------- */

bool fk_write(int fd, const void *p, size_t n)
{
    const char *s = p;
    for (int i = 0; n > 0 && i < 10000; i++) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        s += k;
        n -= (size_t)k;
    }
    return n == 0;
}

bool fk_write_str(int fd, const char *s)
{
    return fk_write(fd, s, strlen(s));
}

bool fk_read(int fd, void *p, size_t n)
{
    char *d = p;
    for (int i = 0; n > 0 && i < 100000; i++) {
        if (!wait_in(fd))
            return false;
        ssize_t k = recv(fd, d, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        d += k;
        n -= (size_t)k;
    }
    return n == 0;
}

bool fk_read_request(int fd, char *head, size_t cap, char *body, size_t body_cap, size_t *body_len)
{
    size_t k = 0;
    if (body_len)
        *body_len = 0;
    while (k + 1 < cap) {
        if (!fk_read(fd, head + k, 1))
            return false;
        k++;
        head[k] = '\0';
        if (k >= 4 && memcmp(head + k - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    if (k + 1 >= cap)
        return false;
    const char *cl = strcasestr(head, "\r\nContent-Length:");
    size_t n = cl ? strtoul(cl + 17, NULL, 10) : 0;
    if (n > body_cap)
        return false;
    if (n && !fk_read(fd, body, n))
        return false;
    if (body_len)
        *body_len = n;
    return true;
}

bool fk_wait_eof(int fd)
{
    char b[256];
    for (int i = 0; i < 1000; i++) {
        if (!wait_in(fd))
            return false;
        ssize_t k = recv(fd, b, sizeof b, 0);
        if (k == 0 || (k < 0 && errno == ECONNRESET))
            return true;
        if (k < 0 && errno != EINTR)
            return false;
    }
    return false;
}

/* Base64 for the accept key (the library's own is private). */
static void b64(const unsigned char *p, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[k++] = t[v >> 18], out[k++] = t[(v >> 12) & 63];
        out[k++] = t[(v >> 6) & 63], out[k++] = t[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        out[k++] = t[v >> 18], out[k++] = t[(v >> 12) & 63], out[k++] = '=', out[k++] = '=';
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        out[k++] = t[v >> 18], out[k++] = t[(v >> 12) & 63];
        out[k++] = t[(v >> 6) & 63], out[k++] = '=';
    }
    out[k] = '\0';
}

bool fk_ws_accept(int fd, const char *proto, const char *bad_accept, char *head, size_t cap)
{
    if (!fk_read_request(fd, head, cap, NULL, 0, NULL))
        return false;
    const char *k = strcasestr(head, "\r\nSec-WebSocket-Key:");
    if (!k)
        return false;
    k += 20;
    while (*k == ' ')
        k++;
    char key[64];
    size_t n = strcspn(k, "\r\n");
    if (n >= 40)
        return false;
    memcpy(key, k, n);
    strcpy(key + n, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)key, strlen(key), sha);
    char acc[40];
    b64(sha, sizeof sha, acc);
    char resp[512];
    snprintf(resp, sizeof resp,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
             bad_accept ? bad_accept : acc, proto ? "Sec-WebSocket-Protocol: " : "",
             proto ? proto : "", proto ? "\r\n" : "");
    return fk_write_str(fd, resp);
}

bool fk_ws_frame(int fd, bool fin, int opcode, const void *payload, size_t len)
{
    uint8_t h[10];
    size_t n = 0;
    h[n++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        h[n++] = (uint8_t)len;
    } else if (len <= 0xffff) {
        h[n++] = 126, h[n++] = (uint8_t)(len >> 8), h[n++] = (uint8_t)len;
    } else {
        h[n++] = 127;
        for (int k = 7; k >= 0; k--)
            h[n++] = (uint8_t)((uint64_t)len >> (8 * k));
    }
    return fk_write(fd, h, n) && (len == 0 || fk_write(fd, payload, len));
}

bool fk_ws_read_frame(int fd, fk_frame *f)
{
    uint8_t h[8], key[4] = {0};
    memset(f, 0, sizeof *f);
    if (!fk_read(fd, h, 2))
        return false;
    f->fin = h[0] >> 7;
    f->opcode = h[0] & 15;
    f->masked = h[1] >> 7;
    uint64_t n = h[1] & 127;
    if (n == 126) {
        if (!fk_read(fd, h, 2))
            return false;
        n = (uint64_t)h[0] << 8 | h[1];
    } else if (n == 127) {
        if (!fk_read(fd, h, 8))
            return false;
        n = 0;
        for (int k = 0; k < 8; k++)
            n = n << 8 | h[k];
    }
    if (n > sizeof f->payload)
        return false;
    if (f->masked && !fk_read(fd, key, 4))
        return false;
    if (n && !fk_read(fd, f->payload, (size_t)n))
        return false;
    for (size_t i = 0; i < n; i++)
        f->payload[i] ^= key[i & 3];
    f->len = (size_t)n;
    return true;
}
