/*
 * ant_test.c — linked into every unit test binary; see ant_test.h for why.
 * Relies on Criterion 2.4.1 internals (criterion_internal_test_main and
 * criterion_current_test, both exported by libcriterion.so.3); the proof that
 * it bites is in docs/developers.md.
 */
#include "common/ant_test.h"

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Weak: resolved by the ASan/LSan runtime when there is one, NULL otherwise. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

/* Sanitizer defaults baked into the binary; the environment overrides them. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
    return "detect_leaks=1:abort_on_error=1";
}

const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}

void ant_leak_check(void)
{
    if (__lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check() != 0) {
        fprintf(stderr, "ant_test: LeakSanitizer found leaks (report above); aborting the test\n");
        abort();
    }
}

uint64_t ant_test_seed(void)
{
    const char *s = getenv("ANT_SEED");
    if (s && *s)
        return strtoull(s, NULL, 0);
    return 0x616e747265616eULL; /* "antrean" */
}

/* Criterion's worker runs exactly one test, so one slot is enough.
 * criterion_current_test is public (criterion.h); the wrapped function is not. */
void __real_criterion_internal_test_main(void (*fn)(void));
void __wrap_criterion_internal_test_main(void (*fn)(void));

static void (*body)(void);

static void run_checked(void)
{
    body();
    ant_leak_check();
}

static void run_checked_param(void *param)
{
    ((void (*)(void *))body)(param);
    ant_leak_check();
}

void __wrap_criterion_internal_test_main(void (*fn)(void))
{
    const struct criterion_test *t = criterion_current_test;
    enum criterion_test_kind kind = CR_TEST_NORMAL;

    /* In the worker, t->data points into Criterion's serialized (unaligned)
     * copy of the test: read the field with memcpy, not a member access. */
    if (t && t->data)
        memcpy(&kind, (const char *)t->data + offsetof(struct criterion_test_extra_data, kind_),
               sizeof(kind));
    body = fn;
    if (kind == CR_TEST_PARAMETERIZED)
        __real_criterion_internal_test_main((void (*)(void))run_checked_param);
    else
        __real_criterion_internal_test_main(run_checked);
}
