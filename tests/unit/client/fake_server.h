/*
 * fake_server.h — a tiny in-process server for the client library's tests.
 *
 * It listens on 127.0.0.1 at a free port chosen by the kernel and runs a
 * script (a function) on its own thread for each connection it accepts, one
 * after the other. Scripts talk raw bytes through the fk_* helpers, which
 * are all bounded: every wait is a poll of at most FK_WAIT_MS, every loop
 * has a count limit. Scripts record what they saw in their own struct (arg)
 * and never assert: the test reads the struct after fake_stop() joined the
 * thread.
 */
#ifndef FAKE_SERVER_H
#define FAKE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FK_WAIT_MS 3000

/* Runs on the server thread for connection number conn (0, 1, ...); fd is closed afterwards. */
typedef void (*fake_script)(int fd, int conn, void *arg);

typedef struct fake_server fake_server;

/* Starts serving up to nconns connections with script(arg); arg is borrowed. NULL on failure. */
fake_server *fake_start(fake_script script, void *arg, int nconns);
/* "127.0.0.1:PORT"; points into s. */
const char *fake_addr(const fake_server *s);
/* Waits for the thread (bounded by the scripts' own waits), closes and frees. */
void fake_stop(fake_server *s);
/* Connections accepted so far (read after fake_stop). */
int fake_accepted(const fake_server *s);

/* A port on 127.0.0.1 where nobody listens (bound, then closed). */
int fake_dead_port(void);

/* ---- script helpers --------------------------------------------------------- */

bool fk_write(int fd, const void *p, size_t n);
bool fk_write_str(int fd, const char *s);
/* Reads exactly n bytes (false on EOF or after FK_WAIT_MS). */
bool fk_read(int fd, void *p, size_t n);
/*
 * Reads one request head byte by byte (up to and including the blank line)
 * into head (NUL-terminated), then a Content-Length body into body. Returns
 * false on EOF, timeout or overflow.
 */
bool fk_read_request(int fd, char *head, size_t cap, char *body, size_t body_cap, size_t *body_len);
/* Waits up to FK_WAIT_MS for the peer to close; true when it did. */
bool fk_wait_eof(int fd);

/*
 * Answers a WebSocket handshake read from fd: 101 with the right
 * Sec-WebSocket-Accept (or bad_accept instead, when not NULL) and the
 * subprotocol proto (none when NULL). head receives the request head.
 */
bool fk_ws_accept(int fd, const char *proto, const char *bad_accept, char *head, size_t cap);
/* Writes one unmasked server frame. */
bool fk_ws_frame(int fd, bool fin, int opcode, const void *payload, size_t len);

/* One frame as the client sent it. payload is unmasked; at most cap bytes are kept. */
typedef struct fk_frame {
    bool fin, masked;
    int opcode;
    size_t len;
    uint8_t payload[512];
} fk_frame;
bool fk_ws_read_frame(int fd, fk_frame *f);

#endif
