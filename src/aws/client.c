/* client.c - one signed JSON 1.1 POST per attempt. Credentials come from
 * the provider on every call, so refreshed temporary credentials are used
 * as soon as they exist. */
#include "aws/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/creds.h"
#include "core/clock.h"
#include "core/error.h"

#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 5000
#define ATTEMPT_TIMEOUT_MS 10000
#define REPLY_MAX (8 * 1024 * 1024)

struct aws_client {
    char service[16];
    char prefix[64];
    char content_type[64];
    char region[64];
    char endpoint[512];
    struct aws_provider *creds;
    struct logger *log;
    _Atomic int64_t cancel_ms; /* 0, or when every call must have given up */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int aws_retryable(long status, const char *type)
{
    static const char *const throttles[] = {"ThrottlingException",  "ThrottledException",
                                            "RequestLimitExceeded", "TooManyRequestsException",
                                            "ServerException",      "ServiceUnavailable"};
    size_t i;

    if (status == 429 || status >= 500 || status == 0)
        return 1;
    for (i = 0; type != NULL && i < sizeof(throttles) / sizeof(throttles[0]); i++) {
        if (strcmp(type, throttles[i]) == 0)
            return 1;
    }
    return 0;
}

int aws_client_init(const char *service, const char *prefix, const char *json_version,
                    struct logger *log, struct aws_client **out, char *msg, size_t msglen)
{
    struct aws_client *c = calloc(1, sizeof(*c));
    int rc;

    *out = NULL;
    if (c == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    pthread_once(&curl_once, curl_start);
    snprintf(c->service, sizeof(c->service), "%s", service);
    snprintf(c->prefix, sizeof(c->prefix), "%s", prefix);
    snprintf(c->content_type, sizeof(c->content_type), "Content-Type: application/x-amz-json-%s",
             json_version);
    c->log = log;
    rc = aws_region(c->region, sizeof(c->region), msg, msglen);
    if (rc == 0)
        rc = aws_provider_init(&c->creds, msg, msglen);
    if (rc != 0) {
        free(c);
        return rc;
    }
    aws_endpoint(service, c->region, c->endpoint, sizeof(c->endpoint));
    *out = c;
    return 0;
}

void aws_client_free(struct aws_client **c)
{
    if (c == NULL || *c == NULL)
        return;
    aws_provider_free(&(*c)->creds);
    free(*c);
    *c = NULL;
}

void aws_client_cancel(struct aws_client *c, int64_t deadline_ms)
{
    if (c != NULL)
        atomic_store(&c->cancel_ms, deadline_ms);
}

/* The earlier of a call's own deadline and the shutdown one. */
static int64_t effective_deadline(struct aws_client *c, int64_t deadline_ms)
{
    int64_t cancel = atomic_load(&c->cancel_ms);

    if (cancel != 0 && cancel < deadline_ms)
        return cancel;
    return deadline_ms;
}

/* curl's progress callback: abort a transfer once a shutdown deadline
 * passed, so a stuck endpoint cannot hold the daemon's stop up. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct aws_client *c = userdata;
    int64_t cancel = atomic_load(&c->cancel_ms);

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return cancel != 0 && clock_wall_ms() >= cancel;
}

struct reply {
    char *data;
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct reply *r = userdata;
    size_t n = size * nmemb;
    char *grown;

    if (r->len + n > REPLY_MAX)
        return 0;
    grown = realloc(r->data, r->len + n + 1);
    if (grown == NULL)
        return 0;
    r->data = grown;
    memcpy(r->data + r->len, ptr, n);
    r->len += n;
    r->data[r->len] = '\0';
    return n;
}

/* What one signed request sends. */
struct http_req {
    const char *method;       /* NULL: POST */
    const char *url;          /* NULL: the service's endpoint */
    const char *target;       /* X-Amz-Target, or NULL */
    const char *content_type; /* a whole "Content-Type: ..." header, or NULL */
    const char *body;         /* NULL: none */
    const char *what;         /* for messages: the operation */
    /* how long the service may hold the answer back on purpose (an SQS
     * long poll), added to the attempt's timeout */
    int64_t hold_ms;
};

/* One signed HTTP exchange: 0 with r (the body) and *status, or
 * ECS_EUNAVAILABLE when no answer came (credentials, network). */
static int perform(struct aws_client *c, const struct http_req *rq, int64_t deadline_ms,
                   struct reply *r, long *status, char *msg, size_t msglen)
{
    int64_t timeout_ms = deadline_ms - clock_wall_ms();
    struct aws_creds cr;
    struct curl_slist *headers = NULL;
    char header[2200];
    char sigv4[128];
    char user[300];
    CURL *h;
    CURLcode cc;
    int rc;

