/* test_http_head.c - the HTTP door's judge of request heads: complete and
 * valid heads (with the length and Content-Length it reports), heads not
 * yet complete, and each kind of wrong head with its status. */
#include "api/http_head.h"
#include "harness.h"

static const struct http_head_limits limits = {256, 64, 4, 1024};

/* One case: the bytes, the state, and the status when wrong. */
struct head_case {
    const char *text;
    enum http_head_state state;
    int status;
};

static const struct head_case cases[] = {
    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_HEAD_OK, 0},
    {"GET /jobs/caf%C3%A9?skip=1 HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_HEAD_OK, 0},
    {"GET / HTTP/1.0\r\n\r\n", HTTP_HEAD_OK, 0},
    {"POST /jobs HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1024\r\n\r\n",
     HTTP_HEAD_OK, 0},
    {"GET / HTTP/1.1\r\nHost: x\r\n", HTTP_HEAD_MORE, 0},
    {"GET / HTT", HTTP_HEAD_MORE, 0},
    {"", HTTP_HEAD_MORE, 0},
    {"GET / HTTP/1.1\r\n\r\n", HTTP_HEAD_BAD, 400},
    {"GET /\r\n", HTTP_HEAD_BAD, 505},
    {"GET / HTTP/2.0\r\n", HTTP_HEAD_BAD, 505},
    {"GET / HTTP/1.1 x\r\n", HTTP_HEAD_BAD, 400},
    {"GET http://x/ HTTP/1.1\r\n", HTTP_HEAD_BAD, 400},
    {"GET /a%00b HTTP/1.1\r\n", HTTP_HEAD_BAD, 400},
    {"GET /%FF HTTP/1.1\r\n", HTTP_HEAD_BAD, 400},
    {"GET /?q=%zz HTTP/1.1\r\n", HTTP_HEAD_BAD, 400},
    {"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n",
     HTTP_HEAD_BAD, 414},
    {"GET / HTTP/1.1\nHost: x\n\n", HTTP_HEAD_BAD, 400},
    {"GET / HTTP/1.1\r\nHost : x\r\n", HTTP_HEAD_BAD, 400},
    {"GET / HTTP/1.1\r\nX: a\r\n b\r\n", HTTP_HEAD_BAD, 400},
    {"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n", HTTP_HEAD_BAD, 400},
    {"GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n", HTTP_HEAD_BAD, 431},
    {"POST / HTTP/1.1\r\nContent-Length: -1\r\n", HTTP_HEAD_BAD, 400},
    {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n", HTTP_HEAD_BAD, 413},
    {"POST / HTTP/1.1\r\nContent-Length: 1025\r\n", HTTP_HEAD_BAD, 413},
    {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n", HTTP_HEAD_BAD, 400},
    /* libmicrohttpd answered these itself, its header block twice */
    {"POST / HTTP/1.1\r\nContent-Length: 2 \r\n", HTTP_HEAD_BAD, 400},
    {"POST / HTTP/1.1\r\nContent-Length: 2\t\r\n", HTTP_HEAD_BAD, 400},
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n", HTTP_HEAD_BAD, 411},
    {"POST / HTTP/1.1\r\nExpect: 200-ok\r\n", HTTP_HEAD_BAD, 417},
};

static void test_cases(void)
{
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_head h;
        enum http_head_state st =
            http_head_check(cases[i].text, strlen(cases[i].text), &limits, &h);

        if ((int)st != (int)cases[i].state)
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].text);
        T_EQ_INT(st, cases[i].state);
        if (cases[i].state == HTTP_HEAD_BAD) {
            T_EQ_INT(h.status, cases[i].status);
            T_TRUE(h.message[0] != '\0');
        }
    }
}

static void test_reports(void)
{
    const char *text = "HEAD /x HTTP/1.1\r\nHost: x\r\nContent-Length:  12\r\n\r\nbody";
    struct http_head h;

    T_EQ_INT(http_head_check(text, strlen(text), &limits, &h), HTTP_HEAD_OK);
    T_EQ_INT(h.head_len, strlen(text) - 4);
    T_EQ_INT(h.content_length, 12);
    T_EQ_INT(h.is_head, 1);
}

static void test_head_limit(void)
{
    char big[300];
    struct http_head h;

    memset(big, 'a', sizeof(big));
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    T_EQ_INT(http_head_check(big, sizeof(big), &limits, &h), HTTP_HEAD_BAD);
    T_EQ_INT(h.status, 431);
}

static const struct test_case all[] = {
    {"cases", test_cases},
    {"reports", test_reports},
    {"head_limit", test_head_limit},
};

TEST_MAIN("http_head", all)
