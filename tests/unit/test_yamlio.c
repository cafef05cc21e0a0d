/* test_yamlio.c - YAML written by yamlio_write reads back through
 * yamlio_load as the same JSON value, for every string a job may hold
 * (keys and values that look like YAML syntax, other types, control
 * characters, very long ones), and what the loader cannot represent is
 * refused at its line. */
#include <stdlib.h>

#include "cli/yamlio.h"
#include "core/error.h"
#include "harness.h"

/* Write v, return the text (malloc'd) or NULL with the message in msg. */
static char *written(const json_t *v, char *msg, size_t msglen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int rc;

    if (f == NULL) {
        snprintf(msg, msglen, "open_memstream failed");
        return NULL;
    }
    rc = yamlio_write(f, v, msg, msglen);
    fclose(f);
    if (rc != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* Write v and read it back: 1 when the value read is json_equal to v;
 * else 0 with what went wrong printed. */
static int round_trips(const json_t *v)
{
    char msg[512] = "";
    char *text = written(v, msg, sizeof(msg));
    json_t *back = NULL;
    json_t *marks = NULL;
    int same = 0;

    if (text == NULL) {
        fprintf(stderr, "  write failed: %s\n", msg);
        return 0;
    }
    if (yamlio_load("t.yaml", text, strlen(text), &back, &marks, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "  reload failed: %s\n  text: %.300s\n", msg, text);
    } else {
        same = json_equal(back, v);
        if (!same) {
            char *want = json_dumps(v, JSON_ENCODE_ANY);
            char *got = json_dumps(back, JSON_ENCODE_ANY);

            fprintf(stderr, "  want %.300s\n  got  %.300s\n  text: %.300s\n", want,
                    got != NULL ? got : "(null)", text);
            free(want);
            free(got);
        }
    }
    json_decref(back);
    json_decref(marks);
    free(text);
    return same;
}

/* The string s as a value, as a key, as a list item and as the whole
 * document, inside a job's environment as export writes it. */
static int string_round_trips(const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);
    json_t *env = json_object();
    json_t *job;
    int ok;

    json_object_setn_new(env, s, len, json_incref(v));
    json_object_set_new(env, "PLAIN", json_incref(v));
    job = json_pack("{s:[{s:s, s:O, s:s, s:[{s:s, s:O}], s:[O, O]}]}", "jobs", "id", "j",
                    "schedule", v, "taskDefinition", "td", "overrides", "containerName", "main",
                    "environment", env, "command", v, v);
    ok = job != NULL && round_trips(job) && round_trips(v);
    json_decref(job);
    json_decref(env);
    json_decref(v);
    return ok;
}

/* Strings a careless writer turns into something else. */
static const char *const tricky[] = {
    "<<",
    "=",
    "~",
    "null",
    "Null",
    "NULL",
    "",
    " ",
    "true",
    "True",
    "FALSE",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "N",
    "YES",
    "Off",
    "0",
    "1",
    "-1",
    "+1",
    "0x1F",
    "0o17",
    "1e3",
    "010",
    ".inf",
    "-.inf",
    ".NaN",
    ".5",
    "-.5",
    "1.",
    "1_000",
    "1:20",
    "2030-01-01",
    "2030-01-01T09:00:00Z",
    "-",
    "- dash",
    "-x",
    "?",
    "? q",
    "?x",
    ":",
    ": c",
    ":x",
    ",",
    "[",
    "]",
    "{",
    "}",
    "[a, b]",
    "{a: b}",
    "#",
    "# not a comment",
    "#x",
    "&anchor",
    "*alias",
    "!tag",
    "!!str",
    "|",
    "|-",
    ">",
    ">+",
    "'",
    "''",
    "\"",
    "\"\"",
    "%YAML 1.2",
    "@at",
    "`tick",
    "a: b",
    "a:b",
    "a #b",
    "a#b",
    "a:",
    " lead",
    "trail ",
    "  both  ",
    "---",
    "...",
    "--- x",
    "... x",
    "line one\nline two",
    "\n",
    "\n\n",
    "trailing\n",
    "\nleading",
    " \n ",
    "a\n b",
    "tab\there",
    "\t",
    "\ttab",
    "tab\t",
    "cr\rlf",
    "\r\n",
    "bell\a",
    "esc\x1b[0m",
    "del\x7f",
    "back\\slash",
    "\\n",
    "it's \"quoted\"",
    "é ünïcode",
    "日本語",
    "emoji \xf0\x9f\x98\x80",
    "nel\xc2\x85x",
    "c1\xc2\x80",
    "ls\xe2\x80\xa8x",
    "ps\xe2\x80\xa9x",
    "\xef\xbb\xbf"
    "bom",
    "nb\xc2\xa0sp",
    "\xc2\xa0",
    "non\xef\xbf\xbe",
    "x\xef\xbf\xbf",
    "cron(0 2 * * ? *)",
    "? 0 9",
    "rate(5 minutes)",
    "s3://bucket/key",
    "http://h:80/p",
    "a, b",
    "x ? y",
    "x - y",
};

static void test_tricky_strings(void)
{
    size_t i;

    for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
        int ok = string_round_trips(tricky[i], strlen(tricky[i]));

        test_assertions++;
        if (!ok)
            T_FAIL_AT("\"%s\" does not survive write and reload", tricky[i]);
    }
}

