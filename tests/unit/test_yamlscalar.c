/* test_yamlscalar.c - how plain scalars are typed (YAML 1.2 core schema)
 * and which style each kind of string is written in. */
#include "cli/yamlscalar.h"
#include "harness.h"

static void test_kinds(void)
{
    static const struct {
        const char *text;
        enum yamlscalar_kind kind;
    } cases[] = {
        {"", YAMLSCALAR_NULL},
        {"~", YAMLSCALAR_NULL},
        {"Null", YAMLSCALAR_NULL},
        {"nULL", YAMLSCALAR_STRING},
        {"True", YAMLSCALAR_TRUE},
        {"FALSE", YAMLSCALAR_FALSE},
        {"yes", YAMLSCALAR_STRING},
        {"off", YAMLSCALAR_STRING},
        {"010", YAMLSCALAR_INT},
        {"-7", YAMLSCALAR_INT},
        {"+7", YAMLSCALAR_INT},
        {"0o17", YAMLSCALAR_INT},
        {"0x1F", YAMLSCALAR_INT},
        {"0x", YAMLSCALAR_STRING},
        {"-0x1F", YAMLSCALAR_STRING},
        {"1e3", YAMLSCALAR_FLOAT},
        {"-.5", YAMLSCALAR_FLOAT},
        {"1.", YAMLSCALAR_FLOAT},
        {".", YAMLSCALAR_STRING},
        {"1e", YAMLSCALAR_STRING},
        {"1_000", YAMLSCALAR_STRING},
        {".inf", YAMLSCALAR_NOT_FINITE},
        {"-.Inf", YAMLSCALAR_NOT_FINITE},
        {".NaN", YAMLSCALAR_NOT_FINITE},
        {"2030-01-01", YAMLSCALAR_STRING},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum yamlscalar_kind got = yamlscalar_kind(cases[i].text, strlen(cases[i].text));

        test_assertions++;
        if (got != cases[i].kind)
            T_FAIL_AT("kind of \"%s\": got %d, want %d", cases[i].text, (int)got,
                      (int)cases[i].kind);
    }
}

static void test_values(void)
{
    json_t *v = yamlscalar_value("0o17", 4, YAMLSCALAR_INT);

    T_EQ_INT(json_integer_value(v), 15);
    json_decref(v);
    v = yamlscalar_value("0x1F", 4, YAMLSCALAR_INT);
    T_EQ_INT(json_integer_value(v), 31);
    json_decref(v);
    v = yamlscalar_value("010", 3, YAMLSCALAR_INT);
    T_EQ_INT(json_integer_value(v), 10);
    json_decref(v);
    v = yamlscalar_value("0o2000000000000000000000", 24, YAMLSCALAR_INT);
    T_TRUE(json_is_real(v) && json_real_value(v) == 18446744073709551616.0);
    json_decref(v);
    v = yamlscalar_value("ok", 2, YAMLSCALAR_STRING);
    T_EQ_STR(json_string_value(v), "ok");
    json_decref(v);
    /* not UTF-8: jansson cannot hold it */
    T_TRUE(yamlscalar_value("\xff", 1, YAMLSCALAR_STRING) == NULL);
}

static void test_styles(void)
{
    static const struct {
        const char *text;
        yaml_scalar_style_t style;
    } cases[] = {
        {"reporter", YAML_PLAIN_SCALAR_STYLE},
        {"cron(0 2 * * ? *)", YAML_PLAIN_SCALAR_STYLE},
        {"a:b", YAML_PLAIN_SCALAR_STYLE},
        {"a#b", YAML_PLAIN_SCALAR_STYLE},
        {"é ünïcode", YAML_PLAIN_SCALAR_STYLE},
        {"<<", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"=", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"~", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"yes", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"0x1F", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"1_000", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"2030-01-01", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"-x", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"%x", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"@x", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"a: b", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"a #b", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"a:", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {" lead", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"trail ", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"...x", YAML_SINGLE_QUOTED_SCALAR_STYLE},
        {"tab\there", YAML_DOUBLE_QUOTED_SCALAR_STYLE},
        {"two\nlines", YAML_DOUBLE_QUOTED_SCALAR_STYLE},
        {"del\x7f", YAML_DOUBLE_QUOTED_SCALAR_STYLE},
        {"nel\xc2\x85", YAML_DOUBLE_QUOTED_SCALAR_STYLE},
        {"ls\xe2\x80\xa8", YAML_DOUBLE_QUOTED_SCALAR_STYLE},
        {"\xef\xbb\xbf"
         "bom",
         YAML_DOUBLE_QUOTED_SCALAR_STYLE},
        {"x\xef\xbf\xbe", YAML_DOUBLE_QUOTED_SCALAR_STYLE},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        yaml_scalar_style_t got = yamlscalar_style(cases[i].text, strlen(cases[i].text));

        test_assertions++;
        if (got != cases[i].style)
            T_FAIL_AT("style of \"%s\": got %d, want %d", cases[i].text, (int)got,
                      (int)cases[i].style);
    }
    T_EQ_INT(yamlscalar_style("a\0b", 3), YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static const struct test_case cases[] = {
    {"plain scalars are typed by YAML 1.2's core schema", test_kinds},
    {"values of typed scalars", test_values},
    {"each string gets the style that keeps it", test_styles},
};

TEST_MAIN("yamlscalar", cases)
