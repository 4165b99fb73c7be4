/*
 * snapshot.c — the whole hall state as one msgpack array, and back.
 *
 * Positional arrays, not maps: the layout is private to this file and
 * versioned by its first two items. Estimates (positions, etas) are left
 * out: they are derived and recomputed on the next read. Equal states give
 * equal bytes, which is how tests compare a live hall with a replayed one.
 * Decoding uses the codec's bounded reader and trusts no length.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "codec_priv.h"
#include "hall_priv.h"

#define SNAP_MAGIC "antrean-snap"
/* 2: bookings (SPEC §11) as a 14th item, SKM elements (acc sums, a ticket's
 * answers); version 1 is still read */
#define SNAP_VERSION 2

/* ---- encode ------------------------------------------------------------- */

static void pk_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pk_opt_str(msgpack_packer *pk, const char *s)
{
    if (s)
        pk_str(pk, s);
    else
        msgpack_pack_nil(pk);
}

static void pk_bin(msgpack_packer *pk, const uint8_t *b, size_t n)
{
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, b, n);
}

static void pk_acc(msgpack_packer *pk, const eng_acc *a)
{
    msgpack_pack_array(pk, 14);
    msgpack_pack_uint32(pk, a->issued);
    msgpack_pack_uint32(pk, a->served);
    msgpack_pack_uint32(pk, a->no_show);
    msgpack_pack_uint32(pk, a->cancelled);
    msgpack_pack_uint32(pk, a->expired);
    msgpack_pack_uint32(pk, a->called);
    msgpack_pack_uint32(pk, a->within_sla);
    msgpack_pack_uint64(pk, a->service_s_sum);
    msgpack_pack_uint32(pk, a->service_n);
    msgpack_pack_uint32(pk, a->skm_sum);
    msgpack_pack_uint32(pk, a->skm_n);
    msgpack_pack_array(pk, a->waits.n);
    for (uint32_t i = 0; i < a->waits.n; i++)
        msgpack_pack_uint32(pk, a->waits.v[i]);
    msgpack_pack_uint32(pk, a->skm_sum9);
    msgpack_pack_array(pk, 1 + ENG_SKM_N);
    msgpack_pack_uint32(pk, a->skm_el_n);
    for (int k = 0; k < ENG_SKM_N; k++)
        msgpack_pack_uint32(pk, a->skm_el_sum[k]);
}

static void pk_row(msgpack_packer *pk, const eng_stat_row *r)
{
    msgpack_pack_array(pk, 14);
    pk_str(pk, r->id);
    msgpack_pack_uint32(pk, r->issued);
    msgpack_pack_uint32(pk, r->served);
    msgpack_pack_uint32(pk, r->no_show);
    msgpack_pack_uint32(pk, r->cancelled);
    msgpack_pack_uint32(pk, r->expired);
    msgpack_pack_uint32(pk, r->wait_p50_s);
    msgpack_pack_uint32(pk, r->wait_p90_s);
    msgpack_pack_uint32(pk, r->wait_max_s);
    msgpack_pack_uint32(pk, r->service_mean_s);
    msgpack_pack_double(pk, r->within_sla);
    msgpack_pack_uint32(pk, r->skm_count);
    msgpack_pack_double(pk, r->skm_score);
    msgpack_pack_double(pk, r->skm_index);
}

