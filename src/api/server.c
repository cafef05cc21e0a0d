/* server.c - libmicrohttpd glue: connections come from the HTTP door
 * (api/door.c), which has judged each request head already; collect the
 * body (capped, within a deadline), route it through the one table in
 * routes.c, and send the JSON answer with a strong ETag, honouring
 * If-None-Match, and Connection: close, so that MHD never reads a second
 * request the door has not judged. Nothing it sends is HTML. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/door.h"
#include "api/routes.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/tz_cache.h"

#define BODY_MAX_DEFAULT (1024 * 1024)
#define REQUEST_TIMEOUT_S 10
#define PER_ADDRESS_DEFAULT 64
#define MAX_CONNECTIONS_DEFAULT 4096
#define HEAD_MAX 16384
#define TARGET_MAX 8192
#define HEADERS_MAX 100
#define LINGER_MS 2000
/* MHD's per-connection buffer: well above the largest head the door
 * lets through, so MHD never answers 431 (in HTML) itself */
#define MHD_MEMORY_LIMIT (128 * 1024)

struct api_server {
    struct MHD_Daemon *mhd;
    struct door *door;
    struct api_ctx ctx;
    size_t body_max;
    int64_t body_timeout_ms;
    int port;
};

/* One request being received. */
struct conn_state {
    char *body;
    size_t len;
    size_t cap;
    int too_large;
    int64_t deadline; /* the body must have arrived by then */
};

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Does an If-None-Match header name this ETag (or "*")? */
static int etag_matches(const char *header, const char *etag)
{
    const char *p = header;
    size_t n = strlen(etag);

    if (header == NULL)
        return 0;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0)
            return 1;
        while (*p != '\0' && *p != ',')
            p++;
    }
    return 0;
}

static enum MHD_Result send_json(struct MHD_Connection *c, struct api_response *rs)
{
    struct MHD_Response *r;
    char *text = NULL;
    size_t len = 0;
    char etag[24];
    enum MHD_Result ret;
    int status = rs->status;

    if (rs->body != NULL) {
        /* 15 significant digits: a duration of 0.591 s reads 0.591, not
         * the 17 digits of its binary neighbour, 0.59099999999999997 */
        char *dumped =
            json_dumps(rs->body, JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));

