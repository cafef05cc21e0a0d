/* sqlite.c - the embedded default store: one SQLite file in WAL mode with
 * synchronous=FULL, so a write is acknowledged only once it would survive
 * a power loss. The schema version lives in PRAGMA user_version and the
 * migrations below bring any older file forward at open. The WAL is
 * checkpointed by a thread of its own, never by a committing writer. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends.h"
#include "core/clock.h"
#include "core/error.h"

/* Migration N (1-based) brings the schema from version N-1 to N. Append
 * only: a released migration never changes. */
static const char *const migrations[] = {
    /* 1: jobs in creation order; seq is never reused, so a deleted and
     * re-created id lists last. */
    "CREATE TABLE jobs ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL UNIQUE,"
    " data TEXT NOT NULL,"
    " version INTEGER NOT NULL)",
    /* 2: runs; claim makes each scheduled second of a job fire once, even
     * across restarts and daemons */
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " job_id TEXT NOT NULL,"
    " claim TEXT UNIQUE,"
    " scheduled INTEGER NOT NULL,"
    " status TEXT NOT NULL,"
    " ntasks INTEGER NOT NULL,"
    " data TEXT NOT NULL);"
    "CREATE INDEX runs_by_job ON runs (job_id, id);"
    "CREATE INDEX runs_active ON runs (status) WHERE status IN ('pending', 'running');"
    "CREATE INDEX runs_claims ON runs (job_id, scheduled) WHERE claim IS NOT NULL",
    /* 3: a scheduled firing's claim ("<job>@<second>") is unique as its
     * (job_id, scheduled), which an index of those serves, and not as
     * text as well: one index fewer to write at every firing. Claims of
     * pipeline steps and trigger objects (with a ':') keep a text index.
     * SQLite cannot drop a column's UNIQUE, so the table is rebuilt, its
     * AUTOINCREMENT counter carried over so no run id is ever reused. */
    "CREATE TABLE runs_v3 ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " job_id TEXT NOT NULL,"
    " claim TEXT,"
    " scheduled INTEGER NOT NULL,"
    " status TEXT NOT NULL,"
    " ntasks INTEGER NOT NULL,"
    " data TEXT NOT NULL);"
    "INSERT INTO runs_v3 (id, job_id, claim, scheduled, status, ntasks, data)"
    " SELECT id, job_id, claim, scheduled, status, ntasks, data FROM runs;"
    "INSERT INTO sqlite_sequence (name, seq)"
    " SELECT 'runs_v3', seq FROM sqlite_sequence WHERE name = 'runs'"
    " AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'runs_v3');"
    "UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = "
    "'runs'))"
    " WHERE name = 'runs_v3' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'runs');"
    "DROP TABLE runs;"
    "ALTER TABLE runs_v3 RENAME TO runs;"
    "CREATE INDEX runs_by_job ON runs (job_id, id);"
    "CREATE INDEX runs_active ON runs (status) WHERE status IN ('pending', 'running');"
    "CREATE UNIQUE INDEX runs_fired ON runs (job_id, scheduled)"
    " WHERE claim IS NOT NULL AND instr(claim, ':') = 0;"
    "CREATE UNIQUE INDEX runs_claimed ON runs (claim) WHERE instr(claim, ':') > 0",
    /* 4: active runs in id order, so the tracker pages through them from
     * the index instead of sorting every active run each round */
    "DROP INDEX runs_active;"
    "CREATE INDEX runs_active ON runs (id) WHERE status IN ('pending', 'running')",
    /* 5: when each job was created or last changed (unix ms; 0 for jobs
     * written before), where a job that has never fired resumes after a
     * restart */
    "ALTER TABLE jobs ADD COLUMN changed INTEGER NOT NULL DEFAULT 0",
    /* 6: each job's upstream (its "after"."job") beside its data, so that
     * a write checks the pipeline graph in its own transaction and a
     * delete finds the job's followers from an index */
    "ALTER TABLE jobs ADD COLUMN after_job TEXT;"
    "UPDATE jobs SET after_job = json_extract(data, '$.after.job') WHERE json_valid(data);"
    "CREATE INDEX jobs_by_after ON jobs (after_job) WHERE after_job IS NOT NULL",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Statements every firing runs, prepared once: parsing the SQL again each
 * time was a good part of a firing's cost. Those up to CACHED_READ_END
 * run on the reader connection, the rest on the writer. */
enum cached_stmt {
    CACHED_GET,
    CACHED_READ_BEGIN,
    CACHED_READ_END,
    CACHED_WRITE_BEGIN,
    CACHED_WRITE_END,
    CACHED_RUN_INSERT,
    CACHED_RUN_UPDATE,
    CACHED_RUN_PRUNE,
    CACHED_COUNT
};

static const char *const cached_sql[CACHED_COUNT] = {
    [CACHED_GET] = "SELECT id, data, version, changed FROM jobs WHERE id = ?1",
    /* even BEGIN and COMMIT: sqlite3_exec() parses them each time, and
     * the parser's allocation alone was a visible share of a firing */
    [CACHED_READ_BEGIN] = "BEGIN",
    [CACHED_READ_END] = "COMMIT",
    [CACHED_WRITE_BEGIN] = "BEGIN IMMEDIATE",
    [CACHED_WRITE_END] = "COMMIT",
    [CACHED_RUN_INSERT] = "INSERT INTO runs (job_id, claim, scheduled, status, ntasks, data)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [CACHED_RUN_UPDATE] = "UPDATE runs SET status = ?4, ntasks = ?5, data = ?6 WHERE id = ?7",
    /* ?2 is keep - 1. Older than the keep-th newest (nothing, while the
     * job has fewer runs: the boundary is NULL), ended, and neither the
     * last launched run nor the last claimed scheduled firing (claims
     * with a ':' are pipeline steps' and objects'); each bound walks an
     * index from the newest end and stops at the first match. */
    [CACHED_RUN_PRUNE] =
        "DELETE FROM runs WHERE job_id = ?1"
        " AND id < (SELECT id FROM runs WHERE job_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)"
        " AND status NOT IN ('pending', 'running')"
        " AND id IS NOT (SELECT id FROM runs WHERE job_id = ?1 AND ntasks > 0"
        "                ORDER BY id DESC LIMIT 1)"
        " AND id IS NOT (SELECT id FROM runs WHERE job_id = ?1 AND claim IS NOT NULL"
        "                AND instr(claim, ':') = 0 ORDER BY scheduled DESC LIMIT 1)",
};

struct put_request;

struct sq {
    sqlite3 *db;
    pthread_mutex_t lock; /* keeps sqlite3_errmsg() paired with its call */
    /* a second connection for reads (the jobs of every firing, the run
     * queries): WAL lets it read the last commit while db writes, so a
     * firing's read never waits behind other firings' commits and their
     * fsyncs, nor a long query behind the writer */
    sqlite3 *rdb;
    pthread_mutex_t rlock;
    /* run_put_many callers waiting for a shared commit (group_lock) */
    pthread_mutex_t group_lock;
    pthread_cond_t group_written;
    struct put_request *group;
    struct put_request **group_tail;
    bool group_writing;
    char path[PATH_MAX];
    /* the file opened to flock() it while this store hosts a scheduler;
     * -1: not yet. Closed only after the connections: closing any
     * descriptor of the file drops the POSIX locks SQLite holds on it in
     * this process */
    int lock_fd;
    bool sched_locked;
    sqlite3_stmt *cached[CACHED_COUNT]; /* prepared on first use; its lock held to use */
    /* the checkpointer: its own connection and thread, woken by db's WAL
     * hook once the WAL holds CHECKPOINT_FRAMES (ck_lock) */
    sqlite3 *ckdb;
    pthread_t ck_thread;
    bool ck_started;
    pthread_mutex_t ck_lock;
    pthread_cond_t ck_wake;
    int ck_done;            /* WAL frames the last checkpoint had copied */
    int ck_frames;          /* WAL frames at the last commit */
    int64_t ck_last_commit; /* its time, ms on the monotonic clock */
    bool ck_due;
    bool ck_stop;
};

/* SQLite's own autocheckpoint runs inside the COMMIT that crosses 1000
 * frames, copying pages and fsyncing the database while the writer (and
 * every firing queued behind it) waits; here that work goes to a thread
 * of its own, passive so it never blocks a writer. */
#define CHECKPOINT_FRAMES 1000
/* an idle store's WAL is folded in at least this often */
#define CHECKPOINT_IDLE_S 10
/* a due checkpoint waits for a pause this long between commits... */
#define CHECKPOINT_QUIET_MS 20
/* ...unless this many frames (about 80 MB) wait to be copied; then it
 * makes writers wait until the WAL can start over */
#define CHECKPOINT_FORCE_FRAMES 20000

/* Map an SQLite failure to our codes: storage that cannot take a write now
 * (full disk, read-only file, locked database, I/O error) is "unavailable"
 * so the API answers 503; the write did not happen. */
static int sq_fail_on(struct sq *s, sqlite3 *db, int rc, char *msg, size_t msglen, const char *what)
{
    int code = ECS_EIO;

    switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        code = ECS_EUNAVAILABLE;
        break;
    case SQLITE_NOMEM:
        code = ECS_ENOMEM;
        break;
    case SQLITE_CONSTRAINT:
        code = ECS_EEXIST;
        break;
    default:
        break;
    }
    return ecs_fail(code, msg, msglen, "sqlite store %s: %s while %s", s->path,
                    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc), what);
}

