/* poller.c - a thread per s3 job. A poller that must stop (job changed or
 * deleted) is told so and left to finish its long poll on its own; it is
 * joined the next time the set changes, or when the set is freed. */
#include "daemon/poller.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"

#define WAIT_SECONDS 20
/* after a failed receive, wait this long before the next (no hot loop) */
#define RETRY_PAUSE_MS 5000

struct poller {
    struct pollers *set;
    char *id;
    json_t *trigger; /* the job's trigger when started */
    int max;         /* messages per receive: maxCount, at most 10 */
    pthread_t thread;
    bool started;
    bool stop; /* under set->lock */
    bool done; /* under set->lock: the thread has returned */
    struct poller *next;
};

struct pollers {
    struct triggers *triggers;
    struct logger *log;
    poller_emit_fn emit;
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a poller's pause ends early on stop */
    struct poller *live;
    struct poller *retired;
};

static bool stopping(struct poller *pl)
{
    bool stop;

    pthread_mutex_lock(&pl->set->lock);
    stop = pl->stop;
    pthread_mutex_unlock(&pl->set->lock);
    return stop;
}

static void pause_ms(struct poller *pl, int64_t ms)
{
    struct timespec until = clock_deadline(clock_wall_ms() + ms);

    pthread_mutex_lock(&pl->set->lock);
    if (!pl->stop)
        pthread_cond_timedwait(&pl->set->wake, &pl->set->lock, &until);
    pthread_mutex_unlock(&pl->set->lock);
}

static void handle(struct poller *pl, const json_t *item)
{
    struct pollers *set = pl->set;
    const char *ignored = json_string_value(json_object_get(item, "ignored"));
    char msg[512];

    if (ignored == NULL) {
        set->emit(set->ctx, pl->id, item);
        return;
    }
    /* nothing to start: the message is done with */
    if (trigger_s3_delete(set->triggers, json_string_value(json_object_get(item, "queueUrl")),
                          json_string_value(json_object_get(item, "receipt")), msg,
                          sizeof(msg)) != 0)
        log_event(set->log, LOG_WARN, "s3.delete_failed",
                  json_pack("{s:s, s:O?, s:s}", "job", pl->id, "message",
                            json_object_get(item, "messageId"), "error", msg));
    log_event(set->log, LOG_DEBUG, "s3.ignored",
              json_pack("{s:s, s:O?, s:s}", "job", pl->id, "message",
                        json_object_get(item, "messageId"), "why", ignored));
}

static void *run(void *arg)
{
    struct poller *pl = arg;
    struct pollers *set = pl->set;

    while (!stopping(pl)) {
        json_t *items = NULL;
        const json_t *item;
        char msg[512];
        size_t i;

        if (trigger_s3_receive(set->triggers, pl->trigger, pl->max, WAIT_SECONDS, &items, msg,
                               sizeof(msg)) != 0) {
            if (stopping(pl))
                break;
            log_event(set->log, LOG_ERROR, "s3.receive_failed",
                      json_pack("{s:s, s:s}", "job", pl->id, "error", msg));
            pause_ms(pl, RETRY_PAUSE_MS);
            continue;
        }
        json_array_foreach(items, i, item) {
            /* unhandled messages come back when their visibility ends */
            if (stopping(pl))
                break;
            handle(pl, item);
        }
        json_decref(items);
    }
    pthread_mutex_lock(&set->lock);
    pl->done = true;
    pthread_mutex_unlock(&set->lock);
    return NULL;
}

static void poller_free(struct poller *pl)
{
    if (pl->started)
        pthread_join(pl->thread, NULL);
    free(pl->id);
    json_decref(pl->trigger);
    free(pl);
}

int pollers_init(struct triggers *t, struct logger *log, poller_emit_fn emit, void *ctx,
                 struct pollers **out, char *msg, size_t msglen)
{
    struct pollers *p = calloc(1, sizeof(*p));

    *out = NULL;
    if (p == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    p->triggers = t;
    p->log = log;
    p->emit = emit;
    p->ctx = ctx;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    *out = p;
    return 0;
}

/* Join and free the retired pollers that have finished. Lock not held. */
static void reap(struct pollers *p, bool all)
{
    struct poller *done = NULL;
    struct poller **link;

    pthread_mutex_lock(&p->lock);
    link = &p->retired;
    while (*link != NULL) {
        struct poller *pl = *link;

        if (all || pl->done) {
            *link = pl->next;
            pl->next = done;
            done = pl;
        } else {
            link = &pl->next;
        }
    }
    pthread_mutex_unlock(&p->lock);
    while (done != NULL) {
        struct poller *next = done->next;

        poller_free(done);
        done = next;
    }
}

void pollers_sync(struct pollers *p, const char *id, const json_t *job)
{
    const json_t *trigger = job != NULL ? json_object_get(job, "trigger") : NULL;
    const json_t *max = job != NULL ? json_object_get(job, "maxCount") : NULL;
    bool wanted =
        job != NULL && trigger_is_s3(job) && !json_is_true(json_object_get(job, "suspended"));
    struct poller **link;
    struct poller *pl = NULL;

    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    for (link = &p->live; *link != NULL; link = &(*link)->next) {
        if (strcmp((*link)->id, id) == 0)
            break;
    }
    if (*link != NULL && wanted && json_equal((*link)->trigger, trigger)) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    if (*link != NULL) {
        struct poller *old = *link;

        *link = old->next;
        old->stop = true;
        old->next = p->retired;
        p->retired = old;
        pthread_cond_broadcast(&p->wake);
    }
    if (wanted) {
        pl = calloc(1, sizeof(*pl));
        if (pl != NULL) {
            pl->set = p;
            pl->id = strdup(id);
            pl->trigger = json_deep_copy(trigger);
            pl->max = json_is_integer(max) && json_integer_value(max) < 10
                          ? (int)json_integer_value(max)
                          : 10;
            pl->started = pl->id != NULL && pl->trigger != NULL &&
                          pthread_create(&pl->thread, NULL, run, pl) == 0;
        }
        if (pl != NULL && pl->started) {
            pl->next = p->live;
            p->live = pl;
        } else if (pl != NULL) {
            free(pl->id);
            json_decref(pl->trigger);
            free(pl);
            log_event(p->log, LOG_ERROR, "s3.poller_failed",
                      json_pack("{s:s, s:s}", "job", id, "error", "cannot start a thread"));
        }
    }
    pthread_mutex_unlock(&p->lock);
    reap(p, false);
}

void pollers_free(struct pollers **pp)
{
    struct pollers *p;
    struct poller *pl;

    if (pp == NULL || *pp == NULL)
        return;
    p = *pp;
    pthread_mutex_lock(&p->lock);
    while (p->live != NULL) {
        pl = p->live;
        p->live = pl->next;
        pl->stop = true;
        pl->next = p->retired;
        p->retired = pl;
    }
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    reap(p, true);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
    *pp = NULL;
}