    *status = 0;
    rc = aws_provider_get(c->creds, &cr, msg, msglen);
    if (rc != 0)
        return rc;
    h = curl_easy_init();
    if (h == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    if (rq->target != NULL) {
        snprintf(header, sizeof(header), "X-Amz-Target: %s.%s", c->prefix, rq->target);
        headers = curl_slist_append(headers, header);
    }
    if (rq->content_type != NULL)
        headers = curl_slist_append(headers, rq->content_type);
    /* S3 wants the payload's hash signed; over TLS it takes this instead,
     * and libcurl then signs the header as given */
    if (strcmp(c->service, "s3") == 0)
        headers = curl_slist_append(headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (cr.token[0] != '\0') {
        snprintf(header, sizeof(header), "X-Amz-Security-Token: %s", cr.token);
        headers = curl_slist_append(headers, header);
    }
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:%s", c->region, c->service);
    snprintf(user, sizeof(user), "%s:%s", cr.key, cr.secret);
    curl_easy_setopt(h, CURLOPT_URL, rq->url != NULL ? rq->url : c->endpoint);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(h, CURLOPT_USERPWD, user);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (rq->body != NULL)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
    if (rq->method != NULL)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    if (rq->method != NULL && strcmp(rq->method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    /* an attempt that gave up on a long poll the service still held
     * would leave a message it handed that poll invisible for the queue's
     * whole VisibilityTimeout */
    if (timeout_ms > ATTEMPT_TIMEOUT_MS + rq->hold_ms)
        timeout_ms = ATTEMPT_TIMEOUT_MS + rq->hold_ms;
    if (timeout_ms < 1)
        timeout_ms = 1;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cc = curl_easy_perform(h);
    memset(user, 0, sizeof(user));
    memset(&cr, 0, sizeof(cr));
    if (cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    if (cc != CURLE_OK) {
        free(r->data);
        r->data = NULL;
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen, "%s %s: %s (%s)", c->service, rq->what,
                        curl_easy_strerror(cc), rq->url != NULL ? rq->url : c->endpoint);
    }
    return 0;
}

/* An XML error body's <Code> and <Message> (S3, and signature errors of
 * every service). */
static void xml_error(const char *text, char *type, size_t typelen, char *message, size_t len)
{
    const char *code = text != NULL ? strstr(text, "<Code>") : NULL;
    const char *xm = text != NULL ? strstr(text, "<Message>") : NULL;
    const char *end;

    if (code != NULL) {
        code += 6;
        end = strstr(code, "</Code>");
        snprintf(type, typelen, "%.*s", end != NULL ? (int)(end - code) : 0, code);
    }
    if (xm != NULL) {
        xm += 9;
        end = strstr(xm, "</Message>");
        snprintf(message, len, "%.*s", end != NULL ? (int)(end - xm) : 0, xm);
    }
}

/* One attempt: 0 with *reply, or an error with *status (0: no answer)
 * and the AWS error type in type. */
static int attempt(struct aws_client *c, const char *operation, const char *payload,
                   int64_t deadline_ms, int64_t hold_ms, json_t **reply, long *status, char *type,
                   size_t typelen, char *msg, size_t msglen)
{
    struct http_req rq = {NULL, NULL, operation, c->content_type, payload, operation, hold_ms};
    struct reply r = {NULL, 0};
    json_error_t err;
    json_t *j = NULL;
    int rc;

    type[0] = '\0';
    rc = perform(c, &rq, deadline_ms, &r, status, msg, msglen);
    if (rc != 0)
        return rc;
    if (r.data != NULL)
        j = json_loads(r.data, 0, &err);
    if (*status == 200 && j != NULL) {
        free(r.data);
        *reply = j;
        return 0;
    }
    {
        const char *t = json_string_value(json_object_get(j, "__type"));
        const char *m = json_string_value(json_object_get(j, "message"));
        const char *hash = t != NULL ? strrchr(t, '#') : NULL;
        char xml_message[512];

        xml_message[0] = '\0';
        if (m == NULL)
            m = json_string_value(json_object_get(j, "Message"));
        snprintf(type, typelen, "%s", hash != NULL ? hash + 1 : (t != NULL ? t : ""));
        if (type[0] == '\0') {
            /* some errors (a bad signature) come back as XML */
            xml_error(r.data, type, typelen, xml_message, sizeof(xml_message));
            if (m == NULL && xml_message[0] != '\0')
                m = xml_message;
        }
        ecs_fail(ECS_EINVAL, msg, msglen, "%s %s: HTTP %ld %s: %s", c->service, operation, *status,
                 type[0] != '\0' ? type : "error", m != NULL ? m : "(no message)");
    }
    json_decref(j);
    free(r.data);
    return ECS_EINVAL;
}

int aws_rest(struct aws_client *c, const char *method, const char *url, const char *body,
             char **reply, int64_t deadline_ms, char *msg, size_t msglen)
{
    struct http_req rq = {
        method, url, NULL, body != NULL ? "Content-Type: application/xml" : NULL, body, method, 0};
    struct reply r = {NULL, 0};
    long status = 0;
    char type[128];
    char message[512];
    int rc;

    *reply = NULL;
    rc = perform(c, &rq, deadline_ms, &r, &status, msg, msglen);
    if (rc != 0)
        return rc;
    if (status >= 200 && status < 300) {
        *reply = r.data != NULL ? r.data : strdup("");
        return *reply != NULL ? 0 : ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    }
    type[0] = '\0';
    message[0] = '\0';
    xml_error(r.data, type, sizeof(type), message, sizeof(message));
    free(r.data);
    return ecs_fail(ECS_EINVAL, msg, msglen, "%s %s %s: HTTP %ld %s: %s", c->service, method, url,
                    status, type[0] != '\0' ? type : "error",
                    message[0] != '\0' ? message : "(no message)");
}

const char *aws_client_endpoint(const struct aws_client *c)
{
    return c->endpoint;
}

const char *aws_client_region(const struct aws_client *c)
{
    return c->region;
}

int aws_call(struct aws_client *c, const char *operation, const json_t *body, json_t **reply,
             int64_t deadline_ms, char *msg, size_t msglen)
{
    return aws_call_held(c, operation, body, reply, deadline_ms, 0, msg, msglen);
}

int aws_call_held(struct aws_client *c, const char *operation, const json_t *body, json_t **reply,
                  int64_t deadline_ms, int64_t hold_ms, char *msg, size_t msglen)
{
    char *payload = json_dumps(body, JSON_COMPACT);
    unsigned int seed = (unsigned int)clock_wall_ms() ^ (unsigned int)(uintptr_t)&payload;
    int n;
    int rc = ECS_ENOMEM;

    *reply = NULL;
    if (payload == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory");
    for (n = 0;; n++) {
        long status = 0;
        char type[128];
        int64_t cap;
        int64_t wait;

        int64_t until = effective_deadline(c, deadline_ms);

        rc = attempt(c, operation, payload, until, hold_ms, reply, &status, type, sizeof(type), msg,
                     msglen);
        if (rc == 0 || rc == ECS_ENOMEM)
            break;
        if (rc == ECS_EUNAVAILABLE && status == 0 && strstr(msg, "no AWS credentials") != NULL)
            break;
        if (!aws_retryable(status, type))
            break;
        /* full jitter: a random wait up to the exponential bound */
        cap = (int64_t)BACKOFF_BASE_MS << (n < 10 ? n : 10);
        if (cap > BACKOFF_CAP_MS)
            cap = BACKOFF_CAP_MS;
        wait = (int64_t)(rand_r(&seed) % (unsigned int)(cap + 1));
        if (clock_wall_ms() + wait >= effective_deadline(c, deadline_ms)) {
            char last[400];

            snprintf(last, sizeof(last), "%s", msg);
            ecs_fail(ECS_EUNAVAILABLE, msg, msglen, "%s (gave up after %d attempts)", last, n + 1);
            rc = ECS_EUNAVAILABLE;
            break;
        }
        log_event(c->log, LOG_WARN, "aws.retry",
                  json_pack("{s:s, s:s, s:i, s:I, s:s}", "service", c->service, "operation",
                            operation, "attempt", n + 1, "waitMs", (json_int_t)wait, "error", msg));
        usleep((useconds_t)wait * 1000);
    }
    free(payload);
    return rc;
}
