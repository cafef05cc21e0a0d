/* yamlio.c - YAML to jansson and back, on libyaml's event API: events
 * (rather than libyaml's document loader) tell a plain scalar from a
 * quoted one and whether a tag was written, which is what typing scalars
 * the YAML 1.2 way needs, and let aliases share one jansson value instead
 * of being copied. */
#include "cli/yamlio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cli/jsonref.h"
#include "cli/yamlscalar.h"
#include "core/error.h"

/* Nesting deeper than any jobs file needs; a guard against a stack
 * blown by hostile input. */
#define DEPTH_MAX 64
/* Nodes once aliases are expanded: bounds "billion laughs" documents,
 * whose values we would later serialise in full. */
#define EXPANDED_MAX 1000000u
#define FILE_MAX (16u * 1024u * 1024u)

/* A collection being read. */
struct frame {
    json_t *value;
    json_t *marks;
    char *anchor; /* owned; registered when the collection ends */
    int is_map;
    char *key; /* owned; a mapping's key awaiting its value */
    int key_line;
    int key_merge;  /* that key is the merge key << */
    json_t *merges; /* [[value, marks], ...] merged in when the mapping ends */
    size_t size;    /* nodes below, aliases expanded */
};

struct anchor {
    char *name;
    json_t *value;
    json_t *marks;
    size_t size;
};

struct loader {
    const char *name;
    struct frame stack[DEPTH_MAX];
    int depth;
    struct anchor *anchors;
    size_t nanchors;
    size_t cap;
    json_t *root;
    json_t *root_marks;
    size_t total;
    int docs;
    char *msg;
    size_t msglen;
};

static int fail_at(struct loader *l, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct loader *l, const yaml_mark_t *m, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return ecs_fail(ECS_EINVAL, l->msg, l->msglen, "%s:%zu:%zu: %s", l->name, m->line + 1,
                    m->column + 1, what);
}

/* ------------------------------------------------------------------ */
/* Scalars: YAML 1.2 core schema                                        */

/* Whether an explicitly tagged scalar (!!null, !!bool, !!int, !!float)
 * reads as its tag says. */
static int tag_fits(const char *tag, enum yamlscalar_kind kind)
{
    if (strcmp(tag, YAML_NULL_TAG) == 0)
        return kind == YAMLSCALAR_NULL;
    if (strcmp(tag, YAML_BOOL_TAG) == 0)
        return kind == YAMLSCALAR_TRUE || kind == YAMLSCALAR_FALSE;
    if (strcmp(tag, YAML_INT_TAG) == 0)
        return kind == YAMLSCALAR_INT;
    if (strcmp(tag, YAML_FLOAT_TAG) == 0)
        return kind == YAMLSCALAR_FLOAT || kind == YAMLSCALAR_INT || kind == YAMLSCALAR_NOT_FINITE;
    return 0;
}

/* A scalar's value: quoted ones are strings, plain ones typed, explicit
 * core tags honoured. */
static int scalar_value(struct loader *l, const yaml_event_t *ev, json_t **out)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    enum yamlscalar_kind kind = YAMLSCALAR_STRING;

    if (tag != NULL && strcmp(tag, "!") != 0 && strcmp(tag, YAML_STR_TAG) != 0) {
        kind = yamlscalar_kind(text, len);
        if (!tag_fits(tag, kind))
            return fail_at(l, &ev->start_mark, "'%.64s' cannot be read with tag %s", text, tag);
        if (kind == YAMLSCALAR_INT && strcmp(tag, YAML_FLOAT_TAG) == 0)
            kind = YAMLSCALAR_FLOAT;
    } else if (tag == NULL && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        kind = yamlscalar_kind(text, len);
    }
    if (kind == YAMLSCALAR_NOT_FINITE)
        return fail_at(l, &ev->start_mark, "'%s' is not a number JSON can hold", text);
    *out = yamlscalar_value(text, len, kind);
    if (*out == NULL)
        return fail_at(l, &ev->start_mark, "cannot hold this value (not UTF-8, or out of memory)");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Building the tree                                                    */

