/* door.h - the HTTP door: ecsched's own accept loop in front of
 * libmicrohttpd. It holds each new connection until its request head has
 * arrived (within a total deadline, not an idle one), judges the head
 * (api/http_head.h), answers what is wrong itself as one JSON response,
 * caps connections per client address and in all, and hands the good
 * ones on with their bytes still unread in the socket. */
#ifndef ECS_API_DOOR_H
#define ECS_API_DOOR_H

#include <stdint.h>
#include <sys/socket.h>

#include "api/http_head.h"

struct door_config {
    const char *host; /* IPv4 address to bind */
    int port;         /* 0 picks a free port */
    struct http_head_limits limits;
    int head_timeout_ms; /* from accept to the end of the request head */
    int linger_ms;       /* after an answer: how long to drain what the client still sends */
    int per_address;     /* connections open at once from one address */
    int max_connections; /* connections open at once in all (held here or handed on) */
    /* Take a connection whose head is good: the fd is the callee's from
     * now on (closed by it even when it fails). 0 when taken; the door
     * counts it as open until door_release. */
    int (*hand_off)(void *ctx, int fd, const struct sockaddr *addr, socklen_t len);
    void *hand_off_ctx;
    int64_t (*now_ms)(void); /* a monotonic clock */
};

struct door;

/* Listen and start the door's thread. *out is set before the thread
 * starts, so hand_off may already see it. */
int door_start(const struct door_config *cfg, struct door **out, char *msg, size_t msglen);

/* The port actually bound. */
int door_port(const struct door *d);

/* A connection handed on has closed (any thread). */
void door_release(struct door *d, const struct sockaddr *addr);

/* Stop accepting and close what the door still holds; door_release may
 * still be called until door_free. */
void door_stop(struct door *d);

/* Free the door (after door_stop, once nothing calls door_release);
 * sets *d to NULL. */
void door_free(struct door **d);

#endif
