/* test_store.c - the store contract, run against every backend: the same
 * cases for memory and sqlite, then what only a durable store promises
 * (survives a reopen, refuses a write it cannot make and stays intact). */
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "harness.h"
#include "store/store.h"

static char spec[512];
static char dir[256];

struct seen {
    int created;
    int updated;
    int deleted;
    char last[64];
};

static void on_change(void *ctx, enum store_change change, const char *id)
{
    struct seen *s = ctx;

    if (change == STORE_CREATED)
        s->created++;
    if (change == STORE_UPDATED)
        s->updated++;
    if (change == STORE_DELETED)
        s->deleted++;
    snprintf(s->last, sizeof(s->last), "%s", id);
}

static struct store *open_fresh(const char *backend)
{
    struct store *s = NULL;
    char msg[512];

    snprintf(dir, sizeof(dir), "/tmp/ecsched-store-test-%d", (int)getpid());
    if (strcmp(backend, "sqlite") == 0) {
        snprintf(spec, sizeof(spec), "rm -rf %s", dir);
        if (system(spec) != 0)
            return NULL;
        snprintf(spec, sizeof(spec), "sqlite:%s/sub/dir/jobs.db", dir);
    } else {
        snprintf(spec, sizeof(spec), "memory:");
    }
    if (store_open(spec, &s, msg, sizeof(msg)) != 0)
        fprintf(stderr, "  open %s: %s\n", spec, msg);
    return s;
}

/* The ids of the whole list, comma-separated. */
static const char *ids(struct store *s, size_t skip, size_t count, size_t *total)
{
    static char out[1024];
    struct store_record *r = NULL;
    size_t n = 0;
    size_t i;
    size_t o = 0;
    char msg[256];

    out[0] = '\0';
    if (store_list(s, skip, count, &r, &n, total, msg, sizeof(msg)) != 0) {
        snprintf(out, sizeof(out), "ERROR %s", msg);
        return out;
    }
    for (i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i > 0 ? "," : "", r[i].id);
    store_records_free(&r, n);
    return out;
}

static void contract(const char *backend)
{
    struct store *s = open_fresh(backend);
    struct store_record r;
    struct seen seen;
    char msg[256];
    size_t total = 0;

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    memset(&seen, 0, sizeof(seen));
    store_subscribe(s, on_change, &seen);
    T_EQ_STR(store_backend_name(s), backend);
    T_EQ_INT(store_ping(s, msg, sizeof(msg)), 0);
    T_EQ_STR(ids(s, 0, 10, &total), "");
    T_EQ_INT(total, 0);

    T_EQ_INT(store_create(s, "b", "{\"n\":1}", msg, sizeof(msg)), 0);
    T_EQ_INT(store_create(s, "a", "{\"n\":2}", msg, sizeof(msg)), 0);
    T_EQ_INT(store_create(s, "c", "{\"n\":3}", msg, sizeof(msg)), 0);
    T_EQ_INT(store_create(s, "a", "{}", msg, sizeof(msg)), ECS_EEXIST);
    T_EQ_INT(seen.created, 3);

    T_EQ_INT(store_get(s, "a", &r, msg, sizeof(msg)), 0);
    T_EQ_STR(r.data, "{\"n\":2}");
    T_EQ_INT(r.version, 1);
    store_record_clear(&r);
    T_EQ_INT(store_get(s, "zz", &r, msg, sizeof(msg)), ECS_ENOTFOUND);

    /* creation order, not id order; skip/count windows */
    T_EQ_STR(ids(s, 0, 10, &total), "b,a,c");
    T_EQ_INT(total, 3);
    T_EQ_STR(ids(s, 1, 1, &total), "a");
    T_EQ_STR(ids(s, 2, 10, &total), "c");
    T_EQ_STR(ids(s, 3, 10, &total), "");
    T_EQ_STR(ids(s, 0, 0, &total), "");
    T_EQ_INT(total, 3);

    /* compare-and-swap on the version */
    T_EQ_INT(store_update(s, "a", "{\"n\":20}", 1, msg, sizeof(msg)), 0);
    T_EQ_INT(store_update(s, "a", "{\"n\":21}", 1, msg, sizeof(msg)), ECS_ECONFLICT);
    T_EQ_INT(store_update(s, "zz", "{}", 1, msg, sizeof(msg)), ECS_ENOTFOUND);
    T_EQ_INT(store_get(s, "a", &r, msg, sizeof(msg)), 0);
    T_EQ_STR(r.data, "{\"n\":20}");
    T_EQ_INT(r.version, 2);
    store_record_clear(&r);
    T_EQ_INT(seen.updated, 1);
    /* an update does not reorder */
    T_EQ_STR(ids(s, 0, 10, &total), "b,a,c");

    /* delete, and a re-created id moves to the end */
    T_EQ_INT(store_delete(s, "b", msg, sizeof(msg)), 0);
    T_EQ_INT(store_delete(s, "b", msg, sizeof(msg)), ECS_ENOTFOUND);
    T_EQ_INT(seen.deleted, 1);
    T_EQ_STR(seen.last, "b");
    T_EQ_INT(store_create(s, "b", "{\"n\":4}", msg, sizeof(msg)), 0);
    T_EQ_STR(ids(s, 0, 10, &total), "a,c,b");
    store_close(&s);
    T_TRUE(s == NULL);
}

