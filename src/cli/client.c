/* client.c - JSON over HTTP to an ecsched server for the CLI commands,
 * on libcurl (the AWS client's transport too) and jansson. Everything is
 * synchronous: the CLI makes one request at a time. */
#include "cli/client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "cli/jsonref.h"
#include "core/error.h"

#define CONNECT_TIMEOUT_S 10L
#define REQUEST_TIMEOUT_S 60L
#define PAGE_SIZE 500
#define BODY_MAX (64u * 1024u * 1024u)

/* Fields shown first, in this order; the rest follow as sent. */
static const char *const field_order[] = {
    "id",
    "taskDefinition",
    "schedule",
    "timezone",
    "scheduleStart",
    "scheduleEnd",
    "taskCount",
    "maxCount",
    "suspended",
    "missedRuns",
    "startingDeadlineSeconds",
    "runHistoryLimit",
    "trigger",
    "overrides",
    "launch",
    NULL,
};

static const char *const read_only_fields[] = {
    "link", "estimatedNextRun", "lastRun", "lastRunTasks", "latestRun", "nextRuns", NULL};

int client_field_read_only(const char *name)
{
    size_t i;

    for (i = 0; read_only_fields[i] != NULL; i++) {
        if (strcmp(read_only_fields[i], name) == 0)
            return 1;
    }
    return 0;
}

int client_init(struct client *c, const char *server, char *msg, size_t msglen)
{
    const char *token = getenv("ECSCHED_TOKEN");
    const char *scheme = "";
    size_t n;

    if (server == NULL || server[0] == '\0')
        server = getenv("ECSCHED_SERVER");
    if (server == NULL || server[0] == '\0')
        server = CLIENT_DEFAULT_SERVER;
    /* "localhost:5000" is what people type; curl would guess, we say so */
    if (strstr(server, "://") == NULL)
        scheme = "http://";
    if (strncmp(server, "http://", 7) != 0 && strncmp(server, "https://", 8) != 0 &&
        scheme[0] == '\0')
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "server URL '%s' must start with http:// or https://", server);
    n = (size_t)snprintf(c->base, sizeof(c->base), "%s%s", scheme, server);
    if (n >= sizeof(c->base))
        return ecs_fail(ECS_EINVAL, msg, msglen, "server URL is too long");
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    c->auth[0] = '\0';
    if (token != NULL && token[0] != '\0') {
        n = (size_t)snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", token);
        if (n >= sizeof(c->auth))
            return ecs_fail(ECS_EINVAL, msg, msglen, "ECSCHED_TOKEN is too long");
    }
    /* the CLI is single-threaded; curl counts init/cleanup pairs */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

/* The answer's body collects in a memory stream that curl's default
 * write function fills. */
int client_call(const struct client *c, const char *method, const char *path, const json_t *body,
                struct client_reply *out, char *msg, size_t msglen)
{
    struct curl_slist *headers = NULL;
    char url[2048];
    char err[CURL_ERROR_SIZE];
    char *payload = NULL;
    FILE *sink;
    CURL *h;
    CURLcode cc;
    json_error_t jerr;

    memset(out, 0, sizeof(*out));
    if ((size_t)snprintf(url, sizeof(url), "%s%s", c->base, path) >= sizeof(url))
        return ecs_fail(ECS_EINVAL, msg, msglen, "request URL is too long");
    if (body != NULL) {
        payload = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        if (payload == NULL)
            return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
        headers = curl_slist_append(headers, "Content-Type: application/json");
    }
    headers = curl_slist_append(headers, "Accept: application/json");
    if (c->auth[0] != '\0')
        headers = curl_slist_append(headers, c->auth);
    sink = open_memstream(&out->raw, &out->raw_len);
    h = sink != NULL ? curl_easy_init() : NULL;
    if (h == NULL) {
        if (sink != NULL)
            fclose(sink);
        client_reply_clear(out);
        free(payload);
        curl_slist_free_all(headers);
        return ecs_fail(ECS_ENOMEM, msg, msglen, "cannot start an HTTP client");
    }
    err[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (payload != NULL)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)BODY_MAX);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cc = curl_easy_perform(h);
    if (cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    free(payload);
    if (fclose(sink) != 0 && cc == CURLE_OK)
        cc = CURLE_OUT_OF_MEMORY;
    if (cc != CURLE_OK) {
        client_reply_clear(out);
        if (cc == CURLE_FILESIZE_EXCEEDED || cc == CURLE_OUT_OF_MEMORY)
            return ecs_fail(ECS_EIO, msg, msglen,
                            "the answer from %s is over %u MiB or out of memory", c->base,
                            BODY_MAX >> 20);
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen,
                        "cannot reach the ecsched server at %s (%s); is 'ecsched serve' running "
                        "there? Point --server URL or ECSCHED_SERVER at it",
                        c->base, err[0] != '\0' ? err : curl_easy_strerror(cc));
    }
    if (out->raw_len > 0)
        out->body = json_loadb(out->raw, out->raw_len, JSON_DECODE_ANY, &jerr);
    return 0;
}

