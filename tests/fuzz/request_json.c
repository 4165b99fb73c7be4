/*
 * request_json.c — libFuzzer target: codec_request_json on arbitrary
 * bytes (a WebSocket text frame). Must never crash, read out of bounds,
 * allocate from untrusted length headers or leak; on success the command's
 * pointers must point into the request itself (request_check.h).
 */
#include "request_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_request(codec_request_json, data, size);
}
