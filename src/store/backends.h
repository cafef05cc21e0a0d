/* backends.h - the backends store.c can open; private to src/store/. */
#ifndef ECS_STORE_BACKENDS_H
#define ECS_STORE_BACKENDS_H

#include "store.h"

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_memory;

/* Copy helpers the backends share. */
char *store_strdup(const char *s);
/* Deep copy of a run; 0 or ECS_ENOMEM (to is then cleared). */
int store_run_copy(const struct store_run *from, struct store_run *to);

#endif
