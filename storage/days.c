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
    /* fn runs inside the read transaction: copying a year (~36 MB) out first
     * cost more than the adding up. fn must be quick and pure (no I/O, no
     * storage calls); meanwhile the writer can commit but not remap. */
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    int rc = stor_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return stor_err(rc);
    rc = mdb_cursor_open(txn, s->dbi[STOR_DB_STATS], &cur);
    MDB_val k = {kl, lo}, v;
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    int out = 0;
    while (rc == 0 && out == 0 && k.mv_size == kl && memcmp(k.mv_data, hi, kl) <= 0) {
        const uint8_t *kp = (const uint8_t *)k.mv_data + hl + 1;
        uint32_t d =
            ((uint32_t)kp[0] << 24 | (uint32_t)kp[1] << 16 | (uint32_t)kp[2] << 8 | kp[3]) ^
            0x80000000u;
        out = fn(arg, (int32_t)d, v.mv_data, v.mv_size);
        if (out == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (cur)
        mdb_cursor_close(cur);
    stor_txn_end(s, txn);
    return out ? out : stor_err(rc);
}
