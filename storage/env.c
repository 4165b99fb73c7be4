/*
 * env.c — the LMDB environment: open (format check, named databases, what
 * the loop needs to know about stored halls), map growth, the maplock that
 * keeps growth away from live transactions, close, health and metrics.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stor_int.h"

static const char *const stor_db_names[STOR_NDB] = {"log", "snap", "meta", "stats"};

const char *stor_durability_name(int d)
{
    switch (d) {
    case STOR_ALWAYS:
        return "always";
    case STOR_BATCH:
        return "batch";
    case STOR_NONE:
        return "none";
    }
    return "unknown";
}

int stor_durability_from_name(const char *s)
{
    if (!s)
        return -1;
    for (int d = STOR_ALWAYS; d <= STOR_NONE; d++)
        if (strcmp(s, stor_durability_name(d)) == 0)
            return d;
    return -1;
}

void stor_opts_default(stor_opts *o)
{
    memset(o, 0, sizeof *o);
    o->dir = "./antrean-data";
    o->durability = STOR_ALWAYS;
    o->map_size = 64ull << 20;
    o->max_data_size = 16ull << 30;
    o->snap_every_events = 10000;
    o->snap_every_s = 300;
    o->keep_days = 400;
    o->keep_pii_days = 30;
}

int stor_err(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case MDB_NOTFOUND:
        return ANT_ENOTFOUND;
    case ENOMEM:
        return ANT_ENOMEM;
    case MDB_MAP_FULL:
    case MDB_PANIC:
    case MDB_READERS_FULL:
    case ENOSPC:
    case EIO:
    case EDQUOT:
    case EROFS:
        return ANT_EUNAVAILABLE;
    }
    return ANT_EINTERNAL;
}

int64_t stor_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t stor_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int stor_txn_begin(stor *s, unsigned flags, MDB_txn **txn)
{
    for (;;) {
        pthread_rwlock_rdlock(&s->maplock);
        int rc = mdb_txn_begin(s->env, NULL, flags, txn);
        if (rc != MDB_MAP_RESIZED) {
            if (rc)
                pthread_rwlock_unlock(&s->maplock);
            return rc;
        }
        /* another process grew the map: adopt its size, with no transaction live here */
        pthread_rwlock_unlock(&s->maplock);
        pthread_rwlock_wrlock(&s->maplock);
        rc = mdb_env_set_mapsize(s->env, 0);
        MDB_envinfo info;
        if (rc == 0 && mdb_env_info(s->env, &info) == 0)
            s->map_size = info.me_mapsize;
        pthread_rwlock_unlock(&s->maplock);
        if (rc)
            return rc;
    }
}

void stor_txn_end(stor *s, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&s->maplock);
}

