/* test_door.c - the HTTP door on a loopback port: a good head is handed
 * on with its bytes unread, a bad one answered as JSON, the per-address
 * cap refuses with 429 until a handed-on connection is released, and a
 * head that does not complete in time gets 408. */
#include "api/door.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "harness.h"

struct handed {
    atomic_int count;
    char first[64]; /* what the first handed-on socket still held */
};

static int take(void *ctx, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct handed *h = ctx;
    ssize_t r;

    (void)addr;
    (void)len;
    if (atomic_fetch_add(&h->count, 1) == 0) {
        r = recv(fd, h->first, sizeof(h->first) - 1, MSG_DONTWAIT);
        h->first[r > 0 ? r : 0] = '\0';
    }
    close(fd);
    return 0;
}

static int dial(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* What the door answers on fd within 3 s (until it closes). */
static void answer_of(int fd, char *out, size_t len)
{
    struct pollfd p = {fd, POLLIN, 0};
    size_t n = 0;

    while (n + 1 < len && poll(&p, 1, 3000) == 1) {
        ssize_t r = recv(fd, out + n, len - 1 - n, 0);

        if (r <= 0)
            break;
        n += (size_t)r;
    }
    out[n] = '\0';
}

static struct door *open_door(struct handed *h, int per_address, int max, int timeout_ms)
{
    struct door_config cfg;
    struct door *d = NULL;
    char msg[256];

    memset(&cfg, 0, sizeof(cfg));
    cfg.host = "127.0.0.1";
    cfg.limits.head_max = 4096;
    cfg.limits.target_max = 1024;
    cfg.limits.headers_max = 20;
    cfg.limits.body_max = 1024;
    cfg.head_timeout_ms = timeout_ms;
    cfg.linger_ms = 200;
    cfg.per_address = per_address;
    cfg.max_connections = max;
    cfg.hand_off = take;
    cfg.hand_off_ctx = h;
    cfg.now_ms = clock_mono_ms;
    T_EQ_INT(door_start(&cfg, &d, msg, sizeof(msg)), 0);
    return d;
}

static void wait_handed(struct handed *h, int want)
{
    int i;

    for (i = 0; i < 300 && atomic_load(&h->count) < want; i++)
        usleep(10000);
}

static void test_hand_off_and_answer(void)
{
    struct handed h = {0};
    struct door *d = open_door(&h, 10, 100, 5000);
    const char good[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const char bad[] = "GET /jobs/a%00b HTTP/1.1\r\nHost: x\r\n\r\n";
    char out[1024];
    int fd;

    fd = dial(door_port(d));
    T_EQ_INT(send(fd, good, strlen(good), 0), (long long)strlen(good));
    wait_handed(&h, 1);
    T_EQ_INT(atomic_load(&h.count), 1);
    T_EQ_STR(h.first, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    close(fd);
    fd = dial(door_port(d));
    T_EQ_INT(send(fd, bad, strlen(bad), 0), (long long)strlen(bad));
    answer_of(fd, out, sizeof(out));
    close(fd);
    T_HAS_STR(out, "HTTP/1.1 400 Bad Request\r\n");
    T_HAS_STR(out, "Content-Type: application/json\r\n");
    T_HAS_STR(out, "Connection: close\r\n");
    T_HAS_STR(out, "{\"message\": \"The request path, percent-decoded, is not UTF-8 text");
    T_EQ_INT(atomic_load(&h.count), 1);
    door_stop(d);
    door_free(&d);
}

static void test_per_address_cap(void)
{
    struct handed h = {0};
    struct door *d = open_door(&h, 1, 100, 5000);
    const char good[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    struct sockaddr_in self;
    char out[1024];
    int first = dial(door_port(d));
    int second;

    T_EQ_INT(send(first, good, strlen(good), 0), (long long)strlen(good));
    wait_handed(&h, 1);
    second = dial(door_port(d));
    answer_of(second, out, sizeof(out));
    close(second);
    T_HAS_STR(out, "HTTP/1.1 429 Too Many Requests\r\n");
    /* the handed-on connection closes: the address may connect again */
    memset(&self, 0, sizeof(self));
    self.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &self.sin_addr);
    door_release(d, (struct sockaddr *)&self);
    second = dial(door_port(d));
    T_EQ_INT(send(second, good, strlen(good), 0), (long long)strlen(good));
    wait_handed(&h, 2);
    T_EQ_INT(atomic_load(&h.count), 2);
    close(first);
    close(second);
    door_stop(d);
    door_free(&d);
}

static void test_global_cap(void)
{
    struct handed h = {0};
    struct door *d = open_door(&h, 10, 1, 5000);
    char out[1024];
    int first = dial(door_port(d));
    int second = dial(door_port(d));

    answer_of(second, out, sizeof(out));
    close(second);
    close(first);
    T_HAS_STR(out, "HTTP/1.1 503 Service Unavailable\r\n");
    T_HAS_STR(out, "as many connections as it accepts");
    door_stop(d);
    door_free(&d);
}

static void test_head_deadline(void)
{
    struct handed h = {0};
    struct door *d = open_door(&h, 10, 100, 300);
    const char part[] = "GET / HTTP/1.1\r\n";
    char out[1024];
    int fd = dial(door_port(d));

    T_EQ_INT(send(fd, part, strlen(part), 0), (long long)strlen(part));
    answer_of(fd, out, sizeof(out));
    close(fd);
    T_HAS_STR(out, "HTTP/1.1 408 Request Timeout\r\n");
    T_EQ_INT(atomic_load(&h.count), 0);
    door_stop(d);
    door_free(&d);
}

static const struct test_case cases[] = {
    {"hand_off_and_answer", test_hand_off_and_answer},
    {"per_address_cap", test_per_address_cap},
    {"global_cap", test_global_cap},
    {"head_deadline", test_head_deadline},
};

TEST_MAIN("door", cases)
