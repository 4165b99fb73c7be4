/*
 * ant_test.h — what every antrean unit test binary gets, and how to use it.
 *
 * Every C file in tests/unit/<module>/ is compiled, together with
 * tests/unit/common/ant_test.c, into one Criterion binary test_<module>
 * (see CMakeLists.txt). Write ordinary Criterion tests:
 *
 *     #include <criterion/criterion.h>
 *     #include "common/ant_test.h"
 *
 *     Test(calling, priority_before_normal) { ... }
 *
 * Leak checking is automatic; there is nothing to add to a test.
 *
 * Why this exists: Criterion 2.4.1 runs each test in a forked worker and
 * ignores what LeakSanitizer prints when that worker exits, so a leaking test
 * is reported as passed and the run exits 0. ant_test.c closes the hole twice:
 *
 *  1. The test binaries are linked with -Wl,--wrap=criterion_internal_test_main,
 *     so every test body (Test, ParameterizedTest) runs through a wrapper that,
 *     after the body returns, calls __lsan_do_recoverable_leak_check() and
 *     abort()s when it found a leak. The abort happens while Criterion still
 *     counts the test as running, so the test is reported as CRASHED under its
 *     own name, the Synthesis line shows "Crashing: 1" and the binary exits
 *     non-zero. A test that already failed an assertion is not checked again
 *     (Criterion longjmps past the wrapper), so failures are not doubled.
 *  2. The binaries carry default sanitizer options (detect_leaks=1,
 *     abort_on_error=1, UBSan halt_on_error=1, print_stacktrace=1), so even a
 *     binary run by hand aborts a worker whose leak check at exit fails
 *     (Criterion then prints "crashed during its setup or teardown" and exits
 *     non-zero). This also catches leaks made by .init/.fini fixtures. The
 *     environment (ASAN_OPTIONS, UBSAN_OPTIONS) still overrides them.
 *
 * Fixtures: memory a .init allocates and a .fini frees must be reachable from
 * a global/static while the test runs (it is: .fini takes no arguments), so it
 * is not reported by the check after the body.
 *
 * Outside an ASan build (release build/, TSan build) the checks are no-ops.
 */
#ifndef ANT_TEST_H
#define ANT_TEST_H

#include <stdint.h>

/*
 * Runs LeakSanitizer now and abort()s, after LSan has printed its report, if
 * any heap block is unreachable. No-op without LeakSanitizer. Called
 * automatically after every test body; call it yourself to pin a leak to a
 * point inside a long test, or use it as a .fini: Test(s, n, .fini = ant_leak_check).
 */
void ant_leak_check(void);

/*
 * The seed for randomized tests: ANT_SEED from the environment (set it with
 * `make test SEED=1234`), else a fixed default, so a run is repeatable.
 * Print it in a failure message so a failing run can be replayed.
 */
uint64_t ant_test_seed(void);

#endif /* ANT_TEST_H */