static int sq_fail(struct sq *s, int rc, char *msg, size_t msglen, const char *what)
{
    return sq_fail_on(s, s->db, rc, msg, msglen, what);
}

/* mkdir -p of path's parent directory. */
static int make_parent(const char *path)
{
    char dir[PATH_MAX];
    char *p;

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
        return -1;
    p = strrchr(dir, '/');
    if (p == NULL || p == dir)
        return 0;
    *p = '\0';
    for (p = dir + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int exec(struct sq *s, const char *sql, char *msg, size_t msglen, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return sq_fail(s, rc, msg, msglen, what);
    return 0;
}

static int user_version(struct sq *s, int *out, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return sq_fail(s, rc, msg, msglen, "reading the schema version");
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int migrate(struct sq *s, char *msg, size_t msglen)
{
    char sql[64];
    int have = 0;
    int rc;
    int v;

    rc = exec(s, "BEGIN IMMEDIATE", msg, msglen, "starting the schema migration");
    if (rc != 0)
        return rc;
    rc = user_version(s, &have, msg, msglen);
    if (rc == 0 && have > SCHEMA_VERSION)
        rc = ecs_fail(ECS_EINVAL, msg, msglen,
                      "sqlite store %s: schema version %d is newer than this ecsched knows (%d); "
                      "upgrade ecsched",
                      s->path, have, SCHEMA_VERSION);
    for (v = have; rc == 0 && v < SCHEMA_VERSION; v++)
        rc = exec(s, migrations[v], msg, msglen, "migrating the schema");
    if (rc == 0 && have < SCHEMA_VERSION) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
        rc = exec(s, sql, msg, msglen, "recording the schema version");
    }
    if (rc != 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return exec(s, "COMMIT", msg, msglen, "committing the schema migration");
}

/* The cached statement `which`, reset and unbound, in *out; a sqlite
 * code. Lock held; reset it again after use, so that it does not keep a
 * read transaction open. */
static int cached(struct sq *s, enum cached_stmt which, sqlite3_stmt **out)
{
    int rc = SQLITE_OK;

    if (s->cached[which] == NULL)
        rc = sqlite3_prepare_v3(which <= CACHED_READ_END ? s->rdb : s->db, cached_sql[which], -1,
                                SQLITE_PREPARE_PERSISTENT, &s->cached[which], NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_reset(s->cached[which]);
    if (rc == SQLITE_OK)
        rc = sqlite3_clear_bindings(s->cached[which]);
    *out = rc == SQLITE_OK ? s->cached[which] : NULL;
    return rc;
}

/* Step a cached statement that returns no rows (BEGIN, COMMIT): a sqlite
 * code, SQLITE_OK when done. Its connection's lock held. */
static int step_cached(struct sq *s, enum cached_stmt which)
{
    sqlite3_stmt *st = NULL;
    int rc = cached(s, which, &st);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (st != NULL)
        sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Start and end a read transaction on the reader (rlock held). A reader
 * left inside a transaction would fail every later BEGIN and pin the WAL
 * against checkpoints, so a failed end rolls back. */
static int begin_read(struct sq *s, char *msg, size_t msglen, const char *what)
{
    int rc = step_cached(s, CACHED_READ_BEGIN);

    if (rc == SQLITE_OK)
        return 0;
    rc = sq_fail_on(s, s->rdb, rc, msg, msglen, what);
    if (!sqlite3_get_autocommit(s->rdb))
        sqlite3_exec(s->rdb, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void end_read(struct sq *s)
{
    if (step_cached(s, CACHED_READ_END) != SQLITE_OK && !sqlite3_get_autocommit(s->rdb))
        sqlite3_exec(s->rdb, "ROLLBACK", NULL, NULL, NULL);
}

/* db's WAL hook, after each commit (db's mutex held): note the commit,
 * and wake the checkpointer once the WAL has grown enough. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct sq *s = arg;

    (void)db;
    (void)name;
    pthread_mutex_lock(&s->ck_lock);
    /* fewer frames than were copied: the WAL started over */
    if (frames < s->ck_done)
        s->ck_done = 0;
    s->ck_frames = frames;
    s->ck_last_commit = clock_mono_ms();
    if (frames - s->ck_done >= CHECKPOINT_FRAMES && !s->ck_due) {
        s->ck_due = true;
        pthread_cond_signal(&s->ck_wake);
    }
    pthread_mutex_unlock(&s->ck_lock);
    return SQLITE_OK;
}

/* Whether a due checkpoint should wait: writers are busy (a burst of
 * firings commits every few milliseconds, and a checkpoint's copying and
 * fsync would slow them), unless the WAL has grown too long. ck_lock
 * held; *wait_ms is how long until the next look. Measured on the
 * monotonic clock, so a clock step neither hurries nor stalls it. */
static bool checkpoint_waits(const struct sq *s, int64_t *wait_ms)
{
    *wait_ms = s->ck_last_commit + CHECKPOINT_QUIET_MS - clock_mono_ms();
    return *wait_ms > 0 && s->ck_frames - s->ck_done < CHECKPOINT_FORCE_FRAMES;
}

static void *checkpointer_main(void *arg)
{
    struct sq *s = arg;

    pthread_mutex_lock(&s->ck_lock);
    while (!s->ck_stop) {
        struct timespec at;
        int64_t wait_ms = 0;
        int copied = 0;
        int mode;

        if (!s->ck_due) {
            at = clock_deadline(clock_wall_ms() + CHECKPOINT_IDLE_S * 1000);
            /* woken: a checkpoint is due; timed out: an idle store's WAL
             * is folded in anyway */
            if (pthread_cond_timedwait(&s->ck_wake, &s->ck_lock, &at) == 0)
                continue;
        } else if (checkpoint_waits(s, &wait_ms)) {
            at = clock_deadline(clock_wall_ms() + wait_ms);
            pthread_cond_timedwait(&s->ck_wake, &s->ck_lock, &at);
            continue;
        }
        if (s->ck_stop)
            break;
        s->ck_due = false;
        /* writers that never pause (a bulk import) would keep a passive
         * checkpoint from ever catching up, and the WAL from starting
         * over: past the limit, writers wait while it does */
        mode = s->ck_frames - s->ck_done >= CHECKPOINT_FORCE_FRAMES ? SQLITE_CHECKPOINT_RESTART
                                                                    : SQLITE_CHECKPOINT_PASSIVE;
        pthread_mutex_unlock(&s->ck_lock);
        /* a failure (a full disk), or frames a reader still needs, stay in
         * the WAL, durable there; a later round copies them */
        if (sqlite3_wal_checkpoint_v2(s->ckdb, NULL, mode, NULL, &copied) != SQLITE_OK)
            copied = 0;
        pthread_mutex_lock(&s->ck_lock);
        if (copied > s->ck_done)
            s->ck_done = copied;
    }
    pthread_mutex_unlock(&s->ck_lock);
    return NULL;
}

/* Open the checkpointer's connection and start its thread. */
static int start_checkpointer(struct sq *s, char *msg, size_t msglen)
{
    int rc =
        sqlite3_open_v2(s->path, &s->ckdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL);

    if (rc != SQLITE_OK)
        return sq_fail_on(s, s->ckdb, rc, msg, msglen, "opening the checkpointer");
    sqlite3_busy_timeout(s->ckdb, 5000);
    /* a connection that has not read the file yet does not know it is in
     * WAL mode, and its checkpoints would do nothing */
    rc = sqlite3_exec(s->ckdb, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sq_fail_on(s, s->ckdb, rc, msg, msglen, "opening the checkpointer");
    rc = pthread_create(&s->ck_thread, NULL, checkpointer_main, s);
    if (rc != 0)
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen,
                        "sqlite store %s: cannot start the checkpointer: %s", s->path,
                        strerror(rc));
    s->ck_started = true;
    /* this replaces SQLite's own autocheckpoint on db, as intended */
    sqlite3_wal_hook(s->db, on_wal_commit, s);
    return 0;
}

static void stop_checkpointer(struct sq *s)
{
    if (s->ck_started) {
        pthread_mutex_lock(&s->ck_lock);
        s->ck_stop = true;
        pthread_cond_signal(&s->ck_wake);
        pthread_mutex_unlock(&s->ck_lock);
        pthread_join(s->ck_thread, NULL);
        s->ck_started = false;
    }
    if (s->db != NULL)
        sqlite3_wal_hook(s->db, NULL, NULL);
    sqlite3_close(s->ckdb);
    s->ckdb = NULL;
}

/* One scheduler per SQLite file: an exclusive flock() on the file itself
 * (not a pid file), which the kernel drops when the process dies, even by
 * kill -9. flock and SQLite's own POSIX locks do not interact. */
static int sq_claim_scheduler(void *impl, char *msg, size_t msglen)
{
    struct sq *s = impl;

    if (s->sched_locked)
        return 0;
    if (s->lock_fd < 0)
        s->lock_fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (s->lock_fd < 0)
        return ecs_fail(ECS_EIO, msg, msglen, "sqlite store %s: cannot open it to lock: %s",
                        s->path, strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0) {
        s->sched_locked = true;
        return 0;
    }
    if (errno == EWOULDBLOCK)
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen,
                        "sqlite store %s already has a scheduler (another `ecsched serve` runs "
                        "on it): one SQLite file takes one scheduler; run this one with --role "
                        "api, or share the work among daemons through PostgreSQL",
                        s->path);
    return ecs_fail(ECS_EIO, msg, msglen, "sqlite store %s: cannot lock it: %s", s->path,
                    strerror(errno));
}

static void sq_close(void *impl)
{
    struct sq *s = impl;
    int i;

    stop_checkpointer(s);
    for (i = 0; i < CACHED_COUNT; i++)
        sqlite3_finalize(s->cached[i]);
    sqlite3_close(s->rdb);
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->rlock);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->group_lock);
    pthread_cond_destroy(&s->group_written);
    pthread_mutex_destroy(&s->ck_lock);
    pthread_cond_destroy(&s->ck_wake);
    free(s);
}

/* Each connection takes its first PAGECACHE_BULK cache pages in one
 * allocation and reuses them. The reader drops its cache whenever a
 * firing commits, and fetching the pages again one malloc() each (a
 * large request, which makes glibc sweep its small free chunks) was a
 * tenth of a firing's cost. A process-wide setting, made once before
 * SQLite starts; a process that started SQLite before us keeps its own
 * (the call then fails, harmlessly). */
#define PAGECACHE_BULK 256

static void configure_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, PAGECACHE_BULK);
}

static pthread_once_t configured = PTHREAD_ONCE_INIT;

static int sq_open(const char *location, void **impl, char *msg, size_t msglen)
{
    pthread_once(&configured, configure_sqlite);
    struct sq *s;
    int rc;

    if (location[0] == '\0')
        return ecs_fail(ECS_EINVAL, msg, msglen, "sqlite store needs a file: sqlite:PATH");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory opening the sqlite store");
    s->lock_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->rlock, NULL);
    pthread_mutex_init(&s->group_lock, NULL);
    pthread_cond_init(&s->group_written, NULL);
    pthread_mutex_init(&s->ck_lock, NULL);
    pthread_cond_init(&s->ck_wake, NULL);
    s->group_tail = &s->group;
    snprintf(s->path, sizeof(s->path), "%s", location);
    if (make_parent(location) != 0) {
        rc =
            ecs_fail(ECS_EUNAVAILABLE, msg, msglen,
                     "sqlite store %s: cannot create its directory: %s", location, strerror(errno));
        sq_close(s);
        return rc;
    }
    rc = sqlite3_open_v2(location, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = sq_fail(s, rc, msg, msglen, "opening");
        sq_close(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 5000);
    rc = exec(s, "PRAGMA journal_mode=WAL", msg, msglen, "switching to WAL");
    if (rc == 0)
        rc = exec(s, "PRAGMA synchronous=FULL", msg, msglen, "setting synchronous=FULL");
    if (rc == 0)
        rc = migrate(s, msg, msglen);
    if (rc == 0) {
        rc =
            sqlite3_open_v2(location, &s->rdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL);
        if (rc != SQLITE_OK)
            rc = sq_fail_on(s, s->rdb, rc, msg, msglen, "opening a reader");
        else
            sqlite3_busy_timeout(s->rdb, 5000);
    }
    if (rc == 0)
        rc = start_checkpointer(s, msg, msglen);
    if (rc != 0) {
        sq_close(s);
        return rc;
    }
    *impl = s;
    return 0;
}

static int sq_ping(void *impl, char *msg, size_t msglen)
{
    struct sq *s = impl;
    int v;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = user_version(s, &v, msg, msglen);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int column_record(sqlite3_stmt *st, int first, struct store_record *out)
{
    const char *id = (const char *)sqlite3_column_text(st, first);
    const char *data = (const char *)sqlite3_column_text(st, first + 1);

    out->id = store_strdup(id != NULL ? id : "");
    out->data = store_strdup(data != NULL ? data : "");
    out->version = sqlite3_column_int64(st, first + 2);
    out->changed_ms = sqlite3_column_int64(st, first + 3);
    if (out->id == NULL || out->data == NULL) {
        store_record_clear(out);
        return ECS_ENOMEM;
    }
    return 0;
}

/* One record on the reader. rlock held. */
static int get_one(struct sq *s, const char *id, struct store_record *out, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int rc = cached(s, CACHED_GET, &st);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = column_record(st, 0, out);
    else if (rc == SQLITE_DONE)
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no record '%s'", id);
    else
        rc = sq_fail_on(s, s->rdb, rc, msg, msglen, "reading a record");
    if (st != NULL)
        sqlite3_reset(st);
    return rc;
}

static int sq_get(void *impl, const char *id, struct store_record *out, char *msg, size_t msglen)
{
    struct sq *s = impl;
    int rc;

    pthread_mutex_lock(&s->rlock);
    rc = get_one(s, id, out, msg, msglen);
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

/* Every record in one read transaction: a transaction that sees a newer
 * commit than the reader's last one starts with an empty page cache, so
 * reading one record per transaction while firings commit meant fetching
 * (and allocating) its pages again each time. */
static int sq_get_many(void *impl, const char *const *ids, size_t n, struct store_record *out,
                       int *rcs, char *msg, size_t msglen)
{
    struct sq *s = impl;
    bool failed = false;
    size_t i;
    int rc;

    pthread_mutex_lock(&s->rlock);
    rc = begin_read(s, msg, msglen, "reading records");
    if (rc != 0) {
        pthread_mutex_unlock(&s->rlock);
        for (i = 0; i < n; i++)
            rcs[i] = rc;
        return rc;
    }
    for (i = 0; i < n; i++) {
        char one[512];

        rcs[i] = get_one(s, ids[i], &out[i], one, sizeof(one));
        if (rcs[i] != 0 && !failed)
            snprintf(msg, msglen, "%s", one);
        failed = failed || rcs[i] != 0;
    }
    end_read(s);
    pthread_mutex_unlock(&s->rlock);
    return 0;
}

static int sq_list(void *impl, size_t skip, size_t count, struct store_record **out, size_t *n,
                   size_t *total, char *msg, size_t msglen)
{
    struct sq *s = impl;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM jobs", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = sq_fail(s, rc, msg, msglen, "counting records");
        goto out;
    }
    *total = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (count == 0 || skip >= *total) {
        rc = 0;
        goto out;
    }
    rc = sqlite3_prepare_v2(
        s->db, "SELECT id, data, version, changed FROM jobs ORDER BY seq LIMIT ?1 OFFSET ?2", -1,
        &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, count > (size_t)INT64_MAX ? INT64_MAX : (int64_t)count);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, (int64_t)skip);
    if (rc != SQLITE_OK) {
        rc = sq_fail(s, rc, msg, msglen, "listing records");
        goto out;
    }
    for (;;) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            rc = 0;
            break;
        }
        if (rc != SQLITE_ROW) {
            rc = sq_fail(s, rc, msg, msglen, "listing records");
            break;
        }
        if (*n == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            struct store_record *nr = realloc(*out, ncap * sizeof(*nr));

            if (nr == NULL) {
                rc = ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory listing records");
                break;
            }
            *out = nr;
            cap = ncap;
        }
        rc = column_record(st, 0, &(*out)[*n]);
        if (rc != 0)
            break;
        (*n)++;
    }
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    if (rc != 0)
        store_records_free(out, *n);
    if (rc != 0)
        *n = 0;
    return rc;
}

