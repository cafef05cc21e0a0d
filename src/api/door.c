/* door.c - the HTTP door in front of libmicrohttpd (see door.h).
 *
 * Why our own accept loop: libmicrohttpd 0.9.75 answers malformed HTTP
 * with compile-time HTML pages, sends a doubled header block for some
 * Content-Length values, reads a whole oversized body before our 413, and
 * its MHD_OPTION_CONNECTION_TIMEOUT counts only idle time, so a client
 * trickling a header line every few seconds keeps a connection (and a
 * descriptor) forever; it calls our handler only once the header block is
 * complete. So one thread here accepts every connection (epoll,
 * non-blocking), reads the request head with MSG_PEEK under a total
 * deadline and a size limit, and either answers the client itself (JSON,
 * Connection: close, then a short lingering close so the answer is not
 * lost to a reset) or hands the socket to MHD with MHD_add_connection,
 * the bytes still unread, so MHD parses exactly the head judged here.
 * Every answer ecsched sends says Connection: close, so no second,
 * unjudged request is ever read from a connection. A whole HTTP/1.1
 * server of our own would have meant rewriting MHD's body and response
 * handling as well, for no gain in what the door checks.
 *
 * Deadlines are kept in two lists in the order they were set (the
 * timeouts are constant, so each list is sorted by deadline). */
#include "api/door.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/error.h"

#define ADDR_BUCKETS 1024
#define EVENTS_MAX 256
#define DRAIN_MAX (1024 * 1024)

/* Connections open from one IPv4 address. */
struct door_addr {
    uint32_t ip;
    int count;
    struct door_addr *next;
};

/* A connection the door holds: its head is awaited, or it has been
 * answered and is being drained before close. */
struct door_conn {
    int fd;
    struct sockaddr_in addr;
    int64_t deadline;
    int answered;
    size_t drained;
    struct door_conn *prev;
    struct door_conn *next;
};

struct door_list {
    struct door_conn *head;
    struct door_conn *tail;
};

struct door {
    struct door_config cfg;
    int listen_fd;
    int epoll_fd;
    int wake_fd;
    int port;
    pthread_t thread;
    int running;
    char *peek;                 /* the thread's buffer, head_max bytes */
    struct door_list reading;   /* heads awaited, by deadline */
    struct door_list lingering; /* answered, by deadline */
    pthread_mutex_t lock;       /* guards what follows */
    int open;                   /* connections held here or handed on */
    struct door_addr *buckets[ADDR_BUCKETS];
};

/* Marks the listening socket and the wake-up eventfd in epoll data. */
static char listen_mark;
static char wake_mark;

static void list_push(struct door_list *l, struct door_conn *c)
{
    c->prev = l->tail;
    c->next = NULL;
    if (l->tail != NULL)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
}

static void list_unlink(struct door_list *l, struct door_conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = NULL;
    c->next = NULL;
}

static struct door_addr **addr_slot(struct door *d, uint32_t ip)
{
    struct door_addr **p = &d->buckets[(ip * 2654435761u) % ADDR_BUCKETS];

    while (*p != NULL && (*p)->ip != ip)
        p = &(*p)->next;
    return p;
}

/* Count a new connection from ip, unless a cap says no: 0, or the status
 * to answer (503 all full, 429 this address full). */
static int admit(struct door *d, uint32_t ip)
{
    struct door_addr **slot;
    int status = 0;

    pthread_mutex_lock(&d->lock);
    slot = addr_slot(d, ip);
    if (d->open >= d->cfg.max_connections)
        status = 503;
    else if (*slot != NULL && (*slot)->count >= d->cfg.per_address)
        status = 429;
    else if (*slot == NULL && (*slot = calloc(1, sizeof(**slot))) == NULL)
        status = 503;
    if (status == 0) {
        (*slot)->ip = ip;
        (*slot)->count++;
        d->open++;
    }
    pthread_mutex_unlock(&d->lock);
    return status;
}

static void release_ip(struct door *d, uint32_t ip)
{
    struct door_addr **slot;

    pthread_mutex_lock(&d->lock);
    slot = addr_slot(d, ip);
    if (*slot != NULL) {
        d->open--;
        if (--(*slot)->count == 0) {
            struct door_addr *gone = *slot;

            *slot = gone->next;
            free(gone);
        }
    }
    pthread_mutex_unlock(&d->lock);
}

void door_release(struct door *d, const struct sockaddr *addr)
{
    if (d == NULL || addr == NULL || addr->sa_family != AF_INET)
        return;
    release_ip(d, ((const struct sockaddr_in *)addr)->sin_addr.s_addr);
}

/* Send one complete JSON answer: {"message": text}, Connection: close. A
 * HEAD request's answer has no body, as HTTP says. */
