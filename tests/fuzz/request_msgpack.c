/*
 * request_msgpack.c — libFuzzer target: codec_request_msgpack on arbitrary
 * bytes (a WebSocket binary frame). Must never crash, read out of bounds,
 * allocate from untrusted length headers or leak; on success the command's
 * pointers must point into the request itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

#define FUZZ_MAX_INPUT (64 * 1024)

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    codec_request *req = malloc(sizeof(*req));
    if (!req)
        return 0;
    char msg[200];
    memset(req, 0xA5, sizeof(*req));
    msg[0] = 0;
    int rc = codec_request_msgpack((const char *)data, size, req, msg);
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
