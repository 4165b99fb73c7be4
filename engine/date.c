/*
 * date.c — hall calendar days as "YYYY-MM-DD" and back (proleptic
 * Gregorian, day 0 = 1970-01-01), without the C library's time zones.
 */
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "errors.h"

/* Day numbers of 0000-01-01 and 9999-12-31: the range "YYYY-MM-DD" can write. */
#define DAY_MIN (-719528)
#define DAY_MAX 2932896

/* ---- calendar dates (proleptic Gregorian; H. Hinnant's algorithms) ------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

int eng_parse_date(const char *s, int32_t *day)
{
    int n[8], k = 0;
    if (!s || !day)
        return ANT_EBADREQ;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return ANT_EBADREQ;
        } else if (s[i] >= '0' && s[i] <= '9') {
            n[k++] = s[i] - '0';
        } else {
            return ANT_EBADREQ;
        }
    }
    if (s[10] != '\0')
        return ANT_EBADREQ;
    int64_t y = n[0] * 1000 + n[1] * 100 + n[2] * 10 + n[3];
    unsigned m = (unsigned)(n[4] * 10 + n[5]), d = (unsigned)(n[6] * 10 + n[7]);
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return ANT_EBADREQ;
    *day = (int32_t)days_from_civil(y, m, d);
    return 0;
}

void eng_format_date(int32_t day, char *buf)
{
    int64_t y;
    unsigned m, d;
    /* "YYYY-MM-DD" has room for years 0000–9999 only; clamp rather than overflow buf. */
    civil_from_days(day < DAY_MIN ? DAY_MIN : day > DAY_MAX ? DAY_MAX : day, &y, &m, &d);
    snprintf(buf, 11, "%04u-%02u-%02u", (unsigned)y % 10000, m % 100, d % 100);
}