static json_t *new_marks(int is_map, int line)
{
    if (is_map)
        return json_pack("{s:i, s:{}, s:{}}", "@", line, "k", "l");
    return json_pack("{s:i, s:[]}", "@", line, "i");
}

static int mark_line(const json_t *marks)
{
    if (json_is_integer(marks))
        return (int)json_integer_value(marks);
    return (int)json_integer_value(json_object_get(marks, "@"));
}

static int remember(struct loader *l, const char *name, json_t *value, json_t *marks, size_t size)
{
    struct anchor *a;
    size_t i;

    for (i = 0; i < l->nanchors; i++) {
        if (strcmp(l->anchors[i].name, name) == 0)
            break;
    }
    if (i == l->nanchors) {
        if (l->nanchors == l->cap) {
            size_t cap = l->cap > 0 ? l->cap * 2 : 16;
            struct anchor *grown = realloc(l->anchors, cap * sizeof(*grown));

            if (grown == NULL)
                return ecs_fail(ECS_ENOMEM, l->msg, l->msglen, "out of memory");
            l->anchors = grown;
            l->cap = cap;
        }
        l->anchors[i].name = strdup(name);
        if (l->anchors[i].name == NULL)
            return ecs_fail(ECS_ENOMEM, l->msg, l->msglen, "out of memory");
        l->nanchors++;
    } else {
        /* a redefined anchor: later aliases mean the new node */
        json_decref(l->anchors[i].value);
        json_decref(l->anchors[i].marks);
    }
    a = &l->anchors[i];
    a->value = json_incref(value);
    a->marks = json_incref(marks);
    a->size = size;
    return 0;
}

/* Merge key sources into the mapping being closed: keys written in the
 * mapping itself win, then earlier sources over later ones. */
static int apply_merges(struct loader *l, struct frame *f)
{
    size_t i;
    const json_t *pair;

    json_array_foreach(f->merges, i, pair) {
        const json_t *src = json_array_get(pair, 0);
        const json_t *src_marks = json_array_get(pair, 1);
        const char *key;
        json_t *v;

        json_object_foreach((json_t *)src, key, v) {
            if (json_object_get(f->value, key) != NULL)
                continue;
            if (json_object_set(f->value, key, v) != 0 ||
                json_object_set(json_object_get(f->marks, "k"), key,
                                json_object_get(json_object_get(src_marks, "k"), key)) != 0 ||
                json_object_set(json_object_get(f->marks, "l"), key,
                                json_object_get(json_object_get(src_marks, "l"), key)) != 0)
                return ecs_fail(ECS_ENOMEM, l->msg, l->msglen, "out of memory");
        }
    }
    return 0;
}

/* What follows a merge key: a mapping or a list of mappings. */
static int add_merge(struct loader *l, struct frame *top, json_t *value, json_t *marks,
                     const yaml_mark_t *m)
{
    size_t i;
    json_t *item;

    if (json_is_object(value))
        return json_array_append_new(top->merges, json_pack("[O, O]", value, marks)) == 0
                   ? 0
                   : ecs_fail(ECS_ENOMEM, l->msg, l->msglen, "out of memory");
    if (!json_is_array(value))
        return fail_at(l, m, "'<<' (merge) needs a mapping or a list of mappings");
    json_array_foreach(value, i, item) {
        json_t *item_marks = json_array_get(json_object_get(marks, "i"), i);

        if (!json_is_object(item))
            return fail_at(l, m, "'<<' (merge) needs a mapping or a list of mappings");
        if (json_array_append_new(top->merges, json_pack("[O, O]", item, item_marks)) != 0)
            return ecs_fail(ECS_ENOMEM, l->msg, l->msglen, "out of memory");
    }
    return 0;
}

