/*
 * days.c — day records for reports (SPEC §14), beside the closed-day stats.
 *
 * A day record (engine/report.h, opaque here) is stored in the stats
 * database under the key hall, 0x01, day (big-endian, sign flipped): the
 * 0x01 keeps it apart from the day's stats blob (hall, 0x00, day) and makes
 * a hall's records one contiguous, day-ordered key range, so a report over
 * a year is one cursor walk. Records go through the writer's batch like
 * everything else (stor_put_dayrec is in batch.c, beside stor_put_stats): a
 * rollover's record commits with the rollover event.
 */
#include <stdlib.h>
#include <string.h>

#include "stor_int.h"

size_t stor_dayrec_key(char out[STOR_STATS_KEY_MAX], const char *hall, size_t hl, int32_t day)
{
    size_t kl = stor_stats_key(out, hall, hl, day);
    out[hl] = 1;
    return kl;
}

int stor_get_dayrecs(stor *s, const char *hall, int32_t from, int32_t to, stor_dayrec_fn fn,
                     void *arg)
{
    size_t hl = strlen(hall);
    if (!stor_id_ok(hall, hl) || from > to)
        return 0;
    char lo[STOR_STATS_KEY_MAX], hi[STOR_STATS_KEY_MAX];
    size_t kl = stor_dayrec_key(lo, hall, hl, from);
    stor_dayrec_key(hi, hall, hl, to);
    /* copied out first ([i32 day][u32 len][bytes]…): fn runs outside the transaction */
    char *buf = NULL;
    size_t blen = 0, bcap = 0;
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    int rc = stor_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return stor_err(rc);
    rc = mdb_cursor_open(txn, s->dbi[STOR_DB_STATS], &cur);
    MDB_val k = {kl, lo}, v;
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == kl && memcmp(k.mv_data, hi, kl) <= 0) {
        size_t need = blen + 8 + v.mv_size;
        if (need > bcap) {
            size_t nc = bcap ? bcap : 1 << 20;
            while (nc < need)
                nc *= 2;
            char *nb = realloc(buf, nc);
            if (!nb) {
                rc = ENOMEM;
                break;
            }
            buf = nb;
            bcap = nc;
        }
        const uint8_t *kp = (const uint8_t *)k.mv_data + hl + 1;
        uint32_t d = ((uint32_t)kp[0] << 24 | (uint32_t)kp[1] << 16 | (uint32_t)kp[2] << 8 | kp[3]) ^
                     0x80000000u;
        uint32_t n = (uint32_t)v.mv_size;
        memcpy(buf + blen, &d, 4);
        memcpy(buf + blen + 4, &n, 4);
        memcpy(buf + blen + 8, v.mv_data, v.mv_size);
        blen = need;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (cur)
        mdb_cursor_close(cur);
    stor_txn_end(s, txn);
    int out = stor_err(rc);
    for (size_t off = 0; out == 0 && off < blen;) {
        uint32_t d, n;
        memcpy(&d, buf + off, 4);
        memcpy(&n, buf + off + 4, 4);
        out = fn(arg, (int32_t)d, buf + off + 8, n);
        off += 8 + n;
    }
    free(buf);
    return out;
}