int eng_snapshot_encode(const eng_hall *h, char **buf, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 14);
    pk_str(&pk, SNAP_MAGIC);
    msgpack_pack_uint32(&pk, SNAP_VERSION);
    msgpack_pack_str(&pk, h->cfg->json_len);
    msgpack_pack_str_body(&pk, h->cfg->json, h->cfg->json_len);
    msgpack_pack_uint64(&pk, h->seq);
    msgpack_pack_int32(&pk, h->day);
    msgpack_pack_uint64(&pk, h->order);
    msgpack_pack_int64(&pk, h->wait_ev_at);

    /* tickets: issue order */
    msgpack_pack_array(&pk, h->nall);
    for (uint32_t i = 0; i < h->nall; i++) {
        const struct eng_ticket *t = h->all[i];
        msgpack_pack_array(&pk, 23);
        pk_bin(&pk, t->tid, ENG_TID_LEN);
        pk_bin(&pk, t->secret, ENG_SECRET_LEN);
        pk_str(&pk, t->code);
        msgpack_pack_uint32(&pk, t->number);
        msgpack_pack_uint16(&pk, t->service);
        msgpack_pack_uint16(&pk, t->counter);
        msgpack_pack_uint8(&pk, t->state);
        msgpack_pack_uint8(&pk, t->prio);
        msgpack_pack_uint8(&pk, t->channel);
        msgpack_pack_uint8(&pk, t->recalls);
        msgpack_pack_uint8(&pk, t->score);
        msgpack_pack_uint8(&pk, t->wait_recorded);
        msgpack_pack_uint64(&pk, t->order);
        msgpack_pack_int64(&pk, t->issued_at);
        msgpack_pack_int64(&pk, t->enqueued_at);
        msgpack_pack_int64(&pk, t->rank_at);
        msgpack_pack_int64(&pk, t->called_at);
        msgpack_pack_int64(&pk, t->started_at);
        msgpack_pack_int64(&pk, t->finished_at);
        if (t->x && t->x->has_pii) {
            msgpack_pack_array(&pk, 3);
            pk_str(&pk, t->x->pii.phone);
            pk_str(&pk, t->x->pii.name);
            pk_str(&pk, t->x->pii.nik);
        } else {
            msgpack_pack_nil(&pk);
        }
        pk_opt_str(&pk, t->idem);
        pk_opt_str(&pk, t->x ? t->x->comment : NULL);
        if (t->x && t->x->skm[0]) {
            msgpack_pack_array(&pk, ENG_SKM_N);
            for (int k = 0; k < ENG_SKM_N; k++)
                msgpack_pack_uint8(&pk, t->x->skm[k]);
        } else {
            msgpack_pack_nil(&pk);
        }
    }

    /* services, with their lanes as ticket indices in queue order */
    msgpack_pack_array(&pk, h->nsvc);
    for (uint16_t i = 0; i < h->nsvc; i++) {
        const eng_svc *s = &h->svc[i];
        msgpack_pack_array(&pk, 16);
        pk_str(&pk, s->id);
        pk_str(&pk, s->name);
        pk_str(&pk, s->prefix);
        msgpack_pack_uint32(&pk, s->est_service_s);
        msgpack_pack_uint32(&pk, s->sla_wait_s);
        msgpack_pack_uint32(&pk, s->daily_quota);
        if (s->ghost)
            msgpack_pack_true(&pk);
        else
            msgpack_pack_false(&pk);
        msgpack_pack_uint32(&pk, s->next_number);
        msgpack_pack_uint32(&pk, s->issued_today);
        msgpack_pack_double(&pk, s->svc_time_s);
        msgpack_pack_uint32(&pk, s->sent_waiting);
        msgpack_pack_uint32(&pk, s->sent_eta_s);
        msgpack_pack_uint32(&pk, s->sent_oldest_s);
        for (int l = 0; l < 2; l++) {
            msgpack_pack_array(&pk, s->lane[l].count);
            for (const struct eng_ticket *t = s->lane[l].head; t; t = t->next)
                msgpack_pack_uint32(&pk, t->idx);
        }
        pk_acc(&pk, &s->acc);
    }

    msgpack_pack_array(&pk, h->nctr);
    for (uint16_t i = 0; i < h->nctr; i++) {
        const eng_ctr *c = &h->ctr[i];
        msgpack_pack_array(&pk, 7);
        pk_str(&pk, c->id);
        pk_str(&pk, c->label);
        msgpack_pack_uint8(&pk, c->policy);
        msgpack_pack_uint8(&pk, c->state);
        msgpack_pack_array(&pk, c->nsvc);
        for (uint16_t k = 0; k < c->nsvc; k++)
            msgpack_pack_uint16(&pk, c->svc[k]);
        msgpack_pack_int64(&pk, c->cur ? (int64_t)c->cur->idx : -1);
        msgpack_pack_uint32(&pk, c->consec_prio);
    }
    msgpack_pack_array(&pk, h->nctr);
    for (uint16_t i = 0; i < h->nctr; i++)
        pk_acc(&pk, &h->ctr[i].acc);

    /* now calling, oldest first */
    msgpack_pack_array(&pk, h->ncalls);
    for (uint32_t i = 0; i < h->ncalls; i++) {
        uint32_t slot = (h->call_head + ENG_NOW_CALLING - h->ncalls + i) % ENG_NOW_CALLING;
        const eng_call_rec *r = &h->calls[slot];
        msgpack_pack_array(&pk, 4);
        pk_str(&pk, r->code);
        pk_str(&pk, r->service);
        pk_str(&pk, r->counter);
        msgpack_pack_int64(&pk, r->at);
    }

    /* the last closed day */
    const eng_day_stats *ds = &h->last_closed;
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int32(&pk, ds->day);
    msgpack_pack_array(&pk, ds->nservices);
    for (uint16_t i = 0; i < ds->nservices; i++)
        pk_row(&pk, &ds->services[i]);
    msgpack_pack_array(&pk, ds->ncounters);
    for (uint16_t i = 0; i < ds->ncounters; i++)
        pk_row(&pk, &ds->counters[i]);

    /* bookings, in booking order */
    msgpack_pack_array(&pk, h->nappts);
    for (uint32_t i = 0; i < h->nappts; i++) {
        const struct eng_appt *a = &h->appts[i];
        msgpack_pack_array(&pk, 12);
        pk_bin(&pk, a->id, ENG_TID_LEN);
        pk_bin(&pk, a->secret, ENG_SECRET_LEN);
        pk_str(&pk, a->booking);
        pk_str(&pk, a->service);
        msgpack_pack_int32(&pk, a->day);
        msgpack_pack_uint16(&pk, a->slot);
        msgpack_pack_uint8(&pk, a->state);
        msgpack_pack_uint8(&pk, a->late);
        if (a->has_ticket)
            pk_bin(&pk, a->ticket, ENG_TID_LEN);
        else
            msgpack_pack_nil(&pk);
        msgpack_pack_int64(&pk, a->booked_at);
        pk_opt_str(&pk, a->idem);
        if (a->x && a->x->has_pii) {
            msgpack_pack_array(&pk, 3);
            pk_str(&pk, a->x->pii.phone);
            pk_str(&pk, a->x->pii.name);
            pk_str(&pk, a->x->pii.nik);
        } else {
            msgpack_pack_nil(&pk);
        }
    }

    if (!sb.data) {
        msgpack_sbuffer_destroy(&sb);
        return ANT_ENOMEM;
    }
    *buf = sb.data;
    *len = sb.size;
    return 0;
}

