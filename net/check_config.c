/*
 * check_config.c — `antrean-server --check-config FILE`: validate a hall file
 * before it is deployed, without opening storage or listening.
 *
 * The messages are the engine's (eng_config_parse), the very ones the API
 * puts into a 400 for PUT /v1/halls/{hall}: one problem per line, each
 * starting with its JSON path, so an operator fixes them all in one pass.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

int check_config_file(const char *path, FILE *out)
{
    size_t len = 0;
    errno = 0;
    char *json = halls_read_file(path, &len);
    if (!json) {
        fprintf(out, "%s: cannot read: %s\n", path, strerror(errno ? errno : ENOMEM));
        return 1;
    }
    eng_config *cfg = NULL;
    eng_problems *p = calloc(1, sizeof *p);
    if (!p) {
        free(json);
        fprintf(out, "%s: out of memory\n", path);
        return 1;
    }
    int rc = eng_config_parse(json, len, &cfg, p);
    free(json);
    if (rc != 0) {
        fprintf(out, "%s: invalid hall config (%d problem%s)\n", path, p->count,
                p->count == 1 ? "" : "s");
        for (int i = 0; i < p->count && i < ENG_PROBLEMS_MAX; i++)
            fprintf(out, "%s: %s\n", path, p->msg[i]);
        if (p->count > ENG_PROBLEMS_MAX)
            fprintf(out, "%s: … and %d more\n", path, p->count - ENG_PROBLEMS_MAX);
        free(p);
        return 1;
    }
    free(p);
    fprintf(out, "%s: ok: hall %s (%u agencies, %u services, %u counters)\n", path, cfg->id,
            cfg->nagencies, cfg->nservices, cfg->ncounters);
    eng_config_free(cfg);
    return 0;
}