/* store_upstream_fn over the jobs table; lock held, in a transaction. */
static int sq_upstream(void *ctx, const char *id, char *up, size_t uplen, char *msg, size_t msglen)
{
    struct sq *s = ctx;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT after_job FROM jobs WHERE id = ?1", -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);

        snprintf(up, uplen, "%s", text != NULL ? text : "");
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = ECS_ENOTFOUND;
    } else {
        rc = sq_fail(s, rc, msg, msglen, "reading a record's upstream");
    }
    sqlite3_finalize(st);
    return rc;
}

/* 0 when no job names id as its upstream, else ECS_ELINK naming the
 * first few that do; lock held, in a transaction. */
static int sq_check_followers(struct sq *s, const char *id, char *msg, size_t msglen)
{
    char names[STORE_FOLLOWERS_NAMED][256];
    const char *named[STORE_FOLLOWERS_NAMED];
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    size_t total = 0;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT id, count(*) OVER () FROM jobs WHERE after_job = ?1 "
                                "ORDER BY seq LIMIT ?2",
                                -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 2, STORE_FOLLOWERS_NAMED);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        snprintf(names[n], sizeof(names[n]), "%s", (const char *)sqlite3_column_text(st, 0));
        named[n] = names[n];
        n++;
        total = (size_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sq_fail(s, rc, msg, msglen, "looking for a record's followers");
    if (n == 0)
        return 0;
    return store_followed(id, named, n, total, msg, msglen);
}