static void test_contract_memory(void)
{
    contract("memory");
}

static void test_contract_sqlite(void)
{
    contract("sqlite");
}

static void test_sqlite_survives_reopen(void)
{
    struct store *s = open_fresh("sqlite");
    struct store_record r;
    char msg[512];
    size_t total;
    int i;

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    for (i = 0; i < 30; i++) {
        char id[16];

        snprintf(id, sizeof(id), "job-%02d", 29 - i);
        T_EQ_INT(store_create(s, id, "{\"schedule\":\"9 */5\"}", msg, sizeof(msg)), 0);
    }
    T_EQ_INT(store_update(s, "job-05", "{\"schedule\":\"1 */5\"}", 1, msg, sizeof(msg)), 0);
    store_close(&s);
    T_EQ_INT(store_open(spec, &s, msg, sizeof(msg)), 0);
    if (s == NULL)
        return;
    T_EQ_STR(ids(s, 0, 3, &total), "job-29,job-28,job-27");
    T_EQ_INT(total, 30);
    T_EQ_INT(store_get(s, "job-05", &r, msg, sizeof(msg)), 0);
    T_EQ_STR(r.data, "{\"schedule\":\"1 */5\"}");
    T_EQ_INT(r.version, 2);
    store_record_clear(&r);
    store_close(&s);
}

/* Another writer holds the database: the store must give up after its
 * busy timeout with "unavailable" (the API's 503) and change nothing. */
static void test_sqlite_refused_write_changes_nothing(void)
{
    struct store *s = open_fresh("sqlite");
    sqlite3 *other = NULL;
    char msg[512];
    char cmd[600];
    size_t total;

    T_TRUE(s != NULL);
    if (s == NULL)
        return;
    T_EQ_INT(store_create(s, "keep", "{}", msg, sizeof(msg)), 0);
    T_EQ_INT(sqlite3_open(spec + strlen("sqlite:"), &other), SQLITE_OK);
    T_EQ_INT(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    T_EQ_INT(store_create(s, "new", "{}", msg, sizeof(msg)), ECS_EUNAVAILABLE);
    T_HAS_STR(msg, "database is locked");
    T_EQ_INT(store_update(s, "keep", "{\"x\":1}", 1, msg, sizeof(msg)), ECS_EUNAVAILABLE);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    T_EQ_STR(ids(s, 0, 10, &total), "keep");
    {
        struct store_record r;

        T_EQ_INT(store_get(s, "keep", &r, msg, sizeof(msg)), 0);
        T_EQ_STR(r.data, "{}");
        T_EQ_INT(r.version, 1);
        store_record_clear(&r);
    }
    store_close(&s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    T_EQ_INT(system(cmd), 0);
}

static void test_bad_specs(void)
{
    struct store *s = NULL;
    char msg[512];

    T_EQ_INT(store_open("jobs.db", &s, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "BACKEND:LOCATION");
    T_EQ_INT(store_open("mysql:x", &s, msg, sizeof(msg)), ECS_EINVAL);
    T_HAS_STR(msg, "unknown store backend 'mysql'");
    T_EQ_INT(store_open("sqlite:", &s, msg, sizeof(msg)), ECS_EINVAL);
    T_EQ_INT(store_open("sqlite:/proc/ecsched/jobs.db", &s, msg, sizeof(msg)), ECS_EUNAVAILABLE);
    T_HAS_STR(msg, "/proc/ecsched/jobs.db");
    T_TRUE(s == NULL);
}

static const struct test_case cases[] = {
    {"contract_memory", test_contract_memory},
    {"contract_sqlite", test_contract_sqlite},
    {"sqlite_survives_reopen", test_sqlite_survives_reopen},
    {"sqlite_refused_write_changes_nothing", test_sqlite_refused_write_changes_nothing},
    {"bad_specs", test_bad_specs},
};

TEST_MAIN("store", cases)
