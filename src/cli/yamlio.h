/* yamlio.h - YAML (and JSON, which is YAML) read into jansson values with
 * the line of every node, and jansson values written back as YAML, on
 * libyaml. The CLI reads jobs files with it so that every problem can be
 * reported at its line.
 *
 * Reading follows YAML 1.2's core schema: a plain scalar is null (~, null,
 * empty), a boolean (true/false in three spellings), an integer (decimal,
 * 0o octal, 0x hex), a float, else a string; quoted scalars are strings
 * (so YAML 1.1's yes/no/on/off stay strings). Anchors and aliases work,
 * as do YAML 1.1's merge keys: a plain, untagged << merges the mapping (or
 * list of mappings) after it, and anything else after it is refused at
 * its line; a key named << is written quoted ('<<'). Duplicate keys, more than
 * one document, keys holding NUL, other tags and .inf/.nan (not JSON) are
 * errors. Writing quotes every string that would otherwise read back as
 * something else (see yamlscalar_style), so any value the loader can
 * return survives a write and a reload unchanged (json_equal). */
#ifndef ECS_CLI_YAMLIO_H
#define ECS_CLI_YAMLIO_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Where a document's nodes are. Marks mirror the value: a scalar's marks
 * are its line (an integer); a mapping's are {"@": line, "k": {key:
 * marks}, "l": {key: the key's line}}; a sequence's {"@": line, "i":
 * [marks]}. Lines count from 1. */

/* Parse text (len bytes) named `name` in messages. 0 with *value and
 * *marks new references (*value NULL for an empty document); ECS_EINVAL
 * with "NAME:LINE:COLUMN: what is wrong" in msg. */
int yamlio_load(const char *name, const char *text, size_t len, json_t **value, json_t **marks,
                char *msg, size_t msglen);

/* As yamlio_load, from a file; path "-" reads stdin (named <stdin>). */
int yamlio_load_file(const char *path, json_t **value, json_t **marks, char *msg, size_t msglen);

/* The line of the node at a dotted path below marks ("trigger.type",
 * "overrides.0.containerName": a key's own line), or of the deepest part
 * of the path that exists; 0 when marks is NULL. */
int yamlio_line(const json_t *marks, const char *path);

/* The marks of a mapping's child key or a sequence's item index (NULL
 * when absent); borrowed from marks. */
const json_t *yamlio_child(const json_t *marks, const char *key_or_index);

/* Write value as one YAML document (block style, keys in the object's
 * order, lines never folded) to out. ECS_EINVAL when a key holds NUL,
 * ECS_EIO or ECS_ENOMEM, with a message, on failure. */
int yamlio_write(FILE *out, const json_t *value, char *msg, size_t msglen);

#endif