/* The issue's report: export wrote environment {"<<": "x"} as a plain
 * << key, which reads as a merge key, so apply refused it. */
static void test_merge_key_string(void)
{
    json_t *v = json_pack("{s:{s:s, s:s}}", "environment", "<<", "x", "a", "b");
    char msg[256] = "";
    char *text = written(v, msg, sizeof(msg));

    T_TRUE(round_trips(v));
    T_HAS_STR(text, "'<<': x");
    free(text);
    json_decref(v);
}

static void test_nul_in_value(void)
{
    json_t *v = json_pack("{s:s%}", "K", "a\0b", (size_t)3);

    T_TRUE(round_trips(v));
    json_decref(v);
}

static void test_nul_in_key_refused(void)
{
    json_t *v = json_object();
    char msg[256] = "";
    char *text;

    json_object_setn_new(v, "a\0b", 3, json_true());
    text = written(v, msg, sizeof(msg));
    T_TRUE(text == NULL);
    T_HAS_STR(msg, "a key holds a NUL character");
    free(text);
    json_decref(v);
}

static void test_long_strings(void)
{
    size_t len = 200000;
    char *s = malloc(len + 1);
    size_t i;

    for (i = 0; i < len; i++)
        s[i] = (char)("ab c: #-\n\t"[i % 10]);
    s[len] = '\0';
    T_TRUE(string_round_trips(s, len));
    memset(s, 'k', len);
    T_TRUE(string_round_trips(s, 300));
    T_TRUE(string_round_trips(s, len));
    free(s);
}

/* Ordinary text stays plain, so an export reads like a hand-written
 * file. */
static void test_plain_when_ordinary(void)
{
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:i, s:b, s:s}", "id", "report", "taskDefinition",
                          "arn:aws:ecs:eu-west-1:1:task-definition/reporter:3", "schedule",
                          "cron(0 2 * * ? *)", "timezone", "Europe/London", "taskCount", 2,
                          "suspended", 1, "command", "echo hello, world");
    char msg[256] = "";
    char *text = written(v, msg, sizeof(msg));

    T_EQ_STR(text, "id: report\n"
                   "taskDefinition: arn:aws:ecs:eu-west-1:1:task-definition/reporter:3\n"
                   "schedule: cron(0 2 * * ? *)\n"
                   "timezone: Europe/London\n"
                   "taskCount: 2\n"
                   "suspended: true\n"
                   "command: echo hello, world\n");
    free(text);
    json_decref(v);
}

static void test_numbers(void)
{
    json_t *v =
        json_pack("[I, I, f, f, f, f, f, f]", (json_int_t)-9223372036854775807LL - 1,
                  (json_int_t)9223372036854775807LL, 0.1, -0.0, 1e300, 5e-324, 3.0, -123456.789);

    char msg[256] = "";
    char *text = written(v, msg, sizeof(msg));

    T_TRUE(round_trips(v));
    /* always a '.', which YAML 1.1 readers need to see a float */
    T_EQ_STR(text, "- -9223372036854775808\n- 9223372036854775807\n- 0.1\n- -0.0\n- 1.0e+300\n"
                   "- 4.94065645841247e-324\n- 3.0\n- -123456.789\n");
    free(text);
    json_decref(v);
}

/* A plain integer too large for json_int_t keeps its magnitude. */
static void test_big_integers(void)
{
    const char *const texts[] = {"18446744073709551616", "0x10000000000000000",
                                 "0o2000000000000000000000"};
    size_t i;

    for (i = 0; i < 3; i++) {
        json_t *v = NULL;
        json_t *marks = NULL;
        char msg[256] = "";

        T_EQ_INT(yamlio_load("t.yaml", texts[i], strlen(texts[i]), &v, &marks, msg, sizeof(msg)),
                 0);
        T_TRUE(json_is_real(v));
        test_assertions++;
        if (json_real_value(v) < 1e19 || json_real_value(v) > 1.9e19)
            T_FAIL_AT("%s read as %g, want about 1.8e19", texts[i], json_real_value(v));
        json_decref(v);
        json_decref(marks);
    }
}

