/*
 * test_errors.c — the one error table: every ANT_E* code has the wire code
 * and HTTP status of SPEC §4, and unknown values fall back to internal/500.
 */
#include <criterion/criterion.h>

#include "common/ant_test.h"
#include "errors.h"

Test(errors, every_code_has_its_wire_name_and_status)
{
    static const struct {
        int rc;
        const char *wire;
        int status;
    } want[] = {
        {ANT_EBADREQ, "bad_request", 400},        {ANT_EUNAUTH, "unauthorized", 401},
        {ANT_EFORBIDDEN, "forbidden", 403},       {ANT_ENOTFOUND, "not_found", 404},
        {ANT_EMETHOD, "method_not_allowed", 405}, {ANT_ETOOLARGE, "too_large", 413},
        {ANT_EHEADTOOLARGE, "too_large", 431},    {ANT_ERATELIMIT, "rate_limited", 429},
        {ANT_EOVERLOADED, "overloaded", 503},     {ANT_EUNAVAILABLE, "unavailable", 503},
        {ANT_EINTERNAL, "internal", 500},         {ANT_EBUSY, "counter_busy", 409},
        {ANT_ESTATE, "invalid_state", 409},       {ANT_EEMPTY, "queue_empty", 409},
        {ANT_ETOOEARLY, "too_early", 409},        {ANT_ECLOSED, "hall_closed", 409},
        {ANT_EQUOTA, "quota_exhausted", 409},     {ANT_ENOMEM, "internal", 500},
        {ANT_ESLOTFULL, "slot_full", 409},
    };
    int n = (int)(sizeof want / sizeof want[0]);
    cr_assert_eq(n, ANT_E__COUNT, "a code was added without a test row");
    for (int i = 0; i < n; i++) {
        cr_assert_lt(want[i].rc, 0);
        cr_assert_str_eq(ant_err_code(want[i].rc), want[i].wire, "code %d", want[i].rc);
        cr_assert_eq(ant_err_status(want[i].rc), want[i].status, "code %d", want[i].rc);
        for (int j = 0; j < i; j++)
            cr_assert_neq(want[i].rc, want[j].rc, "two names share the value %d", want[i].rc);
    }
    cr_assert_eq(ANT_EBADREQ, -1, "the first row is -1");
    cr_assert_eq(ant_err_status(0), 200);
    cr_assert_str_eq(ant_err_code(-1000), "internal");
    cr_assert_eq(ant_err_status(-1000), 500);
    cr_assert_eq(ant_err_status(7), 500);
}