static void send_answer(int fd, int status, const char *text, int is_head)
{
    json_t *obj = json_pack("{s:s}", "message", text);
    char *body = obj != NULL ? json_dumps(obj, JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
    const char *reason = MHD_get_reason_phrase_for((unsigned)status);
    char out[1024];
    int n;

    n = snprintf(out, sizeof(out),
                 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n%s%s",
                 status, reason, body != NULL ? strlen(body) + 1 : 0,
                 body != NULL && !is_head ? body : "", body != NULL && !is_head ? "\n" : "");
    if (n > 0 && (size_t)n < sizeof(out)) {
        /* a fresh socket's send buffer takes a short answer whole; a
         * client that does not read it loses only its own answer */
        ssize_t w = send(fd, out, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);

        (void)w;
    }
    free(body);
    json_decref(obj);
}

static void conn_close(struct door *d, struct door_conn *c)
{
    list_unlink(c->answered ? &d->lingering : &d->reading, c);
    close(c->fd);
    release_ip(d, c->addr.sin_addr.s_addr);
    free(c);
}

/* Read and drop what the client sent; 1 when the connection is done (EOF,
 * error, or too much). */
static int drain(struct door *d, struct door_conn *c)
{
    for (;;) {
        ssize_t r = recv(c->fd, d->peek, d->cfg.limits.head_max, MSG_DONTWAIT);

        if (r == 0)
            return 1;
        if (r < 0)
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
        c->drained += (size_t)r;
        if (c->drained > DRAIN_MAX)
            return 1;
    }
}

/* Answer and close lingering: the client's unread bytes are drained and
 * our side shut for writing, so the kernel sends the answer before any
 * reset; the connection closes at the client's EOF or the linger deadline. */
static void answer(struct door *d, struct door_conn *c, int status, const char *text, int is_head,
                   int64_t now)
{
    send_answer(c->fd, status, text, is_head);
    shutdown(c->fd, SHUT_WR);
    list_unlink(&d->reading, c);
    c->answered = 1;
    c->deadline = now + d->cfg.linger_ms;
    list_push(&d->lingering, c);
    if (drain(d, c))
        conn_close(d, c);
}

static void hand_off(struct door *d, struct door_conn *c)
{
    int fd = c->fd;
    struct sockaddr_in addr = c->addr;

    epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    list_unlink(&d->reading, c);
    free(c);
    if (d->cfg.hand_off(d->cfg.hand_off_ctx, fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0)
        release_ip(d, addr.sin_addr.s_addr);
}

/* New bytes (or an end) on a connection whose head is awaited. */
static void on_readable(struct door *d, struct door_conn *c, uint32_t events, int64_t now)
{
    struct http_head h;
    enum http_head_state st;
    ssize_t r;

    if (c->answered) {
        if (drain(d, c))
            conn_close(d, c);
        return;
    }
    r = recv(c->fd, d->peek, d->cfg.limits.head_max, MSG_PEEK | MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) {
        /* gone before a whole head: nobody to answer */
        conn_close(d, c);
        return;
    }
    st = http_head_check(d->peek, (size_t)r, &d->cfg.limits, &h);
    if (st == HTTP_HEAD_OK)
        hand_off(d, c);
    else if (st == HTTP_HEAD_BAD)
        answer(d, c, h.status, h.message, h.is_head, now);
    else if (events & (EPOLLRDHUP | EPOLLHUP))
        answer(d, c, 400, "The request head ended before its blank line.", 0, now);
}

/* Answer a connection refused by a cap, and close it at once: under
 * overload no descriptor is kept for lingering. */
static void refuse(int fd, int status)
{
    send_answer(fd, status,
                status == 429 ? "Too many connections from this address; try again later."
                              : "The server has as many connections as it accepts; try again "
                                "later.",
                0);
    shutdown(fd, SHUT_WR);
    close(fd);
}

static void on_accept(struct door *d, int64_t now)
{
    for (;;) {
        struct sockaddr_in addr;
        socklen_t len = sizeof(addr);
        int fd =
            accept4(d->listen_fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct door_conn *c;
        struct epoll_event ev;
        int status;

        if (fd < 0)
            return;
        status = admit(d, addr.sin_addr.s_addr);
        if (status != 0) {
            refuse(fd, status);
            continue;
        }
        c = calloc(1, sizeof(*c));
        if (c == NULL) {
            release_ip(d, addr.sin_addr.s_addr);
            refuse(fd, 503);
            continue;
        }
        c->fd = fd;
        c->addr = addr;
        c->deadline = now + d->cfg.head_timeout_ms;
        list_push(&d->reading, c);
        memset(&ev, 0, sizeof(ev));
        /* edge-triggered: bytes peeked stay in the socket, so a
         * level-triggered wait would wake at once, forever */
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = c;
        if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
            conn_close(d, c);
    }
}

/* Deadlines passed: a head not complete in time is answered 408; a
 * lingering connection is closed. */
static void expire(struct door *d, int64_t now)
{
    while (d->reading.head != NULL && d->reading.head->deadline <= now)
        answer(d, d->reading.head, 408,
               "The request head did not arrive in time (see serve --request-timeout).", 0, now);
    while (d->lingering.head != NULL && d->lingering.head->deadline <= now)
        conn_close(d, d->lingering.head);
}

static int next_timeout(const struct door *d, int64_t now)
{
    int64_t next = -1;

    if (d->reading.head != NULL)
        next = d->reading.head->deadline;
    if (d->lingering.head != NULL && (next < 0 || d->lingering.head->deadline < next))
        next = d->lingering.head->deadline;
    if (next < 0)
        return -1;
    return next <= now ? 0 : (int)(next - now);
}

static void *door_main(void *arg)
{
    struct door *d = arg;
    struct epoll_event evs[EVENTS_MAX];

    for (;;) {
        int n = epoll_wait(d->epoll_fd, evs, EVENTS_MAX, next_timeout(d, d->cfg.now_ms()));
        int64_t now = d->cfg.now_ms();
        int i;

        for (i = 0; i < n; i++) {
            if (evs[i].data.ptr == &wake_mark)
                return NULL;
            if (evs[i].data.ptr == &listen_mark)
                on_accept(d, now);
            else
                on_readable(d, evs[i].data.ptr, evs[i].events, now);
        }
        expire(d, now);
    }
}

static int watch(struct door *d, int fd, void *mark)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = mark;
    return epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

static int door_listen(struct door *d, char *msg, size_t msglen)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int one = 1;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)d->cfg.port);
    if (inet_pton(AF_INET, d->cfg.host, &addr.sin_addr) != 1)
        return ecs_fail(ECS_EINVAL, msg, msglen, "listen address '%s' is not an IPv4 address",
                        d->cfg.host);
    d->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->listen_fd < 0)
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen, "cannot open a socket: %s", strerror(errno));
    setsockopt(d->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(d->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(d->listen_fd, 1024) != 0 ||
        getsockname(d->listen_fd, (struct sockaddr *)&addr, &len) != 0)
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen,
                        "cannot listen on %s:%d (in use, or not allowed)", d->cfg.host,
                        d->cfg.port);
    d->port = ntohs(addr.sin_port);
    return 0;
}

