/*
 * fsync_shim.c — an LD_PRELOAD library for the ack-ordering test
 * (tests/integration/ack_order.test.mjs). It wraps fsync and fdatasync, which
 * LMDB calls to make a commit durable, and obeys two files in the directory
 * named by ANT_SHIM_DIR:
 *   block  while it exists, every sync waits (polling every 2 ms, at most 30 s)
 *   fail   while it exists, every sync fails with EIO
 * Nothing else changes. Test-only: never linked into the server.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

static int exists(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static int shim(int fd, const char *sym)
{
    const char *dir = getenv("ANT_SHIM_DIR");
    if (dir) {
        struct timespec pause = {0, 2000000};
        for (int i = 0; i < 15000 && exists(dir, "block"); i++) /* 30 s at most */
            nanosleep(&pause, NULL);
        if (exists(dir, "fail")) {
            errno = EIO;
            return -1;
        }
    }
    sync_fn real = (sync_fn)dlsym(RTLD_NEXT, sym);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(fd);
}

int fsync(int fd)
{
    return shim(fd, "fsync");
}

int fdatasync(int fd)
{
    return shim(fd, "fdatasync");
}
