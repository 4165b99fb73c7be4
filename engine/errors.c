/* errors.c — lookups into the error table of errors.h. */
#include "errors.h"

static const struct {
    const char *wire;
    int status;
} err_table[] = {
#define ANT_X_ROW(name, wire, status) {wire, status},
    ANT_ERROR_TABLE(ANT_X_ROW)
#undef ANT_X_ROW
};

const char *ant_err_code(int rc)
{
    int idx = -rc - 1;
    if (rc >= 0 || idx >= (int)(sizeof err_table / sizeof err_table[0]))
        return "internal";
    return err_table[idx].wire;
}

int ant_err_status(int rc)
{
    int idx = -rc - 1;
    if (rc == 0)
        return 200;
    if (rc > 0 || idx >= (int)(sizeof err_table / sizeof err_table[0]))
        return 500;
    return err_table[idx].status;
}
