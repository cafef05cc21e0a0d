/* harness.h - a tiny test harness: each unit test file defines test
 * functions, lists them in TESTS, and gets a main() that runs them and
 * ends with the line "N passed, N failed". Failed assertions print both
 * values and the source line, and the test goes on to the next assertion. */
#ifndef ECS_TEST_HARNESS_H
#define ECS_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

extern int test_failures_in_case;
extern int test_assertions;

#define T_FAIL_AT(...)                                                                             \
    do {                                                                                           \
        test_failures_in_case++;                                                                   \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
    } while (0)

#define T_TRUE(cond)                                                                               \
    do {                                                                                           \
        test_assertions++;                                                                         \
        if (!(cond))                                                                               \
            T_FAIL_AT("expected true: %s", #cond);                                                 \
    } while (0)

#define T_EQ_INT(got, want)                                                                        \
    do {                                                                                           \
        long long t_got_ = (long long)(got);                                                       \
        long long t_want_ = (long long)(want);                                                     \
        test_assertions++;                                                                         \
        if (t_got_ != t_want_)                                                                     \
            T_FAIL_AT("%s: got %lld, want %lld", #got, t_got_, t_want_);                           \
    } while (0)

#define T_EQ_STR(got, want)                                                                        \
    do {                                                                                           \
        const char *t_got_ = (got);                                                                \
        const char *t_want_ = (want);                                                              \
        test_assertions++;                                                                         \
        if (t_got_ == NULL || t_want_ == NULL || strcmp(t_got_, t_want_) != 0)                     \
            T_FAIL_AT("%s: got \"%s\", want \"%s\"", #got, t_got_ ? t_got_ : "(null)",             \
                      t_want_ ? t_want_ : "(null)");                                               \
    } while (0)

/* got contains want as a substring */
#define T_HAS_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *t_got_ = (got);                                                                \
        const char *t_want_ = (want);                                                              \
        test_assertions++;                                                                         \
        if (t_got_ == NULL || strstr(t_got_, t_want_) == NULL)                                     \
            T_FAIL_AT("%s: got \"%s\", want it to contain \"%s\"", #got,                           \
                      t_got_ ? t_got_ : "(null)", t_want_);                                        \
    } while (0)

int test_run(const char *suite, const struct test_case *cases, size_t n);

#define TEST_MAIN(suite, cases)                                                                    \
    int main(void)                                                                                 \
    {                                                                                              \
        return test_run(suite, cases, sizeof(cases) / sizeof(cases[0]));                           \
    }

#endif
