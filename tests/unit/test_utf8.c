/* test_utf8.c - the strict UTF-8 check the HTTP door and routes apply to
 * path segments: what it accepts, and the offset it names when it does
 * not. */
#include "core/utf8.h"
#include "harness.h"

/* One case: the bytes, and the offset of the first wrong byte (-1: none). */
struct utf8_case {
    const char *s;
    size_t n;
    long bad_at;
};

static const struct utf8_case valid_cases[] = {
    {"chunky", 6, -1},           {"", 0, -1},
    {"caf\xc3\xa9", 5, -1},      {"\xe2\x82\xac", 3, -1},
    {"\xf0\x9f\x98\x80", 4, -1}, {"\xf4\x8f\xbf\xbf", 4, -1},
    {"\xed\x9f\xbf", 3, -1},
};

/* lone and continuation bytes, NUL and controls, overlongs, surrogates,
 * past U+10FFFF, cut short */
static const struct utf8_case invalid_cases[] = {
    {"\xff", 1, 0},         {"ab\xfe", 3, 2},       {"chunky\0zzz", 10, 6},
    {"a\nb", 3, 1},         {"a\x7f", 2, 1},        {"\xc0\xaf", 2, 0},
    {"\xe0\x80\xaf", 3, 0}, {"\xed\xa0\x80", 3, 0}, {"\xf4\x90\x80\x80", 4, 0},
    {"x\xc3", 2, 1},        {"\xe2\x82", 2, 0},     {"\xe2\x28\xa1", 3, 0},
    {"\x80", 1, 0},
};

static void run_cases(const struct utf8_case *cases, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        size_t at = 9999;
        int rc = utf8_check_text(cases[i].s, cases[i].n, &at);

        T_EQ_INT(rc, cases[i].bad_at < 0 ? 0 : -1);
        if (cases[i].bad_at >= 0)
            T_EQ_INT(at, cases[i].bad_at);
    }
}

static void test_valid(void)
{
    run_cases(valid_cases, sizeof(valid_cases) / sizeof(valid_cases[0]));
}

static void test_invalid(void)
{
    run_cases(invalid_cases, sizeof(invalid_cases) / sizeof(invalid_cases[0]));
}

static const struct test_case cases[] = {
    {"valid", test_valid},
    {"invalid", test_invalid},
};

TEST_MAIN("utf8", cases)