/* ---- decode ------------------------------------------------------------- */

#define SNAP_FAIL(...) codec_fail(r->msg, __VA_ARGS__)

static int rd_kind(codec_mrd *r, codec_mval *v, int kind, const char *what)
{
    int rc = codec_mp_next(r, v);
    if (rc)
        return rc;
    if (v->kind != kind)
        return SNAP_FAIL("snapshot %s: expected %s, got %s", what, codec_kind_name(kind),
                         codec_kind_name(v->kind));
    return 0;
}

static int rd_array(codec_mrd *r, size_t want, size_t *n, const char *what)
{
    codec_mval v;
    int rc = rd_kind(r, &v, MK_ARRAY, what);
    if (rc)
        return rc;
    if (want != (size_t)-1 && v.n != want)
        return SNAP_FAIL("snapshot %s: expected %zu items, got %zu", what, want, v.n);
    if (n)
        *n = v.n;
    return 0;
}

static int rd_u64(codec_mrd *r, uint64_t max, uint64_t *out, const char *what)
{
    codec_mval v;
    int rc = rd_kind(r, &v, MK_UINT, what);
    if (rc)
        return rc;
    if (v.u > max)
        return SNAP_FAIL("snapshot %s: %llu out of range", what, (unsigned long long)v.u);
    *out = v.u;
    return 0;
}

static int rd_i64(codec_mrd *r, int64_t *out, const char *what)
{
    codec_mval v;
    int rc = codec_mp_next(r, &v);
    if (rc)
        return rc;
    if (v.kind == MK_INT)
        *out = v.i;
    else if (v.kind == MK_UINT && v.u <= INT64_MAX)
        *out = (int64_t)v.u;
    else
        return SNAP_FAIL("snapshot %s: expected integer", what);
    return 0;
}

static int rd_u32(codec_mrd *r, uint32_t *out, const char *what)
{
    uint64_t v = 0; /* set on success; gcc -O2 cannot see codec_fail never returns 0 */
    int rc = rd_u64(r, UINT32_MAX, &v, what);
    if (!rc)
        *out = (uint32_t)v;
    return rc;
}

static int rd_u8(codec_mrd *r, uint8_t max, uint8_t *out, const char *what)
{
    uint64_t v = 0; /* set on success; gcc -O2 cannot see codec_fail never returns 0 */
    int rc = rd_u64(r, max, &v, what);
    if (!rc)
        *out = (uint8_t)v;
    return rc;
}

static int rd_u16(codec_mrd *r, uint16_t *out, const char *what)
{
    uint64_t v = 0; /* set on success; gcc -O2 cannot see codec_fail never returns 0 */
    int rc = rd_u64(r, UINT16_MAX, &v, what);
    if (!rc)
        *out = (uint16_t)v;
    return rc;
}

static int rd_f64(codec_mrd *r, double *out, const char *what)
{
    codec_mval v;
    int rc = rd_kind(r, &v, MK_FLOAT, what);
    if (!rc)
        *out = v.f;
    return rc;
}

static int rd_str(codec_mrd *r, char *out, size_t cap, const char *what)
{
    codec_mval v;
    int rc = rd_kind(r, &v, MK_STR, what);
    if (rc)
        return rc;
    if (v.n >= cap || memchr(v.s, 0, v.n))
        return SNAP_FAIL("snapshot %s: string too long or has NUL", what);
    memcpy(out, v.s, v.n);
    out[v.n] = '\0';
    return 0;
}