/* Place a finished node (references stolen) in its parent, or as the
 * root. */
static int add_node(struct loader *l, json_t *value, json_t *marks, size_t size,
                    const yaml_mark_t *m)
{
    struct frame *top;
    int rc = 0;

    if (value == NULL || marks == NULL) {
        json_decref(value);
        json_decref(marks);
        return ecs_fail(ECS_ENOMEM, l->msg, l->msglen, "out of memory");
    }
    l->total += size;
    if (l->total > EXPANDED_MAX) {
        json_decref(value);
        json_decref(marks);
        return fail_at(l, m, "the document is too large once its aliases are expanded");
    }
    if (l->depth == 0) {
        l->root = value;
        l->root_marks = marks;
        return 0;
    }
    top = &l->stack[l->depth - 1];
    top->size += size;
    if (!top->is_map) {
        if (json_array_append_new(top->value, value) != 0 ||
            json_array_append_new(json_object_get(top->marks, "i"), marks) != 0)
            return ecs_fail(ECS_ENOMEM, l->msg, l->msglen, "out of memory");
        return 0;
    }
    if (top->key == NULL) {
        json_decref(value);
        json_decref(marks);
        return fail_at(l, m, "a mapping key must be plain text, not a list, mapping or alias");
    }
    if (top->key_merge) {
        rc = add_merge(l, top, value, marks, m);
    } else if (json_object_get(top->value, top->key) != NULL) {
        rc = fail_at(
            l, m, "duplicate key '%s' (first at line %d)", top->key,
            (int)json_integer_value(json_object_get(json_object_get(top->marks, "l"), top->key)));
    } else if (json_object_set(top->value, top->key, value) != 0 ||
               json_object_set(json_object_get(top->marks, "k"), top->key, marks) != 0 ||
               json_object_set_new(json_object_get(top->marks, "l"), top->key,
                                   json_integer(top->key_line)) != 0) {
        rc = ecs_fail(ECS_ENOMEM, l->msg, l->msglen, "out of memory");
    }
    json_decref(value);
    json_decref(marks);
    free(top->key);
    top->key = NULL;
    return rc;
}

static int on_scalar(struct loader *l, const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    struct frame *top = l->depth > 0 ? &l->stack[l->depth - 1] : NULL;
    json_t *value = NULL;
    json_t *marks;
    int rc;

    if (top != NULL && top->is_map && top->key == NULL) {
        if (strlen(text) != len)
            return fail_at(l, &ev->start_mark, "a key holds a NUL character");
        top->key = strdup(text);
        if (top->key == NULL)
            return ecs_fail(ECS_ENOMEM, l->msg, l->msglen, "out of memory");
        top->key_line = (int)ev->start_mark.line + 1;
        top->key_merge = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                         ev->data.scalar.tag == NULL && strcmp(text, "<<") == 0;
        return 0;
    }
    rc = scalar_value(l, ev, &value);
    if (rc != 0)
        return rc;
    marks = json_integer((json_int_t)ev->start_mark.line + 1);
    if (ev->data.scalar.anchor != NULL) {
        rc = remember(l, (const char *)ev->data.scalar.anchor, value, marks, 1);
        if (rc != 0) {
            json_decref(value);
            json_decref(marks);
            return rc;
        }
    }
    return add_node(l, value, marks, 1, &ev->start_mark);
}

static int on_alias(struct loader *l, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    size_t i;

    for (i = l->nanchors; i > 0; i--) {
        const struct anchor *a = &l->anchors[i - 1];

        if (strcmp(a->name, name) == 0)
            return add_node(l, json_incref(a->value), json_incref(a->marks), a->size,
                            &ev->start_mark);
    }
    return fail_at(l, &ev->start_mark, "alias *%s names no anchor defined before it", name);
}

