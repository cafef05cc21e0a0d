/* yamlscalar.h - what the text of a YAML scalar means and how a string
 * must be written to keep its meaning: plain scalars typed by YAML 1.2's
 * core schema (the loader's rules), and the style the writer gives each
 * string so that the loader reads back exactly that string. */
#ifndef ECS_CLI_YAMLSCALAR_H
#define ECS_CLI_YAMLSCALAR_H

#include <jansson.h>
#include <stddef.h>
#include <yaml.h>

enum yamlscalar_kind {
    YAMLSCALAR_STRING,
    YAMLSCALAR_NULL,
    YAMLSCALAR_TRUE,
    YAMLSCALAR_FALSE,
    YAMLSCALAR_INT,
    YAMLSCALAR_FLOAT,
    YAMLSCALAR_NOT_FINITE /* .inf, .nan: no JSON value */
};

/* What the plain (unquoted, untagged) scalar s (len bytes) stands for. */
enum yamlscalar_kind yamlscalar_kind(const char *s, size_t len);

/* The value of s read as kind (not YAMLSCALAR_NOT_FINITE): a new
 * reference, NULL when jansson cannot hold it (a string that is not
 * UTF-8, or out of memory). An integer too large for json_int_t becomes
 * a real of the same magnitude, as JSON readers do. */
json_t *yamlscalar_value(const char *s, size_t len, enum yamlscalar_kind kind);

/* The style to write the string s (len bytes, UTF-8, may hold NUL) in,
 * as a key or a value: plain when the loader (and a YAML 1.1 reader such
 * as PyYAML) reads the plain text back as this same string, single-quoted
 * when only quoting is needed, double-quoted (with escapes) when the
 * string holds a control character, a tab, a line break or a character
 * YAML treats specially. */
yaml_scalar_style_t yamlscalar_style(const char *s, size_t len);

#endif
