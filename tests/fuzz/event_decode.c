/*
 * event_decode.c — libFuzzer target: codec_event_decode on arbitrary bytes
 * (a stored event read back from the log). When it accepts the bytes, the
 * decoded event must round-trip: encode (full) → decode must succeed, and a
 * second encode must give the same bytes as the first (abort otherwise).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    eng_event *ev1 = calloc(1, sizeof(*ev1)), *ev2 = calloc(1, sizeof(*ev2));
    eng_evbuf a1, a2;
    codec_buf b1, b2;
    char msg[200];
    eng_evbuf_init(&a1);
    eng_evbuf_init(&a2);
    codec_buf_init(&b1);
    codec_buf_init(&b2);
    if (!ev1 || !ev2)
        goto out;
    msg[0] = 0;
    if (codec_event_decode((const char *)data, size, ev1, &a1, msg) != 0) {
        if (!memchr(msg, 0, sizeof msg))
            abort();
        goto out;
    }
    if (ev1->type < ENG_EV_TICKET_ISSUED || ev1->type >= ENG_EV__COUNT)
        abort();
    if (codec_event_msgpack(ev1, CODEC_FULL, &b1) != 0)
        abort();
    if (codec_event_decode(b1.data, b1.len, ev2, &a2, msg) != 0)
        abort(); /* what we wrote we must be able to read */
    if (codec_event_msgpack(ev2, CODEC_FULL, &b2) != 0)
        abort();
    if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
        abort();
    /* The other encodings must not fail on an accepted event either, except
     * that a hall.config whose config_json is not a JSON object (the decoder
     * takes it as an opaque string) has no public form. */
    bool cfg_ev = ev2->type == ENG_EV_HALL_CONFIG;
    codec_buf_reset(&b2);
    if (codec_event_msgpack(ev2, CODEC_PUBLIC, &b2) != 0 && !cfg_ev)
        abort();
    codec_buf_reset(&b2);
    if (codec_event_json(ev2, CODEC_PUBLIC, &b2) != 0 && !cfg_ev)
        abort();
    codec_buf_reset(&b2);
    if (codec_event_json(ev2, CODEC_FULL, &b2) != 0)
        abort();
out:
    codec_buf_free(&b1);
    codec_buf_free(&b2);
    eng_evbuf_free(&a1);
    eng_evbuf_free(&a2);
    free(ev1);
    free(ev2);
    return 0;
}