static int on_start(struct loader *l, const yaml_event_t *ev, int is_map)
{
    const yaml_char_t *anchor =
        is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    struct frame *f;

    if (l->depth > 0 && l->stack[l->depth - 1].is_map && l->stack[l->depth - 1].key == NULL)
        return fail_at(l, &ev->start_mark,
                       "a mapping key must be plain text, not a list or mapping");
    if (l->depth == DEPTH_MAX)
        return fail_at(l, &ev->start_mark, "nested more than %d levels deep", DEPTH_MAX);
    f = &l->stack[l->depth];
    memset(f, 0, sizeof(*f));
    l->depth++;
    f->is_map = is_map;
    f->value = is_map ? json_object() : json_array();
    f->marks = new_marks(is_map, (int)ev->start_mark.line + 1);
    f->merges = json_array();
    f->anchor = anchor != NULL ? strdup((const char *)anchor) : NULL;
    if (f->value == NULL || f->marks == NULL || f->merges == NULL ||
        (anchor != NULL && f->anchor == NULL))
        return ecs_fail(ECS_ENOMEM, l->msg, l->msglen, "out of memory");
    return 0;
}

static void frame_clear(struct frame *f)
{
    json_drop(&f->value);
    json_drop(&f->marks);
    json_drop(&f->merges);
    free(f->anchor);
    f->anchor = NULL;
    free(f->key);
    f->key = NULL;
}

static int on_end(struct loader *l, const yaml_event_t *ev)
{
    struct frame f = l->stack[l->depth - 1];
    json_t *value;
    json_t *marks;
    int rc = 0;

    l->depth--;
    if (f.is_map)
        rc = apply_merges(l, &f);
    if (rc == 0 && f.anchor != NULL)
        rc = remember(l, f.anchor, f.value, f.marks, f.size + 1);
    value = json_incref(f.value);
    marks = json_incref(f.marks);
    frame_clear(&f);
    if (rc != 0) {
        json_decref(value);
        json_decref(marks);
        return rc;
    }
    return add_node(l, value, marks, f.size + 1, &ev->start_mark);
}

