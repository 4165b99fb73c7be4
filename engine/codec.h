/*
 * codec.h — wire and storage encodings of commands and events.
 *
 * msgpack (msgpack-c for writing, an own bounded reader for reading) and
 * JSON (written by hand into a reusable buffer; read with jansson). Decoding
 * is strict and bounded: every str/bin/array/map length is checked against
 * the bytes that remain before anything is allocated, nesting is capped, and
 * unknown or wrongly typed fields are rejected with a message naming them.
 * Public encodings never carry citizen data (phone, name, NIK), the priority
 * reason, the ticket secret, the idem key or feedback comments. No I/O here.
 */
#ifndef ENG_CODEC_H
#define ENG_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* A growable byte buffer. Owns data. */
typedef struct codec_buf {
    char *data;
    size_t len, cap;
} codec_buf;
void codec_buf_init(codec_buf *b);
void codec_buf_reset(codec_buf *b); /* len = 0, memory kept */
void codec_buf_free(codec_buf *b);
int codec_buf_append(codec_buf *b, const void *p, size_t n); /* 0 or ANT_ENOMEM */

enum codec_mode {
    CODEC_FULL = 0, /* storage: every field, citizen data included */
    CODEC_PUBLIC,   /* boards and public subscribers: see the header comment */
};

/* Ticket ids and secrets on the wire: 32 lower-case hex digits. */
void codec_hex(const uint8_t *bytes, size_t n, char *out /* 2n+1 */);
int codec_unhex(const char *s, size_t slen, uint8_t *out, size_t n); /* 0 or ANT_EBADREQ */

/*
 * Append one event as a msgpack map / a JSON object to out.
 * Field names are SPEC §5's: ev, hall, seq, at, then per type: code, service,
 * counter, priority (bool in public, reason string in full), from_service,
 * placement, state, recalls, day ("YYYY-MM-DD"), config (hall.config: the
 * config object), services (service.wait: [{id,waiting,eta_s,oldest_wait_s}]);
 * full mode adds ticket (id hex), secret, number, channel, idem, phone, name,
 * nik, score, comment. Returns 0 or ANT_ENOMEM; ANT_EINVAL-like misuse
 * (public encoding of a non-public event) returns ANT_EINTERNAL.
 */
int codec_event_msgpack(const eng_event *ev, int mode, codec_buf *out);
int codec_event_json(const eng_event *ev, int mode, codec_buf *out);

/*
 * Decode one full-mode msgpack event (as stored). Strings the event points to
 * (idem, comment, config_json) are copied into `arena` (caller-owned) and
 * live as long as it. Returns 0, or ANT_EBADREQ with msg naming the problem.
 */
int codec_event_decode(const char *p, size_t len, eng_event *ev, eng_evbuf *arena, char msg[200]);

/*
 * A request as it arrives over WebSocket (SPEC §5) or is stored as a
 * command: {"op", "rid", …fields}. All strings are copied into the struct,
 * so it owns everything and cmd's pointers point into it (do not copy the
 * struct by value after decoding; its cmd pointers are self-references).
 */
enum codec_op {
    CODEC_OP_AUTH = 1,
    CODEC_OP_SUBSCRIBE,
    CODEC_OP_UNSUBSCRIBE,
    CODEC_OP_PING,
    CODEC_OP_COMMAND, /* cmd is filled: issue, call, recall, start, finish, no_show,
                         reinstate, cancel, feedback, counter_open/close/pause/resume */
};
typedef struct codec_request {
    int op; /* enum codec_op */
    char op_name[24];
    /* rid: echoed back as given; any of nil, int, uint, string (≤ 64 bytes) */
    int rid_type; /* 0 absent, 1 int, 2 uint, 3 string */
    int64_t rid_i;
    uint64_t rid_u;
    char rid_s[65];
    char hall[ENG_ID_MAX + 1];
    char token[129]; /* auth */
    bool has_since;
    uint64_t since;         /* subscribe */
    char ticket_secret[33]; /* cancel/feedback by a citizen: hex secret, "" when absent */
    eng_cmd cmd;            /* op == CODEC_OP_COMMAND */
    /* storage behind cmd's pointers */
    char s_service[ENG_ID_MAX + 1], s_counter[ENG_ID_MAX + 1], s_transfer[ENG_ID_MAX + 1];
    char s_idem[ENG_IDEM_MAX + 1], s_phone[ENG_PHONE_MAX + 1], s_name[ENG_PERSON_NAME_MAX + 1],
        s_nik[ENG_NIK_LEN + 1], s_comment[ENG_COMMENT_MAX + 1];
    char s_date[11], s_slot[6], s_booking[17];
} codec_request;

/*
 * Decode a request from msgpack (one map) or JSON (one object). Fields by op:
 * auth {token}; subscribe {hall, since?}; unsubscribe {hall}; ping {};
 * issue {hall, service, priority?, channel?, idem?, phone?, name?, nik?};
 * call {hall, counter, ticket?}; recall/start/no_show/counter_* {hall, counter};
 * finish {hall, counter, transfer_to?, placement?}; reinstate {ticket};
 * cancel {ticket, secret?}; feedback {ticket, secret?, score, comment?};
 * book {hall, service, date, slot, idem?, phone?, name?, nik?};
 * checkin {hall, booking, idem?, channel?}; appointment_cancel {appointment, secret?}.
 * For book the caller fills cmd.tid, cmd.secret and cmd.booking (a fresh code).
 * Ticket ids come as 32 hex digits. For issue the caller fills cmd.tid and
 * cmd.secret from a CSPRNG after decoding. Returns 0, or ANT_EBADREQ with
 * msg naming the field and the problem (never echoing citizen data); rid is
 * filled whenever it could be read, so an error reply can carry it.
 */
int codec_request_msgpack(const char *p, size_t len, codec_request *req, char msg[200]);
int codec_request_json(const char *p, size_t len, codec_request *req, char msg[200]);

#endif
