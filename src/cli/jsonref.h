/* jsonref.h - one helper for the CLI's structs that own jansson
 * references: drop one and leave the pointer NULL, so a free helper can
 * run twice and a dangling pointer cannot be used. */
#ifndef ECS_CLI_JSONREF_H
#define ECS_CLI_JSONREF_H

#include <jansson.h>

/* json_decref(*v) (NULL is fine) and *v = NULL. */
static inline void json_drop(json_t **v)
{
    json_decref(*v);
    *v = NULL;
}

#endif