static int on_event(struct loader *l, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        l->docs++;
        if (l->docs > 1)
            return fail_at(l, &ev->start_mark,
                           "a second YAML document ('---'); put every job in one document");
        return 0;
    case YAML_SCALAR_EVENT:
        return on_scalar(l, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(l, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(l, ev, 0);
    case YAML_MAPPING_START_EVENT:
        return on_start(l, ev, 1);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(l, ev);
    default:
        return 0;
    }
}

static void loader_clear(struct loader *l)
{
    size_t i;

    while (l->depth > 0)
        frame_clear(&l->stack[--l->depth]);
    for (i = 0; i < l->nanchors; i++) {
        free(l->anchors[i].name);
        json_decref(l->anchors[i].value);
        json_decref(l->anchors[i].marks);
    }
    free(l->anchors);
    l->anchors = NULL;
    l->nanchors = 0;
    json_drop(&l->root);
    json_drop(&l->root_marks);
}

/* libyaml's complaint, at its line, with where the construct it was
 * reading began when that is elsewhere (an unclosed '[' on line 3 is
 * only noticed at the end of the file). */
static int parse_failed(const yaml_parser_t *p, const char *name, char *msg, size_t msglen)
{
    const char *problem = p->problem != NULL ? p->problem : "not valid YAML";

    if (p->context != NULL && p->context_mark.line != p->problem_mark.line)
        return ecs_fail(ECS_EINVAL, msg, msglen, "%s:%zu:%zu: %s (%s that began at line %zu)", name,
                        p->problem_mark.line + 1, p->problem_mark.column + 1, problem, p->context,
                        p->context_mark.line + 1);
    return ecs_fail(ECS_EINVAL, msg, msglen, "%s:%zu:%zu: %s%s%s", name, p->problem_mark.line + 1,
                    p->problem_mark.column + 1, problem, p->context != NULL ? " " : "",
                    p->context != NULL ? p->context : "");
}

int yamlio_load(const char *name, const char *text, size_t len, json_t **value, json_t **marks,
                char *msg, size_t msglen)
{
    struct loader l;
    yaml_parser_t parser;
    int rc = 0;
    int done = 0;

    memset(&l, 0, sizeof(l));
    l.name = name;
    l.msg = msg;
    l.msglen = msglen;
    if (!yaml_parser_initialize(&parser))
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (rc == 0 && !done) {
        yaml_event_t ev;

        if (!yaml_parser_parse(&parser, &ev)) {
            rc = parse_failed(&parser, name, msg, msglen);
            break;
        }
        rc = on_event(&l, &ev);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (rc == 0) {
        *value = l.root;
        *marks = l.root_marks != NULL ? l.root_marks : json_integer(1);
        l.root = NULL;
        l.root_marks = NULL;
    }
    loader_clear(&l);
    return rc;
}

int yamlio_load_file(const char *path, json_t **value, json_t **marks, char *msg, size_t msglen)
{
    int from_stdin = strcmp(path, "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    char *text = NULL;
    size_t len = 0;
    size_t cap = 0;
    int rc;

    if (f == NULL)
        return ecs_fail(ECS_EIO, msg, msglen, "cannot open %s: %s", path, strerror(errno));
    for (;;) {
        size_t n;

        if (len == cap) {
            char *grown;

            cap = cap > 0 ? cap * 2 : 65536;
            grown = cap <= FILE_MAX ? realloc(text, cap) : NULL;
            if (grown == NULL) {
                free(text);
                if (!from_stdin)
                    fclose(f);
                return ecs_fail(ECS_EIO, msg, msglen, "%s is over %u MiB", path, FILE_MAX >> 20);
            }
            text = grown;
        }
        n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        free(text);
        if (!from_stdin)
            fclose(f);
        return ecs_fail(ECS_EIO, msg, msglen, "cannot read %s", path);
    }
    if (!from_stdin)
        fclose(f);
    rc = yamlio_load(from_stdin ? "<stdin>" : path, text, len, value, marks, msg, msglen);
    free(text);
    return rc;
}

const json_t *yamlio_child(const json_t *marks, const char *key_or_index)
{
    const json_t *items = json_object_get(marks, "i");
    char *end = NULL;
    long i;

    if (json_is_array(items)) {
        i = strtol(key_or_index, &end, 10);
        if (end == key_or_index || *end != '\0' || i < 0)
            return NULL;
        return json_array_get(items, (size_t)i);
    }
    return json_object_get(json_object_get(marks, "k"), key_or_index);
}

int yamlio_line(const json_t *marks, const char *path)
{
    char seg[256];
    const char *p = path;
    int line;

    if (marks == NULL)
        return 0;
    line = mark_line(marks);
    while (*p != '\0') {
        size_t n = strcspn(p, ".");
        const json_t *child;
        const json_t *key_line;

        if (n >= sizeof(seg))
            break;
        memcpy(seg, p, n);
        seg[n] = '\0';
        child = yamlio_child(marks, seg);
        if (child == NULL)
            break;
        key_line = json_object_get(json_object_get(marks, "l"), seg);
        line = key_line != NULL ? (int)json_integer_value(key_line) : mark_line(child);
        marks = child;
        p += n;
        if (*p == '.')
            p++;
    }
    return line;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
    return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, size_t len, yaml_scalar_style_t style)
{
    yaml_event_t ev;

    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)len, 1, 1, style))
        return -1;
    return emit(e, &ev);
}

/* Every string in the style that reads back as that string (see
 * yamlscalar_style). */
static int emit_string(yaml_emitter_t *e, const char *s, size_t len)
{
    return emit_scalar(e, s, len, yamlscalar_style(s, len));
}

/* The shortest text that reads back as the same double, always with a
 * '.' so it stays a float, for YAML 1.1 readers too (PyYAML reads 1e+300
 * as a string, 1.0e+300 as a number). */