/* nil -> NULL, str -> malloc'ed copy (caller owns) */
static int rd_opt_dup(codec_mrd *r, size_t max, char **out, const char *what)
{
    codec_mval v;
    int rc = codec_mp_next(r, &v);
    if (rc)
        return rc;
    *out = NULL;
    if (v.kind == MK_NIL)
        return 0;
    if (v.kind != MK_STR || v.n > max || memchr(v.s, 0, v.n))
        return SNAP_FAIL("snapshot %s: expected nil or a string of at most %zu bytes", what, max);
    if (!(*out = malloc(v.n + 1)))
        return ANT_ENOMEM;
    memcpy(*out, v.s, v.n);
    (*out)[v.n] = '\0';
    return 0;
}

static int rd_bin(codec_mrd *r, uint8_t *out, size_t n, const char *what)
{
    codec_mval v;
    int rc = rd_kind(r, &v, MK_BIN, what);
    if (rc)
        return rc;
    if (v.n != n)
        return SNAP_FAIL("snapshot %s: expected %zu bytes", what, n);
    memcpy(out, v.s, n);
    return 0;
}

static int rd_acc(codec_mrd *r, eng_acc *a, uint32_t ver)
{
    int rc = rd_array(r, ver >= 2 ? 14 : 12, NULL, "acc");
    uint64_t sum = 0;
    size_t n = 0;
    if (rc || (rc = rd_u32(r, &a->issued, "acc")) || (rc = rd_u32(r, &a->served, "acc")) ||
        (rc = rd_u32(r, &a->no_show, "acc")) || (rc = rd_u32(r, &a->cancelled, "acc")) ||
        (rc = rd_u32(r, &a->expired, "acc")) || (rc = rd_u32(r, &a->called, "acc")) ||
        (rc = rd_u32(r, &a->within_sla, "acc")) || (rc = rd_u64(r, UINT64_MAX, &sum, "acc")) ||
        (rc = rd_u32(r, &a->service_n, "acc")) || (rc = rd_u32(r, &a->skm_sum, "acc")) ||
        (rc = rd_u32(r, &a->skm_n, "acc")) || (rc = rd_array(r, (size_t)-1, &n, "acc.waits")))
        return rc;
    a->service_s_sum = sum;
    for (size_t i = 0; i < n; i++) {
        uint32_t w;
        if ((rc = rd_u32(r, &w, "acc.waits")))
            return rc;
        acc_add_wait(a, w);
    }
    if (ver < 2) {
        a->skm_sum9 = 9 * a->skm_sum; /* version 1 had single scores only */
        return 0;
    }
    if ((rc = rd_u32(r, &a->skm_sum9, "acc.skm")) ||
        (rc = rd_array(r, 1 + ENG_SKM_N, NULL, "acc.skm")) ||
        (rc = rd_u32(r, &a->skm_el_n, "acc.skm")))
        return rc;
    for (int k = 0; k < ENG_SKM_N; k++)
        if ((rc = rd_u32(r, &a->skm_el_sum[k], "acc.skm")))
            return rc;
    return 0;
}

static int rd_row(codec_mrd *r, eng_stat_row *x)
{
    int rc = rd_array(r, 14, NULL, "stats row");
    if (rc || (rc = rd_str(r, x->id, sizeof x->id, "stats row")) ||
        (rc = rd_u32(r, &x->issued, "stats")) || (rc = rd_u32(r, &x->served, "stats")) ||
        (rc = rd_u32(r, &x->no_show, "stats")) || (rc = rd_u32(r, &x->cancelled, "stats")) ||
        (rc = rd_u32(r, &x->expired, "stats")) || (rc = rd_u32(r, &x->wait_p50_s, "stats")) ||
        (rc = rd_u32(r, &x->wait_p90_s, "stats")) || (rc = rd_u32(r, &x->wait_max_s, "stats")) ||
        (rc = rd_u32(r, &x->service_mean_s, "stats")) ||
        (rc = rd_f64(r, &x->within_sla, "stats")) || (rc = rd_u32(r, &x->skm_count, "stats")) ||
        (rc = rd_f64(r, &x->skm_score, "stats")) || (rc = rd_f64(r, &x->skm_index, "stats")))
        return rc;
    return 0;
}