int stor_map_grow(stor *s)
{
    uint64_t max = s->o.max_data_size / s->page * s->page;
    pthread_rwlock_wrlock(&s->maplock);
    uint64_t cur = s->map_size;
    if (cur >= max) {
        pthread_rwlock_unlock(&s->maplock);
        return MDB_MAP_FULL;
    }
    uint64_t next = cur * 2 > max ? max : cur * 2;
    int rc = mdb_env_set_mapsize(s->env, (size_t)next);
    if (rc == 0)
        s->map_size = next;
    pthread_rwlock_unlock(&s->maplock);
    if (rc == 0) {
        pthread_mutex_lock(&s->mu);
        s->m.map_size = next;
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

/* True when v is 1–9 ASCII digits. */
static bool stor_is_version(const MDB_val *v)
{
    if (v->mv_size == 0 || v->mv_size > 9)
        return false;
    for (size_t i = 0; i < v->mv_size; i++)
        if (((const char *)v->mv_data)[i] < '0' || ((const char *)v->mv_data)[i] > '9')
            return false;
    return true;
}

/*
 * Open the named databases, creating them only in an empty environment, and
 * check (or, when new, write) the format version. Refuses anything it does
 * not recognise without writing a byte.
 */
static int stor_open_dbs(stor *s, char msg[256])
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) {
        snprintf(msg, 256, "cannot begin a transaction in %s: %s", s->dir, mdb_strerror(rc));
        return ANT_EUNAVAILABLE;
    }
    bool fresh = false;
    MDB_dbi probe;
    rc = mdb_dbi_open(txn, "meta", 0, &probe);
    if (rc == MDB_NOTFOUND) {
        MDB_dbi main_db;
        MDB_stat st;
        rc = mdb_dbi_open(txn, NULL, 0, &main_db);
        if (rc == 0)
            rc = mdb_stat(txn, main_db, &st);
        if (rc == 0 && st.ms_entries != 0) {
            snprintf(msg, 256,
                     "db meta: missing in a non-empty LMDB environment in %s "
                     "(not an antrean data directory)",
                     s->dir);
            mdb_txn_abort(txn);
            return ANT_EUNAVAILABLE;
        }
        fresh = true;
    } else if (rc) {
        snprintf(msg, 256, "db meta: cannot open: %s", mdb_strerror(rc));
        mdb_txn_abort(txn);
        return ANT_EUNAVAILABLE;
    }
    for (int i = 0; i < STOR_NDB; i++) {
        rc = mdb_dbi_open(txn, stor_db_names[i], fresh ? MDB_CREATE : 0, &s->dbi[i]);
        if (rc) {
            snprintf(msg, 256, "db %s: %s", stor_db_names[i],
                     rc == MDB_NOTFOUND ? "missing" : mdb_strerror(rc));
            mdb_txn_abort(txn);
            return ANT_EUNAVAILABLE;
        }
    }
    MDB_val k = {6, "format"}, v;
    if (fresh) {
        v.mv_size = strlen(STOR_FORMAT);
        v.mv_data = (void *)STOR_FORMAT;
        rc = mdb_put(txn, s->dbi[STOR_DB_META], &k, &v, 0);
    } else {
        rc = mdb_get(txn, s->dbi[STOR_DB_META], &k, &v);
        if (rc == MDB_NOTFOUND) {
            snprintf(msg, 256, "db meta, key format: missing");
        } else if (rc == 0 && !stor_is_version(&v)) {
            snprintf(msg, 256, "db meta, key format: undecodable value (%zu bytes, not a version)",
                     v.mv_size);
            rc = MDB_INCOMPATIBLE;
        } else if (rc == 0 && (v.mv_size != strlen(STOR_FORMAT) ||
                               memcmp(v.mv_data, STOR_FORMAT, v.mv_size) != 0)) {
            snprintf(msg, 256, "db meta, key format: version %.*s, this build reads version %s",
                     (int)v.mv_size, (const char *)v.mv_data, STOR_FORMAT);
            rc = MDB_INCOMPATIBLE;
        } else if (rc) {
            snprintf(msg, 256, "db meta, key format: %s", mdb_strerror(rc));
        }
    }
    if (rc) {
        if (!msg[0])
            snprintf(msg, 256, "db meta, key format: %s", mdb_strerror(rc));
        mdb_txn_abort(txn);
        return ANT_EUNAVAILABLE;
    }
    rc = mdb_txn_commit(txn);
    if (rc) {
        snprintf(msg, 256, "cannot initialise %s: %s", s->dir, mdb_strerror(rc));
        return ANT_EUNAVAILABLE;
    }
    return 0;
}

/* What the loop must know before the first append: the next log key and the stored halls. */
static int stor_load_state(stor *s, char msg[256])
{
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        snprintf(msg, 256, "cannot begin a read transaction: %s", mdb_strerror(rc));
        return ANT_EUNAVAILABLE;
    }
    MDB_val k, v;
    s->next_pos = 1;
    rc = mdb_cursor_open(txn, s->dbi[STOR_DB_LOG], &cur);
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0) {
        if (k.mv_size != 8) {
            snprintf(msg, 256, "db log: last key has %zu bytes, expected 8", k.mv_size);
            goto fail;
        }
        s->next_pos = stor_be64_get(k.mv_data) + 1;
    } else if (rc != MDB_NOTFOUND) {
        snprintf(msg, 256, "db log: %s", mdb_strerror(rc));
        goto fail;
    }
    mdb_cursor_close(cur);
    cur = NULL;

    rc = mdb_cursor_open(txn, s->dbi[STOR_DB_META], &cur);
    if (rc) {
        snprintf(msg, 256, "db meta: %s", mdb_strerror(rc));
        goto fail;
    }
    k.mv_size = 5;
    k.mv_data = "hall/";
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < 5 || memcmp(k.mv_data, "hall/", 5) != 0)
            break;
        size_t idlen = k.mv_size - 5;
        char id[ENG_ID_MAX + 1];
        if (idlen == 0 || idlen > ENG_ID_MAX) {
            snprintf(msg, 256, "db meta, key %.*s: not a hall id",
                     (int)(k.mv_size > 64 ? 64 : k.mv_size), (const char *)k.mv_data);
            goto fail;
        }
        memcpy(id, (const char *)k.mv_data + 5, idlen);
        id[idlen] = 0;
        stor_hall *h = stor_hall_add(s, id);
        if (!h) {
            snprintf(msg, 256, "out of memory");
            goto fail;
        }
        MDB_val sk = {idlen, id}, sv;
        int grc = mdb_get(txn, s->dbi[STOR_DB_SNAP], &sk, &sv);
        if (grc == 0) {
            const unsigned char *p = sv.mv_data;
            if (sv.mv_size < STOR_SNAP_HDR || p[0] != STOR_SNAP_MAGIC) {
                snprintf(msg, 256, "db snap, key %s: undecodable snapshot header", id);
                goto fail;
            }
            uint64_t pos = stor_be64_get(p + 1);
            h->has_snap = true;
            h->snap_at = (int64_t)stor_be64_get(p + 17);
            if (pos > s->next_pos)
                s->next_pos = pos;
        } else if (grc != MDB_NOTFOUND) {
            snprintf(msg, 256, "db snap, key %s: %s", id, mdb_strerror(grc));
            goto fail;
        }
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        snprintf(msg, 256, "db meta: %s", mdb_strerror(rc));
        goto fail;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return 0;
