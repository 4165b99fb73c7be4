/*
 * request_check.h — the shared body of the two request fuzz targets
 * (request_json.c, request_msgpack.c): decode arbitrary bytes with the given
 * decoder and abort() on anything a caller could trip over: a crash, an
 * out-of-range op or command type, a command string that does not point
 * into the request, an unterminated error message.
 */
#ifndef FUZZ_REQUEST_CHECK_H
#define FUZZ_REQUEST_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

#define FUZZ_MAX_INPUT (64 * 1024)

typedef int (*fuzz_request_decoder)(const char *p, size_t len, codec_request *req, char msg[200]);

static void check_str(const codec_request *req, const char *p)
{
    if (!p)
        return;
    const char *lo = (const char *)req, *hi = (const char *)(req + 1);
    if (p < lo || p >= hi)
        abort(); /* command strings are owned by the request */
    if (!memchr(p, 0, (size_t)(hi - p)))
        abort();
}

static int fuzz_request(fuzz_request_decoder decode, const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    codec_request *req = malloc(sizeof(*req));
    if (!req)
        return 0;
    char msg[200];
    memset(req, 0xA5, sizeof(*req));
    msg[0] = 0;
    int rc = decode((const char *)data, size, req, msg);
    if (rc == 0) {
        if (req->op < CODEC_OP_AUTH || req->op > CODEC_OP_COMMAND)
            abort();
        if (req->op == CODEC_OP_COMMAND) {
            if (req->cmd.type < ENG_CMD_ISSUE || req->cmd.type >= ENG_CMD__COUNT)
                abort();
            check_str(req, req->cmd.service);
            check_str(req, req->cmd.counter);
            check_str(req, req->cmd.transfer_to);
            check_str(req, req->cmd.idem);
            check_str(req, req->cmd.phone);
            check_str(req, req->cmd.name);
            check_str(req, req->cmd.nik);
            check_str(req, req->cmd.comment);
        }
    } else if (!memchr(msg, 0, sizeof msg)) {
        abort(); /* the message must be a terminated string */
    }
    free(req);
    return 0;
}

#endif
