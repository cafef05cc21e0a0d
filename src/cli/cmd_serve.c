/* cmd_serve.c - `ecsched serve`: run the jobs API on an address with a
 * store until SIGINT or SIGTERM, then stop cleanly (requests in flight
 * finish). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "api/api.h"
#include "cli/cli.h"
#include "cli/launch_defaults.h"
#include "core/error.h"
#include "core/log.h"
#include "daemon/scheduler.h"
#include "launch/launcher.h"
#include "store/store.h"

#define STATE_DIR_DEFAULT "/var/lib/ecsched"

static const char serve_usage[] =
    "usage: ecsched serve [--listen HOST:PORT] [--store SPEC] [--threads N]\n"
    "\n"
    "Serve the jobs API (compatible with ECS Scheduler's) until SIGINT or "
    "SIGTERM.\n"
    "\n"
    "  -l, --listen HOST:PORT  IPv4 address and port (default 127.0.0.1:5000;\n"
    "                          0.0.0.0:PORT to expose it)\n"
    "  -s, --store SPEC        sqlite:PATH (default "
    "sqlite:$ECSCHED_STATE_DIR/jobs.db,\n"
    "                          state dir " STATE_DIR_DEFAULT ") or memory: (lost on exit)\n"
    "  -t, --threads N         HTTP worker threads (default 2)\n"
    "      --token-file FILE   require 'Authorization: Bearer <token>' for "
    "writes,\n"
    "                          the token being FILE's first line (or set "
    "ECSCHED_TOKEN)\n"
    "      --auth-reads        require the token for reads too (not for "
    "/healthz)\n"
    "      --request-timeout S a request's head must arrive within S seconds of "
    "connecting,\n"
    "                          its body within S more (total, not idle; default "
    "10)\n"
    "      --max-connections N connections open at once (default 4096, at most "
    "the\n"
    "                          descriptor limit less 128); more get 503\n"
    "      --max-per-address N connections open at once from one client address "
    "(default\n"
    "                          64); more get 429\n"
    "      --max-body BYTES    largest request body (default 1048576); a larger\n"
    "                          Content-Length gets 413 before the body is read\n"
    "      --role ROLE         all (default): API and scheduler; api; "
    "scheduler\n"
    "      --launcher NAME     local (default; ECSCHED_LAUNCHER) runs task "
    "definitions as\n"
    "                          processes; ecs calls Amazon ECS; fake only "
    "records (tests)\n"
    "      --task-definitions DIR  the local launcher's <family>.json files\n"
    "                          (default $ECSCHED_TASK_DEFINITIONS or "
    "$ECSCHED_STATE_DIR/task-definitions)\n"
    "      --log-dir DIR       the local launcher's task logs (default "
    "$ECSCHED_STATE_DIR/logs)\n"
    "      --log-level LEVEL   debug, info (default; ECSCHED_LOG_LEVEL), warn, "
    "error:\n"
    "                          JSON-lines events on stderr\n"
    "      --cluster NAME      ecs launcher: default cluster (default "
    "'default';\n"
    "                          ECSCHED_CLUSTER); a job's launch.cluster wins\n"
    "      --launch-type T     ecs launcher: EC2, FARGATE or EXTERNAL "
    "(ECSCHED_LAUNCH_TYPE)\n"
    "      --platform-version V  ecs launcher: Fargate platform version "
    "(ECSCHED_PLATFORM_VERSION)\n"
    "      --subnets IDS       ecs launcher: awsvpc subnets, comma-separated "
    "(ECSCHED_SUBNETS)\n"
    "      --security-groups IDS  ecs launcher: awsvpc security groups "
    "(ECSCHED_SECURITY_GROUPS)\n"
    "      --assign-public-ip ENABLED|DISABLED  ecs launcher "
    "(ECSCHED_ASSIGN_PUBLIC_IP)\n"
    "                          AWS credentials, region and endpoint come from "
    "the\n"
    "                          usual AWS_* variables, profile files, the ECS "
    "container\n"
    "                          endpoint or EC2 instance metadata\n"
    "      --poll-interval S   how often running tasks are described to follow "
    "runs\n"
    "                          to their end (default 5; "
    "ECSCHED_POLL_INTERVAL)\n"
    "      --workers N         firings launched at once, 1 to 256 (default 8; "
    "ECSCHED_WORKERS)\n";

/* The API's manual runs go straight to the in-process scheduler. */
static int serve_run_now(void *ctx, const char *job_id, int64_t run_id)
{
    return scheduler_run_now(ctx, job_id, run_id);
}

