/*
 * codec_json.c — requests that arrive as JSON (SPEC §5, antrean.v1.json).
 *
 * jansson parses (duplicate keys rejected; the caller has bounded the size at
 * 64 KiB), the document is re-packed as msgpack, and codec_request_msgpack
 * does all field validation: one validator for both encodings, so the two
 * cannot drift. jansson's own error text is never passed on, because it
 * quotes the input near the error and that may be citizen data.
 */
#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"

#define JSON_MAX_DEPTH 8 /* as the msgpack reader's cap */

static int write_cb(void *data, const char *buf, size_t len)
{
    return codec_buf_append(data, buf, len) ? -1 : 0;
}

/* 0, -1 on allocation failure, 1 when nested deeper than JSON_MAX_DEPTH. */
static int pack(msgpack_packer *pk, const json_t *j, int depth)
{
    const char *key;
    size_t klen, idx;
    json_t *item;
    int rc;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        if (depth >= JSON_MAX_DEPTH)
            return 1;
        if (msgpack_pack_map(pk, json_object_size(j)))
            return -1;
        json_object_keylen_foreach((json_t *)j, key, klen, item)
        {
            if (msgpack_pack_str_with_body(pk, key, klen))
                return -1;
            if ((rc = pack(pk, item, depth + 1)))
                return rc;
        }
        return 0;
    case JSON_ARRAY:
        if (depth >= JSON_MAX_DEPTH)
            return 1;
        if (msgpack_pack_array(pk, json_array_size(j)))
            return -1;
        json_array_foreach(j, idx, item)
        {
            if ((rc = pack(pk, item, depth + 1)))
                return rc;
        }
        return 0;
    case JSON_STRING:
        return msgpack_pack_str_with_body(pk, json_string_value(j), json_string_length(j)) ? -1 : 0;
    case JSON_INTEGER:
        return msgpack_pack_int64(pk, json_integer_value(j)) ? -1 : 0;
    case JSON_REAL:
        return msgpack_pack_double(pk, json_real_value(j)) ? -1 : 0;
    case JSON_TRUE:
        return msgpack_pack_true(pk) ? -1 : 0;
    case JSON_FALSE:
        return msgpack_pack_false(pk) ? -1 : 0;
    case JSON_NULL:
        return msgpack_pack_nil(pk) ? -1 : 0;
    }
    return -1;
}

static int parse_error(const json_error_t *err, char msg[200])
{
    switch (json_error_code(err)) {
    case json_error_out_of_memory:
        snprintf(msg, 200, "request: out of memory");
        return ANT_ENOMEM;
    case json_error_duplicate_key:
        snprintf(msg, 200, "request: duplicate field at line %d, column %d", err->line,
                 err->column);
        break;
    case json_error_stack_overflow:
        snprintf(msg, 200, "request: JSON nested too deeply");
        break;
    case json_error_invalid_utf8:
        snprintf(msg, 200, "request: invalid UTF-8 in JSON");
        break;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        snprintf(msg, 200, "request: JSON strings may not contain NUL");
        break;
    case json_error_numeric_overflow:
        snprintf(msg, 200, "request: number out of range at line %d, column %d", err->line,
                 err->column);
        break;
    case json_error_premature_end_of_input:
        snprintf(msg, 200, "request: JSON ends early");
        break;
    default:
        snprintf(msg, 200, "request: invalid JSON at line %d, column %d", err->line, err->column);
        break;
    }
    return ANT_EBADREQ;
}

int codec_request_json(const char *p, size_t len, codec_request *req, char msg[200])
{
    json_error_t err;
    memset(req, 0, sizeof *req);
    msg[0] = '\0';
    json_t *root = json_loadb(p, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!root)
        return parse_error(&err, msg);
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(msg, 200, "request: expected a JSON object");
        return ANT_EBADREQ;
    }
    codec_buf buf;
    msgpack_packer pk;
    codec_buf_init(&buf);
    msgpack_packer_init(&pk, &buf, write_cb);
    int rc = pack(&pk, root, 0);
    if (rc > 0) {
        /* too deep: still read the rid, so the error reply can carry it */
        json_t *rid = json_object_get(root, "rid");
        codec_buf_reset(&buf);
        if (rid && !json_is_object(rid) && !json_is_array(rid) && !msgpack_pack_map(&pk, 1) &&
            !msgpack_pack_str_with_body(&pk, "rid", 3) && !pack(&pk, rid, 1))
            codec_request_msgpack(buf.data, buf.len, req, msg);
        snprintf(msg, 200, "request: nesting deeper than %d levels", JSON_MAX_DEPTH);
        rc = ANT_EBADREQ;
    } else if (rc < 0) {
        snprintf(msg, 200, "request: out of memory");
        rc = ANT_ENOMEM;
    } else {
        rc = codec_request_msgpack(buf.data, buf.len, req, msg);
    }
    json_decref(root);
    codec_buf_free(&buf);
    return rc;
}