void client_reply_clear(struct client_reply *r)
{
    json_drop(&r->body);
    free(r->raw);
    r->raw = NULL;
    r->raw_len = 0;
}

int client_job_path(char *buf, size_t len, const char *id, const char *suffix)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    const unsigned char *p;
    int n;

    n = snprintf(buf, len, "/jobs/");
    if (n < 0 || (size_t)n >= len)
        return ECS_ERANGE;
    o = (size_t)n;
    for (p = (const unsigned char *)id; *p != '\0'; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~';

        if (o + 4 >= len)
            return ECS_ERANGE;
        if (plain) {
            buf[o++] = (char)*p;
            continue;
        }
        buf[o++] = '%';
        buf[o++] = hex[*p >> 4];
        buf[o++] = hex[*p & 15];
    }
    buf[o] = '\0';
    n = snprintf(buf + o, len - o, "%s", suffix != NULL ? suffix : "");
    if (n < 0 || (size_t)n >= len - o)
        return ECS_ERANGE;
    return 0;
}

/* Walk a messages tree: lists hold texts, objects nest by field name. */
static size_t walk_messages(const json_t *node, char *path, size_t plen, size_t cap,
                            client_message_fn fn, void *ctx)
{
    size_t count = 0;
    const char *key;
    const json_t *v;
    size_t i;

    if (json_is_string(node)) {
        fn(ctx, path, json_string_value(node));
        return 1;
    }
    if (json_is_array(node)) {
        json_array_foreach(node, i, v) {
            count += walk_messages(v, path, plen, cap, fn, ctx);
        }
        return count;
    }
    json_object_foreach((json_t *)node, key, v) {
        int n = snprintf(path + plen, cap - plen, "%s%s", plen > 0 ? "." : "", key);

        if (n < 0 || (size_t)n >= cap - plen)
            continue;
        count += walk_messages(v, path, plen + (size_t)n, cap, fn, ctx);
        path[plen] = '\0';
    }
    return count;
}

size_t client_each_message(const json_t *body, client_message_fn fn, void *ctx)
{
    char path[512];
    const json_t *messages = json_object_get(body, "messages");

    path[0] = '\0';
    if (!json_is_object(messages))
        return 0;
    return walk_messages(messages, path, 0, sizeof(path), fn, ctx);
}

struct joined {
    char *buf;
    size_t len;
    size_t used;
};

static void join_message(void *ctx, const char *path, const char *text)
{
    struct joined *j = ctx;
    int n;

    if (j->used >= j->len)
        return;
    n = snprintf(j->buf + j->used, j->len - j->used, "%s%s%s%s", j->used > 0 ? "; " : "", path,
                 path[0] != '\0' ? ": " : "", text);
    if (n > 0)
        j->used += (size_t)n;
}

void client_reply_text(const struct client_reply *r, char *buf, size_t len)
{
    const char *message = json_string_value(json_object_get(r->body, "message"));
    const char *detail = json_string_value(json_object_get(r->body, "detail"));
    struct joined j = {buf, len, 0};

    if (len == 0)
        return;
    buf[0] = '\0';
    if (client_each_message(r->body, join_message, &j) > 0)
        return;
    if (message != NULL && detail != NULL)
        snprintf(buf, len, "%s (%s)", message, detail);
    else if (message != NULL)
        snprintf(buf, len, "%s", message);
    else
        snprintf(buf, len, "the server answered HTTP %ld%s%.200s", r->status,
                 r->raw_len > 0 ? ": " : "", r->raw != NULL ? r->raw : "");
    if (r->status == 401) {
        size_t used = strlen(buf);

        snprintf(buf + used, len - used, " (set ECSCHED_TOKEN to the server's token)");
    }
}