/* A job's launches in flight settle before it is deleted. */
static void serve_before_delete(void *ctx, const char *job_id)
{
    scheduler_job_deleting(ctx, job_id);
}

/* What stopping a deleted job's tasks needs. */
struct serve_stopper {
    struct launcher *launcher;
    struct logger *log;
};

/* A deleted job's active tasks are stopped through the launcher, and the
 * log keeps their record. */
static int serve_stop_task(void *ctx, const char *job_id, const char *arn, const char *reason)
{
    struct serve_stopper *st = ctx;
    char msg[512];
    int rc;

    msg[0] = '\0';
    rc = launcher_stop_task(st->launcher, arn, reason, msg, sizeof(msg));
    log_event(
        st->log, rc == 0 ? LOG_WARN : LOG_ERROR, "job.deleted_task_stopped",
        json_pack("{s:s, s:s, s:s?}", "job", job_id, "task", arn, "error", rc == 0 ? NULL : msg));
    return rc;
}

/* A job's or run's overrides against its task definition, where the
 * launcher can tell (local). */
static int serve_check_overrides(void *ctx, const char *family, const json_t *overrides,
                                 json_t **errors)
{
    return launcher_check_overrides(ctx, family, overrides, errors);
}

/* The store listener: every write re-aims the scheduler at once. */
static void on_store_change(void *ctx, enum store_change change, const char *id)
{
    (void)change;
    scheduler_job_changed(ctx, id);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : fallback;
}

/* The token from FILE's first line, without the line end. */
static int read_token(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        return -1;
    if (fgets(out, (int)len, f) == NULL) {
        fclose(f);
        return -1;
    }
    fclose(f);
    n = strcspn(out, "\r\n");
    out[n] = '\0';
    return n > 0 ? 0 : -1;
}

/* A whole decimal number from lo to hi for option name; 0, or -1 after
 * saying what is wrong. */
static int limit_option(const char *name, const char *text, long lo, long hi, int *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "ecsched serve: %s '%s' must be a whole number from %ld to %ld\n", name,
                text, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* The descriptors kept for the store, the launcher's tasks and logs, on
 * top of the API's connections. */
#define FD_RESERVE 128
#define CONNECTIONS_DEFAULT 4096

/* Raise the descriptor limit to its hard ceiling, and pick (or check) the
 * global connection cap below it, so that accept never fails for want of
 * a descriptor while the store still needs one. */
static int connection_cap(int *cap, char *msg, size_t msglen)
{
    struct rlimit rl;
    long room;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return ecs_fail(ECS_EIO, msg, msglen, "cannot read the descriptor limit");
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;

        want.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
    }
    room = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1000000 ? 1000000
                                                                 : (long)rl.rlim_cur - FD_RESERVE;
    if (room < 1)
        return ecs_fail(ECS_EINVAL, msg, msglen, "the descriptor limit (%ld) is too low to serve",
                        (long)rl.rlim_cur);
    if (*cap == 0) {
        *cap = room < CONNECTIONS_DEFAULT ? (int)room : CONNECTIONS_DEFAULT;
        return 0;
    }
    if (*cap > room)
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "--max-connections %d is above the descriptor limit (%ld) less %d kept "
                        "for the store and tasks",
                        *cap, (long)rl.rlim_cur, FD_RESERVE);
    return 0;
}