static int rd_ticket(codec_mrd *r, eng_hall *h, struct eng_ticket *t, uint32_t ver)
{
    int rc = rd_array(r, ver >= 2 ? 23 : 22, NULL, "ticket");
    uint64_t order;
    if (rc || (rc = rd_bin(r, t->tid, ENG_TID_LEN, "ticket.id")) ||
        (rc = rd_bin(r, t->secret, ENG_SECRET_LEN, "ticket.secret")) ||
        (rc = rd_str(r, t->code, sizeof t->code, "ticket.code")) ||
        (rc = rd_u32(r, &t->number, "ticket.number")) ||
        (rc = rd_u16(r, &t->service, "ticket.service")) ||
        (rc = rd_u16(r, &t->counter, "ticket.counter")) ||
        (rc = rd_u8(r, ENG_ST_EXPIRED, &t->state, "ticket.state")) ||
        (rc = rd_u8(r, ENG_PRIO_CHILD, &t->prio, "ticket.prio")) ||
        (rc = rd_u8(r, ENG_CH_STAFF, &t->channel, "ticket.channel")) ||
        (rc = rd_u8(r, 255, &t->recalls, "ticket.recalls")) ||
        (rc = rd_u8(r, 4, &t->score, "ticket.score")) ||
        (rc = rd_u8(r, 1, &t->wait_recorded, "ticket.wait_recorded")) ||
        (rc = rd_u64(r, UINT64_MAX, &order, "ticket.order")) ||
        (rc = rd_i64(r, &t->issued_at, "ticket.issued_at")) ||
        (rc = rd_i64(r, &t->enqueued_at, "ticket.enqueued_at")) ||
        (rc = rd_i64(r, &t->rank_at, "ticket.rank_at")) ||
        (rc = rd_i64(r, &t->called_at, "ticket.called_at")) ||
        (rc = rd_i64(r, &t->started_at, "ticket.started_at")) ||
        (rc = rd_i64(r, &t->finished_at, "ticket.finished_at")))
        return rc;
    t->order = order;
    if (t->service >= h->nsvc || (t->counter != ENG_NONE && t->counter >= h->nctr))
        return SNAP_FAIL("snapshot ticket %s: service or counter index out of range", t->code);
    codec_mval v;
    if ((rc = codec_mp_next(r, &v)))
        return rc;
    if (v.kind == MK_ARRAY && v.n == 3) {
        struct eng_ticket_extra *x = hall_ticket_extra(t);
        if (!x)
            return ANT_ENOMEM;
        x->has_pii = true;
        if ((rc = rd_str(r, x->pii.phone, sizeof x->pii.phone, "ticket.pii")) ||
            (rc = rd_str(r, x->pii.name, sizeof x->pii.name, "ticket.pii")) ||
            (rc = rd_str(r, x->pii.nik, sizeof x->pii.nik, "ticket.pii")))
            return rc;
    } else if (v.kind != MK_NIL) {
        return SNAP_FAIL("snapshot ticket %s: citizen data must be nil or 3 strings", t->code);
    }
    char *comment = NULL;
    if ((rc = rd_opt_dup(r, ENG_IDEM_MAX, &t->idem, "ticket.idem")) ||
        (rc = rd_opt_dup(r, ENG_COMMENT_MAX, &comment, "ticket.comment")))
        return rc;
    if (comment) {
        struct eng_ticket_extra *x = hall_ticket_extra(t);
        if (!x) {
            free(comment);
            return ANT_ENOMEM;
        }
        x->comment = comment;
    }
    if (ver < 2)
        return 0;
    if ((rc = codec_mp_next(r, &v)))
        return rc;
    if (v.kind == MK_NIL)
        return 0;
    if (v.kind != MK_ARRAY || v.n != ENG_SKM_N)
        return SNAP_FAIL("snapshot ticket %s: SKM answers must be nil or %d numbers", t->code,
                         ENG_SKM_N);
    struct eng_ticket_extra *x = hall_ticket_extra(t);
    if (!x)
        return ANT_ENOMEM;
    for (int k = 0; k < ENG_SKM_N; k++) {
        if ((rc = rd_u8(r, 4, &x->skm[k], "ticket.skm")))
            return rc;
        if (x->skm[k] < 1)
            return SNAP_FAIL("snapshot ticket %s: SKM answer 0", t->code);
    }
    return 0;
}

static int rd_lane(codec_mrd *r, eng_hall *h, eng_lane *l, uint16_t si, int lane, bool *seen)
{
    size_t n;
    int rc = rd_array(r, (size_t)-1, &n, "lane");
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        uint32_t idx;
        if ((rc = rd_u32(r, &idx, "lane")))
            return rc;
        if (idx >= h->nall || seen[idx])
            return SNAP_FAIL("snapshot lane: ticket index %u out of range or repeated", idx);
        struct eng_ticket *t = h->all[idx];
        if (t->state != ENG_ST_WAITING || t->service != si || (t->prio != 0) != (lane == LANE_PRIO))
            return SNAP_FAIL("snapshot lane: ticket %s does not belong in it", t->code);
        seen[idx] = true;
        lane_push_back(l, t);
    }
    return 0;
}