/* End the transaction that BEGIN IMMEDIATE opened, or failed to (rc
 * its outcome so far): commit what succeeded, roll back the rest (a
 * rollback with no transaction open does nothing). Returns the outcome. */
static int end_transaction(struct sq *s, int rc, char *msg, size_t msglen, const char *what)
{
    if (rc == 0)
        rc = exec(s, "COMMIT", msg, msglen, what);
    if (rc != 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Prepare sql, a write of a job whose parameters are ?1 data, ?2 id,
 * ?3 version, ?4 changed and ?5 its upstream (NULL when up is ""). */
static int prepare_job_write(struct sq *s, const char *sql, const char *id, const char *data,
                             int64_t version, int64_t now_ms, const char *up, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(*st, 1, data, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(*st, 2, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(*st, 3, version);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(*st, 4, now_ms);
    if (rc == SQLITE_OK && up[0] != '\0')
        rc = sqlite3_bind_text(*st, 5, up, -1, SQLITE_STATIC);
    return rc;
}

/* Insert record id at version 1. Lock held. */
static int insert_job(struct sq *s, const char *id, const char *data, const char *up,
                      int64_t now_ms, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare_job_write(s,
                               "INSERT INTO jobs (data, id, version, changed, after_job) "
                               "VALUES (?1, ?2, ?3, ?4, ?5)",
                               id, data, 1, now_ms, up, &st);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    else if ((rc & 0xff) == SQLITE_CONSTRAINT)
        rc = ecs_fail(ECS_EEXIST, msg, msglen, "record '%s' exists", id);
    else
        rc = sq_fail(s, rc, msg, msglen, "creating a record");
    sqlite3_finalize(st);
    return rc;
}

/* Whether record id exists: 0 (no), ECS_EEXIST, or an error. Lock held. */
static int check_absent(struct sq *s, const char *id, char *msg, size_t msglen)
{
    char up[8];
    int rc = sq_upstream(s, id, up, sizeof(up), msg, msglen);

    if (rc == 0)
        return ecs_fail(ECS_EEXIST, msg, msglen, "record '%s' exists", id);
    return rc == ECS_ENOTFOUND ? 0 : rc;
}

static int sq_create(void *impl, const char *id, const char *data, int64_t now_ms, char *msg,
                     size_t msglen)
{
    struct sq *s = impl;
    char up[256];
    int rc;

    store_upstream_of(data, up, sizeof(up));
    pthread_mutex_lock(&s->lock);
    if (up[0] == '\0') {
        /* no link to check: one statement is its own transaction */
        rc = insert_job(s, id, data, up, now_ms, msg, msglen);
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    rc = exec(s, "BEGIN IMMEDIATE", msg, msglen, "creating a record");
    if (rc == 0)
        rc = check_absent(s, id, msg, msglen);
    if (rc == 0)
        rc = store_check_upstream(id, up, sq_upstream, s, msg, msglen);
    if (rc == 0)
        rc = insert_job(s, id, data, up, now_ms, msg, msglen);
    rc = end_transaction(s, rc, msg, msglen, "creating a record");
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* After an update or delete changed nothing: gone, or changed meanwhile. */
static int missing_or_conflict(struct sq *s, const char *id, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM jobs WHERE id = ?1", -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = ecs_fail(ECS_ECONFLICT, msg, msglen, "record '%s' changed meanwhile", id);
    else if (rc == SQLITE_DONE)
        rc = ecs_fail(ECS_ENOTFOUND, msg, msglen, "no record '%s'", id);
    else
        rc = sq_fail(s, rc, msg, msglen, "checking a record");
    sqlite3_finalize(st);
    return rc;
}

/* Replace record id's data when it is at expected_version. Lock held. */
static int update_job(struct sq *s, const char *id, const char *data, const char *up,
                      int64_t expected_version, int64_t now_ms, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare_job_write(s,
                               "UPDATE jobs SET data = ?1, version = version + 1, changed = ?4, "
                               "after_job = ?5 WHERE id = ?2 AND version = ?3",
                               id, data, expected_version, now_ms, up, &st);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = sqlite3_changes(s->db) == 1 ? 0 : missing_or_conflict(s, id, msg, msglen);
    else
        rc = sq_fail(s, rc, msg, msglen, "updating a record");
    sqlite3_finalize(st);
    return rc;
}

static int sq_update(void *impl, const char *id, const char *data, int64_t expected_version,
                     int64_t now_ms, char *msg, size_t msglen)
{
    struct sq *s = impl;
    char up[256];
    int rc;

    store_upstream_of(data, up, sizeof(up));
    pthread_mutex_lock(&s->lock);
    if (up[0] == '\0') {
        /* dropping a link breaks none */
        rc = update_job(s, id, data, up, expected_version, now_ms, msg, msglen);
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    rc = exec(s, "BEGIN IMMEDIATE", msg, msglen, "updating a record");
    if (rc == 0)
        rc = store_check_upstream(id, up, sq_upstream, s, msg, msglen);
    if (rc == 0)
        rc = update_job(s, id, data, up, expected_version, now_ms, msg, msglen);
    rc = end_transaction(s, rc, msg, msglen, "updating a record");
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sq_remove(void *impl, const char *id, char *msg, size_t msglen)
{
    struct sq *s = impl;
    sqlite3_stmt *st = NULL;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = exec(s, "BEGIN IMMEDIATE", msg, msglen, "deleting a record");
    if (rc != 0) {
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    rc = sq_check_followers(s, id, msg, msglen);
    if (rc != 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    rc = sqlite3_prepare_v2(s->db, "DELETE FROM jobs WHERE id = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = sqlite3_changes(s->db) == 1
                 ? 0
                 : ecs_fail(ECS_ENOTFOUND, msg, msglen, "no record '%s'", id);
    else
        rc = sq_fail(s, rc, msg, msglen, "deleting a record");
    sqlite3_finalize(st);
    st = NULL;
    /* a job re-created under the same id starts with no history */
    if (rc == 0)
        rc = sqlite3_prepare_v2(s->db, "DELETE FROM runs WHERE job_id = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = sq_fail(s, rc, msg, msglen, "deleting a record's runs");
    sqlite3_finalize(st);
    if (rc == 0)
        rc = exec(s, "COMMIT", msg, msglen, "deleting a record");
    if (rc != 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int column_run(sqlite3_stmt *st, struct store_run *out)
{
    struct store_run r;

    memset(&r, 0, sizeof(r));
    r.id = sqlite3_column_int64(st, 0);
    r.job_id = (char *)sqlite3_column_text(st, 1);
    r.claim = (char *)sqlite3_column_text(st, 2);
    r.scheduled = sqlite3_column_int64(st, 3);
    r.status = (char *)sqlite3_column_text(st, 4);
    r.ntasks = sqlite3_column_int64(st, 5);
    r.data = (char *)sqlite3_column_text(st, 6);
    return store_run_copy(&r, out);
}

/* The job's history after one of its runs ended: see store_run.keep. A
 * failure that leaves the transaction open is only housekeeping left
 * for the next ended run (0); one that ended it fails the write. Lock
 * held, in a transaction. */
static int prune_runs(struct sq *s, const char *job_id, size_t keep, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int rc = cached(s, CACHED_RUN_PRUNE, &st);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2,
                                keep - 1 > (size_t)INT64_MAX ? INT64_MAX : (int64_t)(keep - 1));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (st != NULL)
        sqlite3_reset(st);
    if (rc == SQLITE_DONE || !sqlite3_get_autocommit(s->db))
        return 0;
    return sq_fail(s, rc, msg, msglen, "pruning runs");
}

static bool run_ended(const char *status)
{
    return strcmp(status, "pending") != 0 && strcmp(status, "running") != 0;
}

/* Insert (run->id == 0) or update one run, then prune its job's history
 * if asked to. Lock held, in a transaction. */
static int put_run(struct sq *s, struct store_run *run, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int rc = cached(s, run->id == 0 ? CACHED_RUN_INSERT : CACHED_RUN_UPDATE, &st);

    if (rc == SQLITE_OK && run->id == 0)
        rc = sqlite3_bind_text(st, 1, run->job_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && run->id == 0 && run->claim != NULL)
        rc = sqlite3_bind_text(st, 2, run->claim, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && run->id == 0)
        rc = sqlite3_bind_int64(st, 3, run->scheduled);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 4, run->status, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 5, run->ntasks);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 6, run->data, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && run->id != 0)
        rc = sqlite3_bind_int64(st, 7, run->id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE && run->id == 0) {
        run->id = sqlite3_last_insert_rowid(s->db);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = sqlite3_changes(s->db) == 1
                 ? 0
                 : ecs_fail(ECS_ENOTFOUND, msg, msglen, "no run %lld", (long long)run->id);
    } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        rc = ecs_fail(ECS_EEXIST, msg, msglen, "firing %s is already claimed",
                      run->claim != NULL ? run->claim : "?");
    } else {
        rc = sq_fail(s, rc, msg, msglen, "writing a run");
    }
    if (st != NULL)
        sqlite3_reset(st);
    if (rc == 0 && run->keep > 0 && run->job_id != NULL && run_ended(run->status))
        rc = prune_runs(s, run->job_id, run->keep, msg, msglen);
    return rc;
}

/* One caller's runs, waiting to be written with others' (see
 * sq_run_put_many). */
struct put_request {
    struct store_run *runs;
    size_t n;
    int *rcs;
    char *msg;
    size_t msglen;
    int rc;
    bool done;
    struct put_request *next;
};

/* Write the runs of every request in group in one transaction. A claim
 * that is taken fails only its own statement; an error that ends the
 * transaction (disk full, I/O), or a failed commit, fails every request:
 * nothing of them was written. */
static void write_group(struct sq *s, struct put_request *group)
{
    struct put_request *r;
    int64_t first_new = 0;
    char why[512];
    size_t i;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = step_cached(s, CACHED_WRITE_BEGIN);
    if (rc != SQLITE_OK)
        rc = sq_fail(s, rc, why, sizeof(why), "writing runs");
    for (r = group; r != NULL; r = r->next) {
        bool failed = false;

        r->rc = rc;
        for (i = 0; rc == 0 && i < r->n; i++) {
            char one[512];
            bool insert = r->runs[i].id == 0;

            r->rcs[i] = put_run(s, &r->runs[i], one, sizeof(one));
            if (r->rcs[i] == 0 && insert && first_new == 0)
                first_new = r->runs[i].id;
            if (r->rcs[i] != 0 && !failed)
                snprintf(r->msg, r->msglen, "%s", one);
            failed = failed || r->rcs[i] != 0;
            /* SQLite rolled the transaction back: the earlier runs are gone too */
            if (r->rcs[i] != 0 && sqlite3_get_autocommit(s->db)) {
                snprintf(why, sizeof(why), "%s", one);
                rc = r->rcs[i];
            }
        }
    }
    if (rc == 0) {
        rc = step_cached(s, CACHED_WRITE_END);
        if (rc != SQLITE_OK)
            rc = sq_fail(s, rc, why, sizeof(why), "committing runs");
    }
    if (rc != 0 && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->lock);
    for (r = group; rc != 0 && r != NULL; r = r->next) {
        r->rc = rc;
        snprintf(r->msg, r->msglen, "%s", why);
        for (i = 0; i < r->n; i++) {
            r->rcs[i] = rc;
            /* ids only grow, so the runs inserted here are those at or
             * after the first; rolled back, they have none */
            if (first_new != 0 && r->runs[i].id >= first_new)
                r->runs[i].id = 0;
        }
    }
}

/* Group commit: callers that arrive while another group is being written
 * queue up, and the first of them then writes all their runs in one
 * transaction, so one durable commit (one fsync) serves every worker
 * that was waiting for the store instead of one each. */
static int sq_run_put_many(void *impl, struct store_run *runs, size_t n, int *rcs, char *msg,
                           size_t msglen)
{
    struct sq *s = impl;
    struct put_request me = {runs, n, rcs, msg, msglen, 0, false, NULL};

    pthread_mutex_lock(&s->group_lock);
    *s->group_tail = &me;
    s->group_tail = &me.next;
    while (!me.done && s->group_writing)
        pthread_cond_wait(&s->group_written, &s->group_lock);
    if (!me.done) {
        struct put_request *group = s->group;
        struct put_request *r;

        s->group = NULL;
        s->group_tail = &s->group;
        s->group_writing = true;
        pthread_mutex_unlock(&s->group_lock);
        write_group(s, group);
        pthread_mutex_lock(&s->group_lock);
        for (r = group; r != NULL; r = r->next)
            r->done = true;
        s->group_writing = false;
        pthread_cond_broadcast(&s->group_written);
    }
    pthread_mutex_unlock(&s->group_lock);
    return me.rc;
}

/* One run is a group of one: its write and its pruning commit together,
 * with whatever other writers are waiting. */
static int sq_run_put(void *impl, struct store_run *run, char *msg, size_t msglen)
{
    int one = 0;
    int rc = sq_run_put_many(impl, run, 1, &one, msg, msglen);

    return rc != 0 ? rc : one;
}

#define RUN_COLUMNS "id, job_id, claim, scheduled, status, ntasks, data"

static int sq_run_get(void *impl, const char *job_id, int64_t id, struct store_run *out, char *msg,
                      size_t msglen)
{
    struct sq *s = impl;
    sqlite3_stmt *st = NULL;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = sqlite3_prepare_v2(s->db, "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?1 AND job_id = ?2",
                            -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = column_run(st, out);
    else if (rc == SQLITE_DONE)
        rc =
            ecs_fail(ECS_ENOTFOUND, msg, msglen, "job '%s' has no run %lld", job_id, (long long)id);
    else
        rc = sq_fail(s, rc, msg, msglen, "reading a run");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* The SQL of each query: ?1 job id, ?2 limit, ?3 offset. */
static const char *const run_queries[] = {
    [STORE_RUNS_OF_JOB] = "SELECT " RUN_COLUMNS " FROM runs WHERE job_id = ?1"
                          " ORDER BY id DESC LIMIT ?2 OFFSET ?3",
    /* ?3 is a run id here: the page starts after it, from the index */
    [STORE_RUNS_ACTIVE_AFTER] = "SELECT " RUN_COLUMNS " FROM runs"
                                " WHERE status IN ('pending', 'running') AND id > ?3"
                                " AND ?1 IS NOT NULL ORDER BY id LIMIT ?2",
    [STORE_RUNS_LAST_LAUNCHED] = "SELECT " RUN_COLUMNS " FROM runs WHERE job_id = ?1"
                                 " AND ntasks > 0 ORDER BY id DESC LIMIT min(?2, 1) OFFSET ?3",
    /* scheduled firings' claims only: "<job>@<second>", no ':' (pipeline
     * and trigger claims have one) */
    [STORE_RUNS_LAST_CLAIMED] = "SELECT " RUN_COLUMNS " FROM runs r WHERE claim IS NOT NULL"
                                " AND instr(claim, ':') = 0"
                                " AND (?1 = '' OR job_id = ?1) AND scheduled ="
                                " (SELECT max(scheduled) FROM runs WHERE job_id = r.job_id"
                                " AND claim IS NOT NULL AND instr(claim, ':') = 0)"
                                " ORDER BY id LIMIT ?2 OFFSET ?3",
    [STORE_RUNS_BY_CLAIM] = "SELECT " RUN_COLUMNS " FROM runs WHERE claim = ?1"
                            " AND instr(claim, ':') > 0 LIMIT ?2 OFFSET ?3",
};

static int sq_run_count(struct sq *s, const char *job_id, size_t *total, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(s->rdb, "SELECT count(*) FROM runs WHERE job_id = ?1", -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *total = (size_t)sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = sq_fail_on(s, s->rdb, rc, msg, msglen, "counting runs");
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_run_query(void *impl, enum store_run_query q, const char *job_id, size_t skip,
                        size_t count, struct store_run **out, size_t *n, size_t *total, char *msg,
                        size_t msglen)
{
    struct sq *s = impl;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = 0;

    /* on the reader: a long query (every active run) must not hold up
     * the writer's claims */
    pthread_mutex_lock(&s->rlock);
    /* the count and the page from one snapshot */
    rc = begin_read(s, msg, msglen, "listing runs");
    if (rc == 0 && q == STORE_RUNS_OF_JOB)
        rc = sq_run_count(s, job_id, total, msg, msglen);
    if (rc == 0)
        rc = sqlite3_prepare_v2(s->rdb, run_queries[q], -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, count > (size_t)INT64_MAX ? INT64_MAX : (int64_t)count);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, (int64_t)skip);
    while (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            rc = 0;
            break;
        }
        if (rc != SQLITE_ROW)
            break;
        if (*n == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            struct store_run *nr = realloc(*out, ncap * sizeof(*nr));

            if (nr == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = nr;
            cap = ncap;
        }
        rc = column_run(st, &(*out)[*n]) == 0 ? SQLITE_OK : SQLITE_NOMEM;
        if (rc == SQLITE_OK)
            (*n)++;
    }
    if (rc > 0)
        rc = sq_fail_on(s, s->rdb, rc, msg, msglen, "listing runs");
    sqlite3_finalize(st);
    end_read(s);
    pthread_mutex_unlock(&s->rlock);
    if (rc != 0) {
        store_runs_free(out, *n);
        *n = 0;
    } else if (q != STORE_RUNS_OF_JOB) {
        *total = *n;
    }
    return rc;
}

const struct store_backend store_backend_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .ping = sq_ping,
    .get = sq_get,
    .get_many = sq_get_many,
    .list = sq_list,
    .create = sq_create,
    .update = sq_update,
    .remove = sq_remove,
    .run_put = sq_run_put,
    .run_put_many = sq_run_put_many,
    .run_get = sq_run_get,
    .run_query = sq_run_query,
    .claim_scheduler = sq_claim_scheduler,
};