        if (dumped != NULL) {
            len = strlen(dumped);
            text = malloc(len + 2);
            if (text != NULL) {
                memcpy(text, dumped, len);
                text[len++] = '\n';
                text[len] = '\0';
            }
            free(dumped);
        }
        if (text == NULL) {
            status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            text = strdup("{\"message\": \"Out of memory.\"}\n");
            len = text != NULL ? strlen(text) : 0;
        }
    }
    snprintf(etag, sizeof(etag), "\"%016llx\"", (unsigned long long)fnv1a(text ? text : "", len));
    if (status == MHD_HTTP_OK &&
        etag_matches(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match"), etag)) {
        status = MHD_HTTP_NOT_MODIFIED;
        len = 0;
    }
    r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_COPY);
    free(text);
    if (r == NULL)
        return MHD_NO;
    if (rs->body != NULL)
        MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "ETag", etag);
    if (rs->location[0] != '\0')
        MHD_add_response_header(r, "Location", rs->location);
    if (rs->allow[0] != '\0')
        MHD_add_response_header(r, "Allow", rs->allow);
    if (rs->challenge)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"ecsched\"");
    MHD_add_response_header(r, "Connection", "close");
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* routes.c reads query parameters through this. */
static const char *query_value(void *query_ctx, const char *name)
{
    return MHD_lookup_connection_value(query_ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* Keep a body chunk, up to the body limit. 0, or -1 out of memory. */
static int keep_chunk(struct conn_state *st, const char *data, size_t n, size_t max)
{
    if (st->too_large || st->len + n > max) {
        st->too_large = 1;
        return 0;
    }
    if (st->len + n + 1 > st->cap) {
        size_t ncap = (st->len + n + 1) * 2;
        char *nb;

        if (ncap > max + 1)
            ncap = max + 1;
        nb = realloc(st->body, ncap);
        if (nb == NULL)
            return -1;
        st->body = nb;
        st->cap = ncap;
    }
    memcpy(st->body + st->len, data, n);
    st->len += n;
    st->body[st->len] = '\0';
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct api_server *srv = cls;
    struct conn_state *st = *con_cls;
    struct api_request rq;
    struct api_response rs;
    enum MHD_Result ret;

    (void)version;
    if (st == NULL) {
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return MHD_NO;
        st->deadline = clock_mono_ms() + srv->body_timeout_ms;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        /* a body trickled past the deadline: MHD can queue no answer
         * while a body is still arriving, so the connection is closed */
        if (clock_mono_ms() > st->deadline)
            return MHD_NO;
        if (keep_chunk(st, upload_data, *upload_size, srv->body_max) != 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    memset(&rs, 0, sizeof(rs));
    if (st->too_large) {
        char text[120];

        snprintf(text, sizeof(text), "The request body is larger than %zu bytes.", srv->body_max);
        rs.status = MHD_HTTP_CONTENT_TOO_LARGE;
        rs.body = json_pack("{s:s}", "message", text);
    } else {
        memset(&rq, 0, sizeof(rq));
        rq.query_value = query_value;
        rq.query_ctx = c;
        rq.method = method;
        rq.path = url;
        rq.body = st->body != NULL ? st->body : "";
        rq.body_len = st->len;
        rq.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        rq.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        routes_dispatch(&srv->ctx, &rq, &rs);
    }
    ret = send_json(c, &rs);
    json_decref(rs.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_state *st = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (st != NULL) {
        free(st->body);
        free(st);
    }
    *con_cls = NULL;
}

/* A connection the door has judged: MHD takes it from here. */
static int door_hand_off(void *ctx, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct api_server *srv = ctx;

    return MHD_add_connection(srv->mhd, fd, addr, len) == MHD_YES ? 0 : -1;
}

/* MHD closed a connection: the door's counts go down. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct api_server *srv = cls;
    const union MHD_ConnectionInfo *info;

    (void)socket_context;
    if (toe != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info != NULL)
        door_release(srv->door, info->client_addr);
}

static int positive_or(int v, int fallback)
{
    return v > 0 ? v : fallback;
}

static int start_door(const struct api_config *cfg, struct api_server *srv, char *msg,
                      size_t msglen)
{
    struct door_config dc;

    memset(&dc, 0, sizeof(dc));
    dc.host = cfg->host;
    dc.port = cfg->port;
    dc.limits.head_max = HEAD_MAX;
    dc.limits.target_max = TARGET_MAX;
    dc.limits.headers_max = HEADERS_MAX;
    dc.limits.body_max = (long long)srv->body_max;
    dc.head_timeout_ms = (int)srv->body_timeout_ms;
    dc.linger_ms = LINGER_MS;
    dc.per_address = positive_or(cfg->max_per_address, PER_ADDRESS_DEFAULT);
    dc.max_connections = positive_or(cfg->max_connections, MAX_CONNECTIONS_DEFAULT);
    dc.hand_off = door_hand_off;
    dc.hand_off_ctx = srv;
    dc.now_ms = clock_mono_ms;
    return door_start(&dc, &srv->door, msg, msglen);
}

int api_server_start(const struct api_config *cfg, struct store *store, struct api_server **out,
                     char *msg, size_t msglen)
{
    struct api_server *srv;
    int timeout_s = positive_or(cfg->request_timeout, REQUEST_TIMEOUT_S);
    int rc;

    *out = NULL;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory starting the server");
    if (tz_cache_init(&srv->ctx.zones) != 0) {
        free(srv);
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory starting the server");
    }
    srv->ctx.store = store;
    srv->ctx.token = cfg->token;
    srv->ctx.auth_reads = cfg->auth_reads;
    srv->ctx.run_now = cfg->run_now;
    srv->ctx.run_now_ctx = cfg->run_now_ctx;
    srv->ctx.check_overrides = cfg->check_overrides;
    srv->ctx.check_overrides_ctx = cfg->check_overrides_ctx;
    srv->ctx.stop_task = cfg->stop_task;
    srv->ctx.stop_task_ctx = cfg->stop_task_ctx;
    srv->ctx.before_delete = cfg->before_delete;
    srv->ctx.before_delete_ctx = cfg->before_delete_ctx;
    srv->body_max = cfg->max_body > 0 ? cfg->max_body : BODY_MAX_DEFAULT;
    srv->body_timeout_ms = (int64_t)timeout_s * 1000;
    /* no listening socket: the door accepts, MHD only serves */
    srv->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_NO_LISTEN_SOCKET |
            MHD_USE_ITC,
        0, NULL, NULL, on_request, srv, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)positive_or(cfg->threads, 2), MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)timeout_s,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)positive_or(cfg->max_connections, MAX_CONNECTIONS_DEFAULT),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MHD_MEMORY_LIMIT, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        tz_cache_free(&srv->ctx.zones);
        free(srv);
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen, "cannot start the HTTP server");
    }
    rc = start_door(cfg, srv, msg, msglen);
    if (rc != 0) {
        MHD_stop_daemon(srv->mhd);
        tz_cache_free(&srv->ctx.zones);
        free(srv);
        return rc;
    }
    srv->port = door_port(srv->door);
    *out = srv;
    return 0;
}

int api_server_port(const struct api_server *s)
{
    return s->port;
}

void api_server_stop(struct api_server **s)
{
    if (s == NULL || *s == NULL)
        return;
    /* the door first, so nothing is handed to a stopping MHD; freed
     * last, as MHD reports each connection it closes */
    door_stop((*s)->door);
    MHD_stop_daemon((*s)->mhd);
    door_free(&(*s)->door);
    tz_cache_free(&(*s)->ctx.zones);
    free(*s);
    *s = NULL;
}
