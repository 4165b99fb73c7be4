/*
 * reads.c — what any thread may read while the writer runs: closed-day
 * stats, tokens, an online compacted backup, health and metrics. Each read
 * holds its own read transaction (and the maplock shared, so the writer
 * cannot remap under it) only for as long as it copies; no callback ever
 * runs inside one.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stor_int.h"

int stor_get_stats(stor *s, const char *hall, int32_t day, void **blob, size_t *len)
{
    *blob = NULL;
    *len = 0;
    size_t hl = strlen(hall);
    if (!stor_id_ok(hall, hl))
        return ANT_ENOTFOUND;
    char key[STOR_STATS_KEY_MAX];
    MDB_val k = {stor_stats_key(key, hall, hl, day), key}, v;
    MDB_txn *txn;
    int rc = stor_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return stor_err(rc);
    rc = mdb_get(txn, s->dbi[STOR_DB_STATS], &k, &v);
    if (rc == 0) {
        *blob = malloc(v.mv_size ? v.mv_size : 1);
        if (*blob) {
            memcpy(*blob, v.mv_data, v.mv_size);
            *len = v.mv_size;
        } else {
            rc = ENOMEM;
        }
    }
    stor_txn_end(s, txn);
    return stor_err(rc);
}

/* Tokens are copied out first so the callback runs outside any transaction. */
typedef struct tok_copy {
    char *buf; /* [u32 idlen][id][NUL][u32 len][rec]… */
    size_t len, cap;
} tok_copy;

static int tok_add(tok_copy *c, const void *p, size_t n)
{
    if (c->len + n > c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 4096;
        while (ncap < c->len + n)
            ncap *= 2;
        char *nb = realloc(c->buf, ncap);
        if (!nb)
            return ENOMEM;
        c->buf = nb;
        c->cap = ncap;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return 0;
}

int stor_tokens_each(stor *s, stor_token_fn fn, void *arg)
{
    tok_copy c = {0};
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = stor_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return stor_err(rc);
    rc = mdb_cursor_open(txn, s->dbi[STOR_DB_META], &cur);
    if (rc == 0) {
        MDB_val k = {6, "token/"}, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size < 6 || memcmp(k.mv_data, "token/", 6) != 0)
                break;
            uint32_t il = (uint32_t)(k.mv_size - 6), vl = (uint32_t)v.mv_size;
            if ((rc = tok_add(&c, &il, 4)) || (rc = tok_add(&c, (char *)k.mv_data + 6, il)) ||
                (rc = tok_add(&c, "", 1)) || (rc = tok_add(&c, &vl, 4)) ||
                (rc = tok_add(&c, v.mv_data, vl)))
                break;
        }
        if (rc == MDB_NOTFOUND)
            rc = 0;
        mdb_cursor_close(cur);
    }
    stor_txn_end(s, txn);
    if (rc) {
        free(c.buf);
        return stor_err(rc);
    }
    int out = 0;
    for (size_t off = 0; off < c.len && out == 0;) {
        uint32_t il, vl;
        memcpy(&il, c.buf + off, 4);
        const char *id = c.buf + off + 4;
        memcpy(&vl, id + il + 1, 4);
        const char *rec = id + il + 5;
        off += 4 + il + 1 + 4 + vl;
        out = fn(arg, id, rec, vl);
    }
    free(c.buf);
    return out;
}

static int bak_dir_ready(const char *dir, char msg[256])
{
    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno != EEXIST) {
        snprintf(msg, 256, "backup directory %s: cannot create: %s", dir, strerror(errno));
        return ANT_EBADREQ;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(msg, 256, "backup directory %s: %s", dir, strerror(errno));
        return ANT_EBADREQ;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(msg, 256, "backup directory %s is not empty", dir);
            rc = ANT_EBADREQ;
            break;
        }
    }
    closedir(d);
    return rc;
}

int stor_backup(stor *s, const char *dest_dir, char msg[256])
{
    msg[0] = 0;
    if (!dest_dir || !*dest_dir) {
        snprintf(msg, 256, "backup: no directory given");
        return ANT_EBADREQ;
    }
    int rc = bak_dir_ready(dest_dir, msg);
    if (rc)
        return rc;
    /* the copy runs its own read transaction: keep the map where it is meanwhile */
    pthread_rwlock_rdlock(&s->maplock);
    int mrc = mdb_env_copy2(s->env, dest_dir, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&s->maplock);
    if (mrc) {
        snprintf(msg, 256, "backup to %s failed: %s", dest_dir, mdb_strerror(mrc));
        return ANT_EUNAVAILABLE;
    }
    return 0;
}

int stor_health(stor *s, char msg[256])
{
    if (atomic_load_explicit(&s->failed, memory_order_acquire)) {
        snprintf(msg, 256, "%s", s->reason);
        return ANT_EUNAVAILABLE;
    }
    msg[0] = 0;
    return 0;
}

void stor_metrics_get(stor *s, stor_metrics *m)
{
    pthread_mutex_lock(&s->mu);
    *m = s->m;
    pthread_mutex_unlock(&s->mu);
    m->failed = atomic_load_explicit(&s->failed, memory_order_acquire);
}

void stor_test_set_fault(stor *s, stor_fault_fn fn, void *arg)
{
    pthread_mutex_lock(&s->mu);
    s->fault = fn;
    s->fault_arg = arg;
    atomic_store(&s->has_fault, fn != NULL);
    pthread_mutex_unlock(&s->mu);
}