static int emit_real(yaml_emitter_t *e, double d)
{
    char digits[40];
    char text[48];
    int prec;
    size_t mantissa;

    for (prec = 15; prec <= 17; prec++) {
        snprintf(digits, sizeof(digits), "%.*g", prec, d);
        if (strtod(digits, NULL) == d)
            break;
    }
    mantissa = strcspn(digits, "e");
    if (memchr(digits, '.', mantissa) != NULL)
        snprintf(text, sizeof(text), "%s", digits);
    else
        snprintf(text, sizeof(text), "%.*s.0%s", (int)mantissa, digits, digits + mantissa);
    return emit_scalar(e, text, strlen(text), YAML_PLAIN_SCALAR_STYLE);
}

/* Whether an object at or below v has a key holding NUL (jansson allows
 * one through json_object_setn); the loader refuses such keys, so the
 * writer does too rather than write what cannot be read back. */
static int has_nul_key(const json_t *v)
{
    const char *key;
    const json_t *item;
    size_t i;

    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, item) {
            if (json_object_iter_key_len(json_object_key_to_iter(key)) != strlen(key) ||
                has_nul_key(item))
                return 1;
        }
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            if (has_nul_key(item))
                return 1;
        }
    }
    return 0;
}

static int emit_node(yaml_emitter_t *e, const json_t *v)
{
    yaml_event_t ev;
    char text[32];
    const char *key;
    const json_t *item;
    size_t i;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
            emit(e, &ev) != 0)
            return -1;
        json_object_foreach((json_t *)v, key, item) {
            if (emit_string(e, key, strlen(key)) != 0 || emit_node(e, item) != 0)
                return -1;
        }
        return yaml_mapping_end_event_initialize(&ev) ? emit(e, &ev) : -1;
    case JSON_ARRAY:
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
            emit(e, &ev) != 0)
            return -1;
        json_array_foreach(v, i, item) {
            if (emit_node(e, item) != 0)
                return -1;
        }
        return yaml_sequence_end_event_initialize(&ev) ? emit(e, &ev) : -1;
    case JSON_STRING:
        return emit_string(e, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return emit_scalar(e, text, strlen(text), YAML_PLAIN_SCALAR_STYLE);
    case JSON_REAL:
        return emit_real(e, json_real_value(v));
    case JSON_TRUE:
        return emit_scalar(e, "true", 4, YAML_PLAIN_SCALAR_STYLE);
    case JSON_FALSE:
        return emit_scalar(e, "false", 5, YAML_PLAIN_SCALAR_STYLE);
    default:
        return emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    }
}

int yamlio_write(FILE *out, const json_t *value, char *msg, size_t msglen)
{
    yaml_emitter_t e;
    yaml_event_t ev;
    int rc;

    if (has_nul_key(value))
        return ecs_fail(ECS_EINVAL, msg, msglen, "cannot write YAML: a key holds a NUL character");
    if (!yaml_emitter_initialize(&e))
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    yaml_emitter_set_output_file(&e, out);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_indent(&e, 2);
    /* never fold a long schedule or command over lines */
    yaml_emitter_set_width(&e, -1);
    rc = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ? emit(&e, &ev) : -1;
    if (rc == 0)
        rc = yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ? emit(&e, &ev) : -1;
    if (rc == 0)
        rc = emit_node(&e, value);
    if (rc == 0)
        rc = yaml_document_end_event_initialize(&ev, 1) ? emit(&e, &ev) : -1;
    if (rc == 0)
        rc = yaml_stream_end_event_initialize(&ev) ? emit(&e, &ev) : -1;
    if (rc == 0 && !yaml_emitter_flush(&e))
        rc = -1;
    if (rc != 0)
        rc = ecs_fail(ECS_EIO, msg, msglen, "cannot write YAML: %s",
                      e.problem != NULL ? e.problem : "output error");
    yaml_emitter_delete(&e);
    return rc;
}