fail:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return ANT_EUNAVAILABLE;
}

static void stor_free(stor *s)
{
    if (s->env)
        mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->maplock);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv_work);
    pthread_cond_destroy(&s->cv_space);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->halls);
    free(s->hidx);
    free(s->done);
    free(s->dir);
    free(s);
}

/* One server per data directory: a second writer would reuse log keys. */
static int stor_lock_dir(stor *s, char msg[256])
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data.mdb", s->dir);
    s->lock_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(msg, 256, "data directory %s is in use by another process (%s)", s->dir,
                 strerror(errno));
        return ANT_EUNAVAILABLE;
    }
    return 0;
}

int stor_open(const stor_opts *o, uv_loop_t *loop, stor **out, char msg[256])
{
    *out = NULL;
    msg[0] = 0;
    if (!o || !o->dir || !*o->dir || !loop || o->durability < STOR_ALWAYS ||
        o->durability > STOR_NONE) {
        snprintf(msg, 256, "storage options: missing directory or bad durability");
        return ANT_EINTERNAL;
    }
    stor *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(o->dir))) {
        free(s);
        snprintf(msg, 256, "out of memory");
        return ANT_ENOMEM;
    }
    s->lock_fd = -1;
    s->o = *o;
    s->o.dir = s->dir;
    s->loop = loop;
    s->next_batch = 1;
    long pg = sysconf(_SC_PAGESIZE);
    s->page = pg > 0 ? (size_t)pg : 4096;
    if (!s->o.map_size)
        s->o.map_size = 64ull << 20;
    if (!s->o.max_data_size)
        s->o.max_data_size = 16ull << 30;
    s->o.map_size = (s->o.map_size + s->page - 1) / s->page * s->page;
    if (s->o.max_data_size < s->o.map_size)
        s->o.max_data_size = s->o.map_size;

    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->maplock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv_work, &ca);
    pthread_cond_init(&s->cv_space, &ca);
    pthread_condattr_destroy(&ca);

    int rc;
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(msg, 256, "cannot create data directory %s: %s", s->dir, strerror(errno));
        rc = ANT_EUNAVAILABLE;
        goto fail;
    }
    /* a grown environment keeps its size: map at least the data file */
    uint64_t map = s->o.map_size;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/data.mdb", s->dir);
    if (stat(path, &st) == 0 && (uint64_t)st.st_size > map)
        map = ((uint64_t)st.st_size + s->page - 1) / s->page * s->page;

    s->env_flags = MDB_NOTLS;
    if (o->durability == STOR_BATCH)
        s->env_flags |= MDB_NOSYNC;
    else if (o->durability == STOR_NONE)
        s->env_flags |= MDB_NOSYNC | MDB_NOMETASYNC;
    int mrc = mdb_env_create(&s->env);
    if (mrc == 0)
        mrc = mdb_env_set_maxdbs(s->env, STOR_NDB + 2);
    if (mrc == 0)
        mrc = mdb_env_set_mapsize(s->env, (size_t)map);
    if (mrc == 0)
        mrc = mdb_env_open(s->env, s->dir, s->env_flags, 0600);
    if (mrc) {
        snprintf(msg, 256, "cannot open the LMDB environment in %s: %s", s->dir, mdb_strerror(mrc));
        rc = ANT_EUNAVAILABLE;
        goto fail;
    }
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    s->map_size = info.me_mapsize;
    s->m.map_size = s->map_size;
    if ((rc = stor_lock_dir(s, msg)) || (rc = stor_open_dbs(s, msg)) ||
        (rc = stor_load_state(s, msg)))
        goto fail;
    if ((rc = stor_loop_init(s))) {
        snprintf(msg, 256, "cannot set up loop handles");
        goto fail;
    }
    if ((rc = wal_start(s))) {
        snprintf(msg, 256, "cannot start the writer thread");
        stor_loop_close(s);
        stor_free(s);
        return rc;
    }
    *out = s;
    return 0;
fail:
    stor_free(s);
    return rc;
}

void stor_close(stor *s)
{
    if (!s)
        return;
    stor_loop_close(s); /* drains the writer and runs every completion */
    wal_retention_free(s);
    stor_free(s);
}
