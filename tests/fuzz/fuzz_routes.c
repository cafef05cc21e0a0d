/* fuzz_routes.c - libFuzzer target for the HTTP route dispatch: each input
 * is built into a request (method, path, query, headers, body) and handed
 * to routes_dispatch on a fresh memory store with a fake launcher, as the
 * server would after the door has judged the head. Whatever it is, the
 * answer must have a status from 200 to 599, and an error must carry a
 * JSON body.
 *
 * Input: a flags byte (bit 0: a token is configured, bit 1: reads need it
 * too), then lines: method, path, query ("k=v&k=v"), header lines up to
 * an empty line (Content-Type, Authorization), and the rest is the body.
 * Run: make fuzz FUZZ_TARGETS=routes (see tests/fuzz/README.md). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "core/tz_cache.h"
#include "launch/launcher.h"
#include "store/store.h"

#define QUERY_MAX 8

struct query {
    char *names[QUERY_MAX];
    char *values[QUERY_MAX];
    size_t n;
};

static const char *query_value(void *ctx, const char *name)
{
    struct query *q = ctx;
    size_t i;

    for (i = 0; i < q->n; i++) {
        if (strcmp(q->names[i], name) == 0)
            return q->values[i];
    }
    return NULL;
}

/* "k=v&k2=v2" in place; a name without '=' has the value "". */
static void query_parse(char *text, struct query *q)
{
    char *save = NULL;
    char *pair;

    q->n = 0;
    for (pair = strtok_r(text, "&", &save); pair != NULL && q->n < QUERY_MAX;
         pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');

        if (eq != NULL)
            *eq = '\0';
        q->names[q->n] = pair;
        q->values[q->n] = eq != NULL ? eq + 1 : pair + strlen(pair);
        q->n++;
    }
}

/* The next line of buf[*pos..n), NUL-terminated in place (a NUL inside
 * ends it early, as a C string would). */
static char *next_line(char *buf, size_t n, size_t *pos)
{
    char *start = buf + *pos;
    char *nl = memchr(start, '\n', n - *pos);

    if (nl == NULL) {
        *pos = n;
        return start;
    }
    *nl = '\0';
    *pos = (size_t)(nl - buf) + 1;
    return start;
}

static int stop_task(void *ctx, const char *job_id, const char *arn, const char *reason)
{
    char msg[256];

    (void)job_id;
    return launcher_stop_task(ctx, arn, reason, msg, sizeof(msg));
}

static struct tz_cache *zones;
static struct launcher *fake;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_ctx ctx;
    struct api_request rq;
    struct api_response rs;
    struct launcher_config lcfg;
    struct query q;
    struct store *store = NULL;
    char *buf;
    char msg[256];
    size_t pos = 1;
    char *line;

    if (size < 1)
        return 0;
    if (zones == NULL && tz_cache_init(&zones) != 0)
        abort();
    memset(&lcfg, 0, sizeof(lcfg));
    if (fake == NULL && launcher_open("fake", &lcfg, &fake, msg, sizeof(msg)) != 0)
        abort();
    if (store_open("memory:", &store, msg, sizeof(msg)) != 0)
        abort();
    /* one byte more, so the body is NUL-terminated as the server's is */
    buf = calloc(1, size + 1);
    if (buf == NULL)
        abort();
    memcpy(buf, data, size);
    memset(&ctx, 0, sizeof(ctx));
    ctx.store = store;
    ctx.zones = zones;
    ctx.token = (data[0] & 1) ? "tok" : NULL;
    ctx.auth_reads = (data[0] & 2) != 0;
    ctx.stop_task = stop_task;
    ctx.stop_task_ctx = fake;
    memset(&rq, 0, sizeof(rq));
    rq.method = next_line(buf, size, &pos);
    rq.path = next_line(buf, size, &pos);
    query_parse(next_line(buf, size, &pos), &q);
    rq.query_value = query_value;
    rq.query_ctx = &q;
    while (pos < size && (line = next_line(buf, size, &pos))[0] != '\0') {
        if (strncmp(line, "Content-Type: ", 14) == 0)
            rq.content_type = line + 14;
        else if (strncmp(line, "Authorization: ", 15) == 0)
            rq.authorization = line + 15;
    }
    rq.body = buf + pos;
    rq.body_len = size - pos;
    memset(&rs, 0, sizeof(rs));
    routes_dispatch(&ctx, &rq, &rs);
    if (rs.status < 200 || rs.status > 599 || (rs.status >= 400 && rs.body == NULL)) {
        fprintf(stderr, "status %d, body %s\n", rs.status, rs.body != NULL ? "set" : "none");
        abort();
    }
    json_decref(rs.body);
    store_close(&store);
    free(buf);
    return 0;
}
