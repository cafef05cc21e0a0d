/* http_head.h - the HTTP door's judge of a request head (request line and
 * header block, RFC 9110/9112) from the bytes seen so far: complete and
 * fit to hand to libmicrohttpd, not yet complete, or wrong, with the
 * status and the one-line message to answer. Pure: no sockets, no clock. */
#ifndef ECS_API_HTTP_HEAD_H
#define ECS_API_HTTP_HEAD_H

#include <stddef.h>

struct http_head_limits {
    size_t head_max;    /* request line + headers + blank line, bytes */
    size_t target_max;  /* the request target, bytes */
    size_t headers_max; /* header fields */
    long long body_max; /* the largest Content-Length accepted */
};

enum http_head_state {
    HTTP_HEAD_MORE = 1, /* not complete yet, nothing wrong so far */
    HTTP_HEAD_OK = 0,   /* complete and valid */
    HTTP_HEAD_BAD = -1, /* answer status with message */
};

struct http_head {
    int status;               /* HTTP_HEAD_BAD: the 4xx/5xx to answer */
    char message[240];        /* HTTP_HEAD_BAD: what is wrong, one line */
    int is_head;              /* the method is HEAD (an answer has no body) */
    size_t head_len;          /* HTTP_HEAD_OK: bytes up to and with the blank line */
    long long content_length; /* HTTP_HEAD_OK: -1 when absent */
};

/* Judge buf[0..n): the first bytes a client sent on a connection. */
enum http_head_state http_head_check(const char *buf, size_t n, const struct http_head_limits *lim,
                                     struct http_head *out);

#endif