static void print_message(void *ctx, const char *path, const char *text)
{
    (void)ctx;
    if (path[0] != '\0')
        fprintf(stderr, "  %s: %s\n", path, text);
    else
        fprintf(stderr, "  %s\n", text);
}

void client_print_failure(const char *who, const struct client_reply *r)
{
    char text[2048];

    if (r->status == 400 && json_is_object(json_object_get(r->body, "messages"))) {
        fprintf(stderr, "%s: the server rejected the request:\n", who);
        client_each_message(r->body, print_message, NULL);
        return;
    }
    client_reply_text(r, text, sizeof(text));
    fprintf(stderr, "%s: %s\n", who, text);
}

int client_exit_status(const struct client_reply *r)
{
    return r->status == 400 ? 2 : 1;
}

/* The next page's path from a list answer's "next" link, or NULL. */
static const char *next_page(const json_t *body)
{
    const char *next = json_string_value(json_object_get(body, "next"));

    return next != NULL && next[0] == '/' ? next : NULL;
}

int client_get_jobs(const struct client *c, json_t **jobs, char *msg, size_t msglen)
{
    char path[1024];
    json_t *all = json_array();
    int rc;

    if (all == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    snprintf(path, sizeof(path), "/jobs?count=%d", PAGE_SIZE);
    for (;;) {
        struct client_reply r;
        const json_t *page;
        const char *next;

        rc = client_call(c, "GET", path, NULL, &r, msg, msglen);
        if (rc != 0)
            break;
        page = json_object_get(r.body, "jobs");
        if (r.status != 200 || !json_is_array(page)) {
            client_reply_text(&r, msg, msglen);
            client_reply_clear(&r);
            rc = ECS_EINVAL;
            break;
        }
        json_array_extend(all, (json_t *)page);
        next = next_page(r.body);
        if (next == NULL || json_array_size(page) == 0) {
            client_reply_clear(&r);
            *jobs = all;
            return 0;
        }
        snprintf(path, sizeof(path), "%s", next);
        client_reply_clear(&r);
    }
    json_decref(all);
    return rc;
}

/* A new object with obj's members, the keys named in first (in that
 * order) ahead of the rest; the values are shared. */
static json_t *keys_first(const json_t *obj, const char *const *first)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    size_t i;

    for (i = 0; out != NULL && first[i] != NULL; i++) {
        v = json_object_get(obj, first[i]);
        if (v != NULL)
            json_object_set(out, first[i], v);
    }
    json_object_foreach((json_t *)obj, key, v) {
        if (out != NULL && json_object_get(out, key) == NULL)
            json_object_set(out, key, v);
    }
    return out;
}

json_t *client_job_ordered(const json_t *api_job, int with_read_only)
{
    static const char *const trigger_order[] = {"type", NULL};
    static const char *const override_order[] = {"containerName", NULL};
    json_t *out = keys_first(api_job, field_order);
    const json_t *overrides = json_object_get(api_job, "overrides");
    const json_t *item;
    size_t i;

    if (out == NULL)
        return NULL;
    for (i = 0; read_only_fields[i] != NULL; i++) {
        if (!with_read_only || strcmp(read_only_fields[i], "link") == 0)
            json_object_del(out, read_only_fields[i]);
    }
    /* nested objects read best with what names them first */
    if (json_is_object(json_object_get(out, "trigger")))
        json_object_set_new(out, "trigger",
                            keys_first(json_object_get(out, "trigger"), trigger_order));
    if (json_is_array(overrides)) {
        json_t *list = json_array();

        json_array_foreach(overrides, i, item) {
            json_array_append_new(list, json_is_object(item) ? keys_first(item, override_order)
                                                             : json_incref((json_t *)item));
        }
        json_object_set_new(out, "overrides", list);
    }
    return out;
}