int door_start(const struct door_config *cfg, struct door **out, char *msg, size_t msglen)
{
    struct door *d = calloc(1, sizeof(*d));
    int rc;

    *out = NULL;
    if (d == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory starting the HTTP door");
    d->cfg = *cfg;
    d->listen_fd = -1;
    d->wake_fd = -1;
    d->epoll_fd = -1;
    pthread_mutex_init(&d->lock, NULL);
    d->peek = malloc(cfg->limits.head_max);
    if (d->peek == NULL) {
        door_free(&d);
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory starting the HTTP door");
    }
    rc = door_listen(d, msg, msglen);
    if (rc != 0) {
        door_free(&d);
        return rc;
    }
    d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->epoll_fd < 0 || d->wake_fd < 0 || watch(d, d->listen_fd, &listen_mark) != 0 ||
        watch(d, d->wake_fd, &wake_mark) != 0) {
        door_free(&d);
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen, "cannot set up epoll: %s", strerror(errno));
    }
    *out = d;
    if (pthread_create(&d->thread, NULL, door_main, d) != 0) {
        *out = NULL;
        door_free(&d);
        return ecs_fail(ECS_EUNAVAILABLE, msg, msglen, "cannot start the HTTP door's thread");
    }
    d->running = 1;
    return 0;
}

int door_port(const struct door *d)
{
    return d->port;
}

void door_stop(struct door *d)
{
    uint64_t one = 1;

    if (d == NULL || !d->running)
        return;
    if (write(d->wake_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
        return;
    pthread_join(d->thread, NULL);
    d->running = 0;
    while (d->reading.head != NULL)
        conn_close(d, d->reading.head);
    while (d->lingering.head != NULL)
        conn_close(d, d->lingering.head);
    close(d->listen_fd);
    d->listen_fd = -1;
}

void door_free(struct door **dp)
{
    struct door *d = dp != NULL ? *dp : NULL;
    size_t i;

    if (d == NULL)
        return;
    door_stop(d);
    if (d->listen_fd >= 0)
        close(d->listen_fd);
    if (d->epoll_fd >= 0)
        close(d->epoll_fd);
    if (d->wake_fd >= 0)
        close(d->wake_fd);
    for (i = 0; i < ADDR_BUCKETS; i++) {
        while (d->buckets[i] != NULL) {
            struct door_addr *gone = d->buckets[i];

            d->buckets[i] = gone->next;
            free(gone);
        }
    }
    pthread_mutex_destroy(&d->lock);
    free(d->peek);
    free(d);
    *dp = NULL;
}
