/* server.c - libmicrohttpd glue: collect each request (body capped at
 * 1 MiB), route it through the one table in routes.c, and send the JSON
 * answer with a strong ETag, honouring If-None-Match. Nothing it sends is
 * HTML. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/error.h"
#include "core/tz_cache.h"

#define BODY_MAX (1024 * 1024)
#define REQUEST_TIMEOUT_S 30

struct api_server {
    struct MHD_Daemon *mhd;
    struct api_ctx ctx;
    int port;
};

/* One request being received. */
struct conn_state {
    char *body;
    size_t len;
    size_t cap;
    int too_large;
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
        char *dumped = json_dumps(rs->body, JSON_SORT_KEYS | JSON_ENSURE_ASCII);

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
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
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
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        if (!st->too_large && st->len + *upload_size > BODY_MAX) {
            st->too_large = 1;
        } else if (!st->too_large) {
            if (st->len + *upload_size + 1 > st->cap) {
                size_t ncap = (st->len + *upload_size + 1) * 2;
                char *nb = realloc(st->body, ncap > BODY_MAX + 1 ? BODY_MAX + 1 : ncap);

                if (nb == NULL)
                    return MHD_NO;
                st->body = nb;
                st->cap = ncap > BODY_MAX + 1 ? BODY_MAX + 1 : ncap;
            }
            memcpy(st->body + st->len, upload_data, *upload_size);
            st->len += *upload_size;
            st->body[st->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    memset(&rs, 0, sizeof(rs));
    if (st->too_large) {
        rs.status = MHD_HTTP_CONTENT_TOO_LARGE;
        rs.body = json_pack("{s:s}", "message", "The request body is larger than 1 MiB.");
    } else {
        memset(&rq, 0, sizeof(rq));
        rq.conn = c;
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

int api_server_start(const struct api_config *cfg, struct store *store, struct api_server **out,
                     char *msg, size_t msglen)
{
    struct api_server *srv;
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info;

    *out = NULL;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->host, &addr.sin_addr) != 1)
        return ecs_fail(ECS_EINVAL, msg, msglen, "listen address '%s' is not an IPv4 address",
                        cfg->host);
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
    srv->ctx.stop_task = cfg->stop_task;
    srv->ctx.stop_task_ctx = cfg->stop_task_ctx;
    srv->ctx.before_delete = cfg->before_delete;
    srv->ctx.before_delete_ctx = cfg->before_delete_ctx;
    srv->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO, 0, NULL, NULL, on_request,
        srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(cfg->threads > 0 ? cfg->threads : 2), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(cfg->request_timeout > 0 ? cfg->request_timeout : REQUEST_TIMEOUT_S),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        tz_cache_free(&srv->ctx.zones);
        free(srv);
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen,
                        "cannot listen on %s:%d (in use, or not allowed)", cfg->host, cfg->port);
    }
    info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info != NULL ? info->port : cfg->port;
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
    MHD_stop_daemon((*s)->mhd);
    tz_cache_free(&(*s)->ctx.zones);
    free(*s);
    *s = NULL;
}