static int parse_listen(const char *text, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(text, ':');
    char *end = NULL;
    long p;

    if (colon == NULL || colon == text || (size_t)(colon - text) >= hostlen)
        return -1;
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (int)p;
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"store", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"token-file", required_argument, NULL, 'k'},
        {"auth-reads", no_argument, NULL, 'r'},
        {"request-timeout", required_argument, NULL, 'o'},
        {"max-connections", required_argument, NULL, 'M'},
        {"max-per-address", required_argument, NULL, 'A'},
        {"max-body", required_argument, NULL, 'B'},
        {"role", required_argument, NULL, 'R'},
        {"launcher", required_argument, NULL, 'L'},
        {"task-definitions", required_argument, NULL, 'T'},
        {"log-dir", required_argument, NULL, 'D'},
        {"log-level", required_argument, NULL, 'V'},
        {"poll-interval", required_argument, NULL, 'P'},
        {"workers", required_argument, NULL, 'W'},
        {"cluster", required_argument, NULL, 'C'},
        {"launch-type", required_argument, NULL, 'Y'},
        {"platform-version", required_argument, NULL, 'F'},
        {"subnets", required_argument, NULL, 'N'},
        {"security-groups", required_argument, NULL, 'G'},
        {"assign-public-ip", required_argument, NULL, 'I'},
        {NULL, 0, NULL, 0},
    };
    const char *listen_text = "127.0.0.1:5000";
    const char *store_spec = NULL;
    const char *token_file = NULL;
    const char *role = "all";
    const char *launcher_name_opt = NULL;
    const char *taskdef_dir = NULL;
    const char *log_dir = NULL;
    char taskdef_default[4096];
    char log_default[4096];
    struct launcher_config lcfg;
    struct launcher *launcher = NULL;
    struct scheduler *sched = NULL;
    struct triggers *triggers = NULL;
    const char *level_text = NULL;
    const char *poll_text = NULL;
    const char *workers_text = NULL;
    int workers = 0;
    struct launch_flags launch_flags;
    json_t *defaults = NULL;
    int poll_ms = 0;
    enum log_level level = LOG_INFO;
    struct logger *log = NULL;
    char token[512];
    char default_spec[4096];
    char host[64];
    struct api_config cfg;
    struct serve_stopper stopper;
    struct store *store = NULL;
    struct api_server *server = NULL;
    sigset_t stop_signals;
    char msg[512];
    int sig = 0;
    int body_max = 0;
    int c;

    memset(&cfg, 0, sizeof(cfg));
    memset(&launch_flags, 0, sizeof(launch_flags));
    memset(&lcfg, 0, sizeof(lcfg));
    opterr = 0;
    for (;;) {
        c = getopt_long(argc, argv, "l:s:t:h", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'l':
            listen_text = optarg;
            break;
        case 's':
            store_spec = optarg;
            break;
        case 't':
            cfg.threads = atoi(optarg);
            if (cfg.threads < 1 || cfg.threads > 256) {
                fprintf(stderr, "ecsched serve: --threads '%s' must be 1 to 256\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'k':
            token_file = optarg;
            break;
        case 'r':
            cfg.auth_reads = 1;
            break;
        case 'R':
            role = optarg;
            break;
        case 'L':
            launcher_name_opt = optarg;
            break;
        case 'T':
            taskdef_dir = optarg;
            break;
        case 'D':
            log_dir = optarg;
            break;
        case 'V':
            level_text = optarg;
            break;
        case 'P':
            poll_text = optarg;
            break;
        case 'W':
            workers_text = optarg;
            break;
        case 'C':
            launch_flags.cluster = optarg;
            break;
        case 'Y':
            launch_flags.launch_type = optarg;
            break;
        case 'F':
            launch_flags.platform_version = optarg;
            break;
        case 'N':
            launch_flags.subnets = optarg;
            break;
        case 'G':
            launch_flags.security_groups = optarg;
            break;
        case 'I':
            launch_flags.assign_public_ip = optarg;
            break;
        case 'o':
            cfg.request_timeout = atoi(optarg);
            if (cfg.request_timeout < 1 || cfg.request_timeout > 3600) {
                fprintf(stderr, "ecsched serve: --request-timeout '%s' must be 1 to 3600 seconds\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'M':
            if (limit_option("--max-connections", optarg, 1, 1000000, &cfg.max_connections) != 0)
                return CLI_EXIT_USAGE;
            break;
        case 'A':
            if (limit_option("--max-per-address", optarg, 1, 1000000, &cfg.max_per_address) != 0)
                return CLI_EXIT_USAGE;
            break;
        case 'B':
            if (limit_option("--max-body", optarg, 1, 1 << 30, &body_max) != 0)
                return CLI_EXIT_USAGE;
            cfg.max_body = (size_t)body_max;
            break;
        case 'h':
            fputs(serve_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fprintf(stderr,
                    "ecsched serve: unknown or incomplete option '%s'; see 'ecsched "
                    "serve --help'\n",
                    argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "ecsched serve: unexpected argument '%s'\n", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (parse_listen(listen_text, host, sizeof(host), &cfg.port) != 0) {
        fprintf(stderr, "ecsched serve: --listen '%s' must be HOST:PORT, e.g. 127.0.0.1:5000\n",
                listen_text);
        return CLI_EXIT_USAGE;
    }
    cfg.host = host;
    if (connection_cap(&cfg.max_connections, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched serve: %s\n", msg);
        return CLI_EXIT_USAGE;
    }
    if (token_file != NULL) {
        if (read_token(token_file, token, sizeof(token)) != 0) {
            fprintf(stderr,
                    "ecsched serve: --token-file '%s': cannot read a token from its "
                    "first line\n",
                    token_file);
            return CLI_EXIT_USAGE;
        }
        cfg.token = token;
    } else if (getenv("ECSCHED_TOKEN") != NULL && getenv("ECSCHED_TOKEN")[0] != '\0') {
        cfg.token = getenv("ECSCHED_TOKEN");
    }
    if (cfg.auth_reads && cfg.token == NULL) {
        fprintf(stderr, "ecsched serve: --auth-reads needs a token (ECSCHED_TOKEN "
                        "or --token-file)\n");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(role, "all") != 0 && strcmp(role, "api") != 0 && strcmp(role, "scheduler") != 0) {
        fprintf(stderr, "ecsched serve: --role '%s' must be all, api or scheduler\n", role);
        return CLI_EXIT_USAGE;
    }
    {
        const char *state = env_or("ECSCHED_STATE_DIR", STATE_DIR_DEFAULT);

        if (store_spec == NULL) {
            snprintf(default_spec, sizeof(default_spec), "sqlite:%s/jobs.db", state);
            store_spec = default_spec;
        }
        snprintf(taskdef_default, sizeof(taskdef_default), "%s/task-definitions", state);
        snprintf(log_default, sizeof(log_default), "%s/logs", state);
    }
    if (launcher_name_opt == NULL)
        launcher_name_opt = env_or("ECSCHED_LAUNCHER", "local");
    if (level_text == NULL)
        level_text = env_or("ECSCHED_LOG_LEVEL", "info");
    if (log_level_parse(level_text, &level) != 0) {
        fprintf(stderr, "ecsched serve: log level '%s' must be debug, info, warn or error\n",
                level_text);
        return CLI_EXIT_USAGE;
    }
    if (poll_text == NULL)
        poll_text = env_or("ECSCHED_POLL_INTERVAL", "5");
    {
        char *end = NULL;
        double secs = strtod(poll_text, &end);

        if (end == poll_text || *end != '\0' || !(secs >= 0.1 && secs <= 3600)) {
            fprintf(stderr, "ecsched serve: poll interval '%s' must be 0.1 to 3600 seconds\n",
                    poll_text);
            return CLI_EXIT_USAGE;
        }
        poll_ms = (int)(secs * 1000);
    }
    if (workers_text == NULL)
        workers_text = env_or("ECSCHED_WORKERS", "8");
    {
        char *end = NULL;
        long n = strtol(workers_text, &end, 10);

        if (end == workers_text || *end != '\0' || n < 1 || n > 256) {
            fprintf(stderr, "ecsched serve: workers '%s' must be a whole number from 1 to 256\n",
                    workers_text);
            return CLI_EXIT_USAGE;
        }
        workers = (int)n;
    }
    if (log_init(&log, stderr, level) != 0) {
        fprintf(stderr, "ecsched serve: out of memory\n");
        return CLI_EXIT_NONE;
    }
    lcfg.task_definition_dir =
        taskdef_dir != NULL ? taskdef_dir : env_or("ECSCHED_TASK_DEFINITIONS", taskdef_default);
    lcfg.log_dir = log_dir != NULL ? log_dir : log_default;
    /* the ECS launcher's defaults; a job's "launch" overrides them */
    if (launch_defaults_build(&launch_flags, &defaults, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched serve: %s\n", msg);
        log_free(&log);
        return CLI_EXIT_USAGE;
    }
    lcfg.defaults = defaults;
    lcfg.log = log;
    /* Block the stop signals before any thread starts, so that only
     * sigwait below sees them. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    if (store_open(store_spec, &store, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "ecsched serve: %s\n", msg);
        log_free(&log);
        return CLI_EXIT_NONE;
    }
    if (strcmp(role, "api") != 0) {
        struct scheduler_config scfg;

        if (launcher_open(launcher_name_opt, &lcfg, &launcher, msg, sizeof(msg)) != 0) {
            fprintf(stderr, "ecsched serve: %s\n", msg);
            store_close(&store);
            log_free(&log);
            return CLI_EXIT_NONE;
        }
        if (triggers_init(log, &triggers, msg, sizeof(msg)) != 0) {
            fprintf(stderr, "ecsched serve: %s\n", msg);
            launcher_close(&launcher);
            store_close(&store);
            log_free(&log);
            return CLI_EXIT_NONE;
        }
        memset(&scfg, 0, sizeof(scfg));
        scfg.triggers = triggers;
        scfg.store = store;
        scfg.launcher = launcher;
        scfg.log = log;
        scfg.poll_ms = poll_ms;
        scfg.workers = workers;
        if (scheduler_start(&scfg, &sched, msg, sizeof(msg)) != 0) {
            fprintf(stderr, "ecsched serve: %s\n", msg);
            triggers_free(&triggers);
            launcher_close(&launcher);
            json_decref(defaults);
            store_close(&store);
            log_free(&log);
            return CLI_EXIT_NONE;
        }
        store_subscribe(store, on_store_change, sched);
        cfg.run_now = serve_run_now;
        cfg.run_now_ctx = sched;
        stopper.launcher = launcher;
        stopper.log = log;
        cfg.stop_task = serve_stop_task;
        cfg.stop_task_ctx = &stopper;
        cfg.before_delete = serve_before_delete;
        cfg.before_delete_ctx = sched;
        cfg.check_overrides = serve_check_overrides;
        cfg.check_overrides_ctx = launcher;
    }
    if (strcmp(role, "scheduler") != 0) {
        if (api_server_start(&cfg, store, &server, msg, sizeof(msg)) != 0) {
            fprintf(stderr, "ecsched serve: %s\n", msg);
            store_subscribe(store, NULL, NULL);
            scheduler_stop(&sched);
            triggers_free(&triggers);
            launcher_close(&launcher);
            json_decref(defaults);
            store_close(&store);
            log_free(&log);
            return CLI_EXIT_NONE;
        }
    }
    {
        char url[128];

        snprintf(url, sizeof(url), "http://%s:%d/", host,
                 server != NULL ? api_server_port(server) : cfg.port);
        log_event(log, LOG_INFO, "serve.started",
                  json_pack("{s:s, s:s, s:s, s:s, s:s}", "role", role, "url",
                            server != NULL ? url : "", "store", store_spec, "launcher",
                            strcmp(role, "api") == 0 ? "" : launcher_name_opt, "auth",
                            cfg.token == NULL ? "none" : (cfg.auth_reads ? "all" : "writes")));
    }
    sigwait(&stop_signals, &sig);
    log_event(log, LOG_INFO, "serve.stopping",
              json_pack("{s:s}", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM"));
    api_server_stop(&server);
    store_subscribe(store, NULL, NULL);
    scheduler_stop(&sched);
    triggers_free(&triggers);
    launcher_close(&launcher);
    store_close(&store);
    log_event(log, LOG_INFO, "serve.stopped", NULL);
    log_free(&log);
    json_decref(defaults);
    return CLI_EXIT_OK;
}