/* Random strings over an alphabet of YAML's special characters: a fixed
 * seed, so a failure repeats. */
static void test_random_strings(void)
{
    static const char *const parts[] = {
        " ",        "-",   "?",  ":",   ",",    "[",    "]",   "{",   "}",        "#",
        "&",        "*",   "!",  "|",   ">",    "'",    "\"",  "%",   "@",        "`",
        "\t",       "\n",  "\r", "\\",  "<<",   "~",    "0",   "1",   ".",        "e",
        "x",        "o",   "a",  "yes", "null", "true", "---", "...", "\xc2\x85", "\xe2\x80\xa8",
        "\xc3\xa9", "\x01"};
    uint32_t seed = 2026;
    int i;
    int failed = 0;

    for (i = 0; i < 20000 && failed < 5; i++) {
        char s[64] = "";
        size_t n;
        int k;

        seed = seed * 1103515245u + 12345u;
        n = (seed >> 16) % 6 + 1;
        for (k = 0; k < (int)n; k++) {
            seed = seed * 1103515245u + 12345u;
            strcat(s, parts[(seed >> 16) % (sizeof(parts) / sizeof(parts[0]))]);
        }
        test_assertions++;
        if (!string_round_trips(s, strlen(s))) {
            failed++;
            T_FAIL_AT("random string %d does not survive write and reload", i);
        }
    }
}

static int load_fails(const char *text, char *msg, size_t msglen)
{
    json_t *v = NULL;
    json_t *marks = NULL;
    int rc = yamlio_load("t.yaml", text, strlen(text), &v, &marks, msg, msglen);

    json_decref(v);
    json_decref(marks);
    return rc;
}

/* A plain << is YAML 1.1's merge key: it merges a mapping, and anything
 * else behind it is refused at its line (quote it for a key named <<). */
static void test_merge_key_rules(void)
{
    const char *merged = "base: &b {a: 1, b: 2}\njob:\n  <<: *b\n  b: 3\n";
    json_t *v = NULL;
    json_t *marks = NULL;
    json_t *want =
        json_pack("{s:{s:i, s:i}, s:{s:i, s:i}}", "base", "a", 1, "b", 2, "job", "b", 3, "a", 1);
    char msg[256] = "";

    T_EQ_INT(yamlio_load("t.yaml", merged, strlen(merged), &v, &marks, msg, sizeof(msg)), 0);
    T_TRUE(json_equal(v, want));
    json_decref(v);
    json_decref(marks);
    json_decref(want);
    T_EQ_INT(load_fails("environment:\n  A: b\n  <<: x\n", msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "t.yaml:3:");
    T_HAS_STR(msg, "'<<' (merge) needs a mapping or a list of mappings");
    T_EQ_INT(load_fails("environment:\n  '<<': x\n", msg, sizeof(msg)), 0);
}

static void test_unrepresentable_refused(void)
{
    char msg[256] = "";

    T_EQ_INT(load_fails("a: 1\nb: .inf\n", msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "t.yaml:2:");
    T_EQ_INT(load_fails("a:\n  - !custom x\n", msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "t.yaml:2:");
    T_EQ_INT(load_fails("a: 1\n? [x]\n: y\n", msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "t.yaml:2:");
    T_EQ_INT(load_fails("a: 1\n\"k\\0\": y\n", msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "t.yaml:2:");
    T_HAS_STR(msg, "NUL");
}

static const struct test_case cases[] = {
    {"tricky strings round trip", test_tricky_strings},
    {"<< as a key round trips (issue 13.9)", test_merge_key_string},
    {"NUL in a value round trips", test_nul_in_value},
    {"NUL in a key is refused by the writer", test_nul_in_key_refused},
    {"very long strings and keys", test_long_strings},
    {"ordinary strings stay plain", test_plain_when_ordinary},
    {"numbers round trip", test_numbers},
    {"big integers keep their magnitude", test_big_integers},
    {"random special strings round trip", test_random_strings},
    {"merge keys merge, or are refused at their line", test_merge_key_rules},
    {"what JSON cannot hold is refused at its line", test_unrepresentable_refused},
};

TEST_MAIN("yamlio", cases)
