/* taskdef.c - what task.json records for one task of an ECS task
 * definition: each container's argv (entryPoint + command, or the
 * override's), environment (the container's, the overrides', the
 * request's, the task's ARN), log path and essential flag, and the task's
 * stop timeout. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "launch/launcher.h"
#include "launch/taskdir.h"

#define STOP_TIMEOUT_DEFAULT 30
#define ARGV_MAX 256
#define ENV_MAX 512

/* argv of a container: entryPoint + (override command or command). */
static int build_argv(const json_t *cdef, const json_t *ov, char **argv, size_t *argc)
{
    const json_t *parts[2];
    const json_t *cmd = ov != NULL ? json_object_get(ov, "command") : NULL;
    size_t p;
    size_t i;
    const json_t *v;

    parts[0] = json_object_get(cdef, "entryPoint");
    parts[1] = cmd != NULL ? cmd : json_object_get(cdef, "command");
    *argc = 0;
    for (p = 0; p < 2; p++) {
        json_array_foreach(parts[p], i, v) {
            if (!json_is_string(v) || *argc + 1 >= ARGV_MAX)
                return -1;
            argv[(*argc)++] = (char *)json_string_value(v);
        }
    }
    argv[*argc] = NULL;
    return *argc > 0 ? 0 : -1;
}

/* Set NAME=value in env (n entries), replacing an earlier NAME: later
 * sources win, as they do in ECS. */
static void env_put(char **env, size_t *n, const char *name, const char *value)
{
    size_t len = strlen(name);
    size_t i;
    char *entry = NULL;

    if (asprintf(&entry, "%s=%s", name, value) < 0)
        return;
    for (i = 0; i < *n; i++) {
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=') {
            free(env[i]);
            env[i] = entry;
            return;
        }
    }
    if (*n + 1 >= ENV_MAX) {
        free(entry);
        return;
    }
    env[*n] = entry;
    (*n)++;
}

/* Environment: PATH and HOME from here, the container's, the overrides',
 * the request's extra variables, then who the task is (the request's
 * identity and its own ARN). Strings are allocated; free with free_env. */
static size_t build_env(const json_t *cdef, const json_t *ov, const json_t *extra,
                        const json_t *identity, const char *arn, char **env)
{
    size_t n = 0;
    size_t i;
    const json_t *v;
    const char *k;
    const char *keep[] = {"PATH", "HOME"};

    for (i = 0; i < 2; i++) {
        const char *val = getenv(keep[i]);

        if (val != NULL)
            env_put(env, &n, keep[i], val);
    }
    json_array_foreach(json_object_get(cdef, "environment"), i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *val = json_string_value(json_object_get(v, "value"));

        if (name != NULL && val != NULL)
            env_put(env, &n, name, val);
    }
    json_object_foreach((json_t *)json_object_get(ov, "environment"), k, v) {
        if (json_is_string(v))
            env_put(env, &n, k, json_string_value(v));
    }
    json_object_foreach((json_t *)extra, k, v) {
        if (json_is_string(v))
            env_put(env, &n, k, json_string_value(v));
    }
    json_object_foreach((json_t *)identity, k, v) {
        if (json_is_string(v))
            env_put(env, &n, k, json_string_value(v));
    }
    env_put(env, &n, "ECSCHED_TASK_ARN", arn);
    env[n] = NULL;
    return n;
}

static void free_env(char **env, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(env[i]);
}

/* The job's override for a container, or NULL. */
static const json_t *override_for(const json_t *overrides, const char *name)
{
    size_t i;
    const json_t *o;

    json_array_foreach(overrides, i, o) {
        const char *c = json_string_value(json_object_get(o, "containerName"));

        if (c != NULL && strcmp(c, name) == 0)
            return o;
    }
    return NULL;
}

/* The definition's containers as task.json's: argv, environment, log and
 * essential flag each, with the task's stop timeout; NULL with reason. */
json_t *taskdir_record(const json_t *def, const struct launch_request *rq, const char *id,
                       const char *arn, const char *dir, char *reason, size_t reasonlen)
{
    const json_t *cdefs = json_object_get(def, "containerDefinitions");
    json_t *cs = json_array();
    json_t *task;
    int stop_timeout = 0;
    size_t k;

    if (cs == NULL) {
        snprintf(reason, reasonlen, "out of memory");
        return NULL;
    }
    if (json_array_size(cdefs) == 0) {
        snprintf(reason, reasonlen, "task definition %.100s has no containerDefinitions",
                 rq->family);
        json_decref(cs);
        return NULL;
    }
    for (k = 0; k < json_array_size(cdefs); k++) {
        const json_t *cdef = json_array_get(cdefs, k);
        const char *name = json_string_value(json_object_get(cdef, "name"));
        const json_t *ov = override_for(rq->overrides, name != NULL ? name : "");
        const json_t *ess = json_object_get(cdef, "essential");
        const json_t *timeout = json_object_get(cdef, "stopTimeout");
        char *argv[ARGV_MAX];
        char *env[ENV_MAX];
        char log_path[PATH_MAX];
        json_t *jargv = json_array();
        json_t *jenv = json_array();
        size_t argc;
        size_t nenv;
        size_t i;

        if (json_is_integer(timeout) && json_integer_value(timeout) > stop_timeout)
            stop_timeout = (int)json_integer_value(timeout);
        if (build_argv(cdef, ov, argv, &argc) != 0) {
            snprintf(reason, reasonlen,
                     "container %.100s of %.100s has no entryPoint or command to run",
                     name != NULL ? name : "?", rq->family);
            json_decref(jargv);
            json_decref(jenv);
            json_decref(cs);
            return NULL;
        }
        if (snprintf(log_path, sizeof(log_path), "%s/%s.log", dir,
                     name != NULL ? name : "container") >= (int)sizeof(log_path)) {
            snprintf(reason, reasonlen, "log file path too long");
            json_decref(jargv);
            json_decref(jenv);
            json_decref(cs);
            return NULL;
        }
        nenv = build_env(cdef, ov, rq->environment, rq->identity, arn, env);
        for (i = 0; i < argc; i++)
            json_array_append_new(jargv, json_string(argv[i]));
        for (i = 0; i < nenv; i++)
            json_array_append_new(jenv, json_string(env[i]));
        free_env(env, nenv);
        json_array_append_new(cs,
                              json_pack("{s:s, s:o, s:o, s:s, s:b}", "name",
                                        name != NULL ? name : "", "argv", jargv, "env", jenv, "log",
                                        log_path, "essential", ess == NULL || json_is_true(ess)));
    }
    task = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s, s:I, s:i, s:o}", "arn", arn, "started_by",
                     rq->started_by, "client_token", rq->client_token, "run_token", rq->run_token,
                     "family", rq->family, "id", id, "created_ms", (json_int_t)clock_wall_ms(),
                     "stop_timeout", stop_timeout > 0 ? stop_timeout : STOP_TIMEOUT_DEFAULT,
                     "containers", cs);
    if (task == NULL || json_array_size(cs) != json_array_size(cdefs)) {
        snprintf(reason, reasonlen, "out of memory");
        json_decref(task);
        return NULL;
    }
    return task;
}