static int rd_appt(codec_mrd *r, eng_hall *h, struct eng_appt *a)
{
    int64_t day;
    codec_mval v;
    int rc = rd_array(r, 12, NULL, "appointment");
    if (rc || (rc = rd_bin(r, a->id, ENG_TID_LEN, "appointment.id")) ||
        (rc = rd_bin(r, a->secret, ENG_SECRET_LEN, "appointment.secret")) ||
        (rc = rd_str(r, a->booking, sizeof a->booking, "appointment.booking")) ||
        (rc = rd_str(r, a->service, sizeof a->service, "appointment.service")) ||
        (rc = rd_i64(r, &day, "appointment.day")) ||
        (rc = rd_u16(r, &a->slot, "appointment.slot")) ||
        (rc = rd_u8(r, ENG_APPT_CHECKED_IN, &a->state, "appointment.state")))
        return rc;
    uint8_t late;
    if ((rc = rd_u8(r, 1, &late, "appointment.late")) || (rc = codec_mp_next(r, &v)))
        return rc;
    a->day = (int32_t)day;
    a->late = late;
    if (v.kind == MK_BIN && v.n == ENG_TID_LEN) {
        a->has_ticket = true;
        memcpy(a->ticket, v.s, ENG_TID_LEN);
    } else if (v.kind != MK_NIL) {
        return SNAP_FAIL("snapshot appointment: ticket must be nil or 16 bytes");
    }
    if ((rc = rd_i64(r, &a->booked_at, "appointment.booked_at")) ||
        (rc = rd_opt_dup(r, ENG_IDEM_MAX, &a->idem, "appointment.idem")) ||
        (rc = codec_mp_next(r, &v)))
        return rc;
    if (v.kind == MK_ARRAY && v.n == 3) {
        if (!(a->x = calloc(1, sizeof *a->x)))
            return ANT_ENOMEM;
        a->x->has_pii = true;
        if ((rc = rd_str(r, a->x->pii.phone, sizeof a->x->pii.phone, "appointment.pii")) ||
            (rc = rd_str(r, a->x->pii.name, sizeof a->x->pii.name, "appointment.pii")) ||
            (rc = rd_str(r, a->x->pii.nik, sizeof a->x->pii.nik, "appointment.pii")))
            return rc;
    } else if (v.kind != MK_NIL) {
        return SNAP_FAIL("snapshot appointment: citizen data must be nil or 3 strings");
    }
    /* an on-time check-in marks its ticket as an appointment ticket */
    if (a->has_ticket && !a->late && a->state == ENG_APPT_CHECKED_IN) {
        struct eng_ticket *t = hall_ticket_find(h, a->ticket);
        if (t)
            t->appt = 1;
    }
    return 0;
}

static int rd_appts(codec_mrd *r, eng_hall *h)
{
    size_t n;
    int rc = rd_array(r, (size_t)-1, &n, "appointments");
    if (rc)
        return rc;
    if (n > (size_t)(r->end - r->p) / 12) /* each takes at least 12 bytes */
        return SNAP_FAIL("snapshot appointments: %zu is more than the bytes left", n);
    if (n && !(h->appts = calloc(n, sizeof *h->appts)))
        return ANT_ENOMEM;
    h->capappts = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        h->nappts++; /* counted first so that a failure frees what was read */
        if ((rc = rd_appt(r, h, &h->appts[i])))
            return rc;
    }
    return 0;
}

