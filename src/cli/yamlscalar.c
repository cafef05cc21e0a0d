/* yamlscalar.c - typing plain YAML scalars (YAML 1.2 core schema) and
 * choosing the style that keeps a string a string: the loader and the
 * writer share these rules so that what one writes the other reads back
 * unchanged. */
#include "cli/yamlscalar.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int is_one_of(const char *s, size_t len, const char *const *words)
{
    size_t i;

    for (i = 0; words[i] != NULL; i++) {
        if (strlen(words[i]) == len && memcmp(s, words[i], len) == 0)
            return 1;
    }
    return 0;
}

static size_t digits(const char *s, size_t len, const char *set)
{
    size_t n = 0;

    while (n < len && s[n] != '\0' && strchr(set, s[n]) != NULL)
        n++;
    return n;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_float(const char *s, size_t len)
{
    size_t i = 0;
    size_t whole;
    size_t frac = 0;

    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    whole = digits(s + i, len - i, "0123456789");
    i += whole;
    if (i < len && s[i] == '.') {
        i++;
        frac = digits(s + i, len - i, "0123456789");
        i += frac;
    }
    if (whole == 0 && frac == 0)
        return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp;

        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        exp = digits(s + i, len - i, "0123456789");
        if (exp == 0)
            return 0;
        i += exp;
    }
    return i == len;
}

enum yamlscalar_kind yamlscalar_kind(const char *s, size_t len)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const inf[] = {".inf",  ".Inf",  ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
                                      "-.Inf", "-.INF", ".nan", ".NaN",  ".NAN",  NULL};
    size_t sign = len > 0 && (s[0] == '-' || s[0] == '+');

    if (is_one_of(s, len, nulls))
        return YAMLSCALAR_NULL;
    if (is_one_of(s, len, trues))
        return YAMLSCALAR_TRUE;
    if (is_one_of(s, len, falses))
        return YAMLSCALAR_FALSE;
    if (len > sign && digits(s + sign, len - sign, "0123456789") == len - sign)
        return YAMLSCALAR_INT;
    if (len > 2 && s[0] == '0' && s[1] == 'o' && digits(s + 2, len - 2, "01234567") == len - 2)
        return YAMLSCALAR_INT;
    if (len > 2 && s[0] == '0' && s[1] == 'x' &&
        digits(s + 2, len - 2, "0123456789abcdefABCDEF") == len - 2)
        return YAMLSCALAR_INT;
    if (is_float(s, len))
        return YAMLSCALAR_FLOAT;
    if (is_one_of(s, len, inf))
        return YAMLSCALAR_NOT_FINITE;
    return YAMLSCALAR_STRING;
}

/* An integer in base 8 or 16 that overflowed json_int_t, as a double;
 * strtod reads hex but would read "0o..." as 0. */
static double big_unsigned(const char *s, size_t len, int base)
{
    double d = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        const char *hex = "0123456789abcdef";
        const char *at = strchr(hex, s[i] | 0x20);

        d = d * base + (double)(at - hex);
    }
    return d;
}

static json_t *int_value(const char *s, size_t len)
{
    long long n;
    int base = 10;
    const char *from = s;

    if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        base = s[1] == 'o' ? 8 : 16;
        from = s + 2;
    }
    errno = 0;
    n = strtoll(from, NULL, base);
    if (errno != ERANGE)
        return json_integer(n);
    /* too big for an integer: keep its magnitude as JSON would */
    if (base == 10)
        return json_real(strtod(s, NULL));
    return json_real(big_unsigned(from, len - 2, base));
}

json_t *yamlscalar_value(const char *s, size_t len, enum yamlscalar_kind kind)
{
    switch (kind) {
    case YAMLSCALAR_NULL:
        return json_null();
    case YAMLSCALAR_TRUE:
        return json_true();
    case YAMLSCALAR_FALSE:
        return json_false();
    case YAMLSCALAR_INT:
        return int_value(s, len);
    case YAMLSCALAR_FLOAT:
        return json_real(strtod(s, NULL));
    default:
        return json_stringn(s, len);
    }
}

/* Would a YAML 1.1 reader (PyYAML and most tools people pipe files
 * through) take this plain text for something else: yes/no/on/off, a
 * number with _ or : or a leading zero, a date? */
static int yaml11_special(const char *s, size_t len)
{
    static const char *const words[] = {"y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no", "No",
                                        "NO", "on", "On",  "ON",  "off", "Off", "OFF", NULL};

    if (is_one_of(s, len, words))
        return 1;
    if (len > 0 && strchr("0123456789+-.", s[0]) != NULL &&
        digits(s, len, "0123456789_:.+-eExXoObBabcdefABCDEF") == len)
        return 1;
    return len >= 8 && digits(s, 4, "0123456789") == 4 && s[4] == '-';
}

/* A character that only an escape in a double-quoted scalar keeps:
 * C0 controls (tab and line feed among them), DEL, C1 controls (NEL among
 * them), the line and paragraph separators, the byte order mark and the
 * noncharacters U+FFFE and U+FFFF. s holds at least one byte. */
static int needs_escape(const unsigned char *s, size_t left)
{
    if (s[0] < 0x20 || s[0] == 0x7f)
        return 1;
    if (left >= 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
        return 1;
    if (left >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
        return 1;
    if (left >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
        return 1;
    return left >= 3 && s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf);
}

/* Whether the plain text s would be read as syntax rather than text:
 * an indicator first (-, ?, :, flow brackets, comment, anchor, alias,
 * tag, block scalar, quotes, directive, reserved), a space or ':' at an
 * end, ": " or " #" inside, a document marker, or the merge key. */
static int looks_like_syntax(const char *s, size_t len)
{
    if (strchr(" -?:,[]{}#&*!|>'\"%@`", s[0]) != NULL)
        return 1;
    if (s[len - 1] == ' ' || s[len - 1] == ':')
        return 1;
    if (memmem(s, len, ": ", 2) != NULL || memmem(s, len, " #", 2) != NULL)
        return 1;
    if (len >= 3 && memcmp(s, "...", 3) == 0)
        return 1;
    /* << is YAML 1.1's merge key, = its value key */
    return (len == 2 && memcmp(s, "<<", 2) == 0) || (len == 1 && s[0] == '=');
}

yaml_scalar_style_t yamlscalar_style(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i;

    for (i = 0; i < len; i++) {
        if (needs_escape(u + i, len - i))
            return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    }
    if (len == 0 || yamlscalar_kind(s, len) != YAMLSCALAR_STRING || yaml11_special(s, len) ||
        looks_like_syntax(s, len))
        return YAML_SINGLE_QUOTED_SCALAR_STYLE;
    return YAML_PLAIN_SCALAR_STYLE;
}
