/*
 * snapshot.c — libFuzzer target: eng_snapshot_decode on arbitrary bytes (a
 * snapshot read back from storage). When accepted, encoding the hall and
 * decoding that encoding must succeed, and encoding again must give the same
 * bytes (abort otherwise).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    eng_hall *h1 = NULL, *h2 = NULL;
    char *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    char msg[200];
    msg[0] = 0;
    if (eng_snapshot_decode((const char *)data, size, &h1, msg) != 0) {
        if (!memchr(msg, 0, sizeof msg))
            abort();
        return 0;
    }
    if (!h1)
        abort();
    if (eng_snapshot_encode(h1, &b1, &l1) != 0)
        abort();
    if (eng_snapshot_decode(b1, l1, &h2, msg) != 0)
        abort(); /* what we wrote we must be able to read */
    if (eng_snapshot_encode(h2, &b2, &l2) != 0)
        abort();
    if (l1 != l2 || memcmp(b1, b2, l1) != 0)
        abort();
    free(b1);
    free(b2);
    eng_hall_free(h1);
    eng_hall_free(h2);
    return 0;
}