static int rd_hall(codec_mrd *r, eng_hall *h)
{
    char magic[16];
    uint32_t version;
    codec_mval v;
    size_t nroot;
    int rc = rd_array(r, (size_t)-1, &nroot, "root");
    if (rc || (rc = rd_str(r, magic, sizeof magic, "magic")))
        return rc;
    if (strcmp(magic, SNAP_MAGIC) != 0)
        return SNAP_FAIL("not a snapshot (magic '%s')", magic);
    if ((rc = rd_u32(r, &version, "version")))
        return rc;
    if (version < 1 || version > SNAP_VERSION)
        return SNAP_FAIL("snapshot version %u, this build reads 1 to %d", version, SNAP_VERSION);
    if (nroot != (version == 1 ? 13u : 14u))
        return SNAP_FAIL("snapshot root: %zu items for version %u", nroot, version);
    if ((rc = rd_kind(r, &v, MK_STR, "config")))
        return rc;
    eng_problems probs;
    if (eng_config_parse(v.s, v.n, &h->cfg, &probs) != 0)
        return SNAP_FAIL("snapshot config: %s", probs.count ? probs.msg[0] : "invalid");
    uint64_t seq, order;
    int64_t day, wait_at;
    if ((rc = rd_u64(r, UINT64_MAX, &seq, "seq")) || (rc = rd_i64(r, &day, "day")) ||
        (rc = rd_u64(r, UINT64_MAX, &order, "order")) || (rc = rd_i64(r, &wait_at, "wait_at")))
        return rc;
    h->seq = seq;
    h->day = (int32_t)day;
    h->order = order;
    h->wait_ev_at = wait_at;

    /* tickets come before services, whose counts are needed to check them:
     * read the tickets into a side buffer first by peeking ahead is not
     * possible, so accept up to the maxima here and check indices below */
    size_t nt;
    if ((rc = rd_array(r, (size_t)-1, &nt, "tickets")))
        return rc;
    h->nsvc = ENG_NONE - 1; /* provisional bound for rd_ticket's index check */
    h->nctr = ENG_NONE - 1;
    for (size_t i = 0; i < nt && rc == 0; i++) {
        struct eng_ticket *t = hall_ticket_new(h);
        rc = t ? rd_ticket(r, h, t, version) : ANT_ENOMEM;
    }
    /* before any return: eng_hall_free walks h->svc[0..nsvc), not allocated yet */
    h->nsvc = h->nctr = 0;
    if (rc)
        return rc;

    size_t ns;
    if ((rc = rd_array(r, (size_t)-1, &ns, "services")))
        return rc;
    if (ns > ENG_MAX_SERVICES * 4)
        return SNAP_FAIL("snapshot services: %zu is too many", ns);
    if (!(h->svc = calloc(ns ? ns : 1, sizeof *h->svc)))
        return ANT_ENOMEM;
    h->nsvc = (uint16_t)ns;
    for (uint32_t i = 0; i < h->nall; i++)
        if (h->all[i]->service >= ns)
            return SNAP_FAIL("snapshot ticket %s: service index out of range", h->all[i]->code);
    bool *seen = calloc(h->nall ? h->nall : 1, sizeof *seen);
    if (!seen)
        return ANT_ENOMEM;
    for (uint16_t i = 0; i < ns && !rc; i++) {
        eng_svc *s = &h->svc[i];
        bool ghost = false;
        codec_mval b;
        if ((rc = rd_array(r, 16, NULL, "service")) ||
            (rc = rd_str(r, s->id, sizeof s->id, "service.id")) ||
            (rc = rd_str(r, s->name, sizeof s->name, "service.name")) ||
            (rc = rd_str(r, s->prefix, sizeof s->prefix, "service.prefix")) ||
            (rc = rd_u32(r, &s->est_service_s, "service")) ||
            (rc = rd_u32(r, &s->sla_wait_s, "service")) ||
            (rc = rd_u32(r, &s->daily_quota, "service")) ||
            (rc = rd_kind(r, &b, MK_BOOL, "service.ghost")))
            break;
        ghost = b.b;
        s->ghost = ghost;
        if ((rc = rd_u32(r, &s->next_number, "service")) ||
            (rc = rd_u32(r, &s->issued_today, "service")) ||
            (rc = rd_f64(r, &s->svc_time_s, "service")) ||
            (rc = rd_u32(r, &s->sent_waiting, "service")) ||
            (rc = rd_u32(r, &s->sent_eta_s, "service")) ||
            (rc = rd_u32(r, &s->sent_oldest_s, "service")) ||
            (rc = rd_lane(r, h, &s->lane[0], i, 0, seen)) ||
            (rc = rd_lane(r, h, &s->lane[1], i, 1, seen)) || (rc = rd_acc(r, &s->acc, version)))
            break;
    }
    for (uint32_t i = 0; i < h->nall && !rc; i++)
        if (h->all[i]->state == ENG_ST_WAITING && !seen[i])
            rc = SNAP_FAIL("snapshot ticket %s: waiting but in no lane", h->all[i]->code);
    free(seen);
    if (rc)
        return rc;

    size_t nc;
    if ((rc = rd_array(r, (size_t)-1, &nc, "counters")))
        return rc;
    if (nc > ENG_MAX_COUNTERS)
        return SNAP_FAIL("snapshot counters: %zu is too many", nc);
    if (!(h->ctr = calloc(nc ? nc : 1, sizeof *h->ctr)))
        return ANT_ENOMEM;
    h->nctr = (uint16_t)nc;
    for (uint16_t i = 0; i < nc; i++) {
        eng_ctr *c = &h->ctr[i];
        size_t k;
        int64_t cur;
        if ((rc = rd_array(r, 7, NULL, "counter")) ||
            (rc = rd_str(r, c->id, sizeof c->id, "counter.id")) ||
            (rc = rd_str(r, c->label, sizeof c->label, "counter.label")) ||
            (rc = rd_u8(r, ENG_POLICY_IN_ORDER, &c->policy, "counter.policy")) ||
            (rc = rd_u8(r, ENG_CS_PAUSED, &c->state, "counter.state")) ||
            (rc = rd_array(r, (size_t)-1, &k, "counter.services")))
            return rc;
        if (k > ns)
            return SNAP_FAIL("snapshot counter %s: too many services", c->id);
        if (!(c->svc = calloc(k + 1, sizeof *c->svc)))
            return ANT_ENOMEM;
        for (size_t j = 0; j < k; j++) {
            if ((rc = rd_u16(r, &c->svc[j], "counter.services")))
                return rc;
            if (c->svc[j] >= ns)
                return SNAP_FAIL("snapshot counter %s: service index out of range", c->id);
        }
        c->nsvc = (uint16_t)k;
        if ((rc = rd_i64(r, &cur, "counter.ticket")) ||
            (rc = rd_u32(r, &c->consec_prio, "counter.consec")))
            return rc;
        if (cur >= 0) {
            if ((uint64_t)cur >= h->nall)
                return SNAP_FAIL("snapshot counter %s: ticket index out of range", c->id);
            c->cur = h->all[cur];
            if ((c->cur->state != ENG_ST_CALLED && c->cur->state != ENG_ST_SERVING) ||
                c->cur->counter != i)
                return SNAP_FAIL("snapshot counter %s: its ticket is not at it", c->id);
        }
    }
    for (uint32_t i = 0; i < h->nall; i++)
        if (h->all[i]->counter != ENG_NONE && h->all[i]->counter >= nc)
            return SNAP_FAIL("snapshot ticket %s: counter index out of range", h->all[i]->code);
    if ((rc = rd_array(r, nc, NULL, "counter accs")))
        return rc;
    for (uint16_t i = 0; i < nc; i++)
        if ((rc = rd_acc(r, &h->ctr[i].acc, version)))
            return rc;

    size_t ncalls;
    if ((rc = rd_array(r, (size_t)-1, &ncalls, "calls")))
        return rc;
    if (ncalls > ENG_NOW_CALLING)
        return SNAP_FAIL("snapshot calls: %zu is too many", ncalls);
    for (size_t i = 0; i < ncalls; i++) {
        eng_call_rec *c = &h->calls[i];
        if ((rc = rd_array(r, 4, NULL, "call")) ||
            (rc = rd_str(r, c->code, sizeof c->code, "call.code")) ||
            (rc = rd_str(r, c->service, sizeof c->service, "call.service")) ||
            (rc = rd_str(r, c->counter, sizeof c->counter, "call.counter")) ||
            (rc = rd_i64(r, &c->at, "call.at")))
            return rc;
    }
    h->ncalls = (uint32_t)ncalls;
    h->call_head = (uint32_t)(ncalls % ENG_NOW_CALLING);

    eng_day_stats *ds = &h->last_closed;
    size_t nrs, nrc;
    int64_t dday;
    if ((rc = rd_array(r, 3, NULL, "last day")) || (rc = rd_i64(r, &dday, "last day")) ||
        (rc = rd_array(r, (size_t)-1, &nrs, "last day services")))
        return rc;
    ds->day = (int32_t)dday;
    if (nrs > ENG_MAX_SERVICES * 4)
        return SNAP_FAIL("snapshot last day: too many services");
    if (!(ds->services = calloc(nrs ? nrs : 1, sizeof *ds->services)))
        return ANT_ENOMEM;
    ds->nservices = (uint16_t)nrs;
    for (size_t i = 0; i < nrs; i++)
        if ((rc = rd_row(r, &ds->services[i])))
            return rc;
    if ((rc = rd_array(r, (size_t)-1, &nrc, "last day counters")))
        return rc;
    if (nrc > ENG_MAX_COUNTERS)
        return SNAP_FAIL("snapshot last day: too many counters");
    if (!(ds->counters = calloc(nrc ? nrc : 1, sizeof *ds->counters)))
        return ANT_ENOMEM;
    ds->ncounters = (uint16_t)nrc;
    for (size_t i = 0; i < nrc; i++)
        if ((rc = rd_row(r, &ds->counters[i])))
            return rc;
    if ((rc = hall_reindex(h)))
        return rc;
    return version == 1 ? 0 : rd_appts(r, h);
}

int eng_snapshot_decode(const char *buf, size_t len, eng_hall **out, char msg[200])
{
    *out = NULL;
    eng_hall *h = calloc(1, sizeof *h);
    if (!h)
        return ANT_ENOMEM;
    codec_mrd r = {(const uint8_t *)buf, (const uint8_t *)buf + len, msg};
    int rc = rd_hall(&r, h);
    if (rc == 0 && r.p != r.end)
        rc = codec_fail(msg, "snapshot: %zu trailing bytes", (size_t)(r.end - r.p));
    if (rc) {
        if (!h->cfg) /* eng_hall_free needs a config only to exist */
            h->cfg = NULL;
        eng_hall_free(h);
        return rc == ANT_ENOMEM ? rc : ANT_EBADREQ;
    }
    h->eta_dirty = true;
    *out = h;
    return 0;
}
