/* harness.c - runs a unit test file's cases and prints the summary line. */
#include "harness.h"

int test_failures_in_case;
int test_assertions;

int test_run(const char *suite, const struct test_case *cases, size_t n)
{
    size_t i;
    int passed = 0;
    int failed = 0;

    for (i = 0; i < n; i++) {
        test_failures_in_case = 0;
        cases[i].fn();
        if (test_failures_in_case == 0) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAIL %s.%s (%d assertion(s) failed)\n", suite, cases[i].name,
                    test_failures_in_case);
        }
    }
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed == 0 ? 0 : 1;
}
