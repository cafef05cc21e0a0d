/* http_head.c - judges a request head before libmicrohttpd sees it, so
 * that what MHD would answer with its own HTML pages (or mishandle: a
 * doubled header block for Content-Length: -1, a NUL in an id) is
 * answered by ecsched as JSON instead. It accepts a deliberately small
 * HTTP/1.x: origin-form targets, CRLF line ends, no obs-fold, Content-
 * Length bodies only (no Transfer-Encoding), Expect: 100-continue only. */
#include "api/http_head.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/utf8.h"

/* RFC 9110 5.6.2 token characters. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static enum http_head_state bad(struct http_head *out, int status, const char *text)
{
    out->status = status;
    snprintf(out->message, sizeof(out->message), "%s", text);
    return HTTP_HEAD_BAD;
}

/* Percent-decode one part of the target (path or query) and check that it
 * is UTF-8 text without control characters, as MHD will hand it on
 * decoded: a %00 there would cut an id short and alias another. */
static enum http_head_state check_part(const char *p, size_t n, const char *what,
                                       struct http_head *out)
{
    char dec[8192];
    size_t k = 0;
    size_t i;
    size_t at = 0;
    char text[200];

    /* decoding never lengthens: a part that fits is checked whole */
    if (n > sizeof(dec))
        return bad(out, 414, "The request target is longer than the server accepts.");
    for (i = 0; i < n; i++) {
        if (p[i] != '%') {
            dec[k++] = p[i];
            continue;
        }
        if (i + 2 >= n || hex_value((unsigned char)p[i + 1]) < 0 ||
            hex_value((unsigned char)p[i + 2]) < 0) {
            snprintf(text, sizeof(text),
                     "The request %s has a '%%' not followed by two hex digits.", what);
            return bad(out, 400, text);
        }
        dec[k++] =
            (char)(hex_value((unsigned char)p[i + 1]) * 16 + hex_value((unsigned char)p[i + 2]));
        i += 2;
    }
    if (utf8_check_text(dec, k, &at) != 0) {
        snprintf(text, sizeof(text),
                 "The request %s, percent-decoded, is not UTF-8 text: byte %zu (0x%02X) is wrong.",
                 what, at, (unsigned)(unsigned char)dec[at]);
        return bad(out, 400, text);
    }
    return HTTP_HEAD_OK;
}

/* The request target: origin-form only ("/path?query"). */
static enum http_head_state check_target(const char *t, size_t n,
                                         const struct http_head_limits *lim, struct http_head *out)
{
    const char *q;
    size_t i;
    size_t plen;
    enum http_head_state st;

    if (n > lim->target_max)
        return bad(out, 414, "The request target is longer than the server accepts.");
    if (t[0] != '/')
        return bad(out, 400,
                   "The request target must be a path starting with '/' (no absolute URL, "
                   "no '*').");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];

        if (c <= 0x20 || c >= 0x7F || c == '#')
            return bad(out, 400,
                       "The request target holds a byte that must be percent-encoded (a control, "
                       "space, '#' or non-ASCII byte).");
    }
    q = memchr(t, '?', n);
    plen = q != NULL ? (size_t)(q - t) : n;
    st = check_part(t, plen, "path", out);
    if (st == HTTP_HEAD_OK && q != NULL)
        st = check_part(q + 1, n - plen - 1, "query", out);
    return st;
}

/* "HTTP/d.d", or "HTTP/d" as HTTP/2 and 3 are named: a version we do not
 * speak (505) rather than no version at all (400). */
static int is_version(const char *v, size_t n)
{
    if (n < 6 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9')
        return 0;
    if (n == 6)
        return 1;
    return n == 8 && v[6] == '.' && v[7] >= '0' && v[7] <= '9';
}

/* "METHOD SP target SP HTTP/1.x", without its CRLF. */
static enum http_head_state check_request_line(const char *l, size_t n,
                                               const struct http_head_limits *lim,
                                               struct http_head *out)
{
    size_t m = 0;
    const char *sp2;
    const char *t;
    size_t vlen;

    while (m < n && is_tchar((unsigned char)l[m]))
        m++;
    if (n == 0)
        return bad(out, 400, "The request line is empty.");
    if (m == 0 || m > 32 || m == n || l[m] != ' ')
        return bad(out, 400,
                   "The request line must be 'METHOD /path HTTP/1.1' (the method is not a "
                   "token followed by one space).");
    out->is_head = m == 4 && memcmp(l, "HEAD", 4) == 0;
    t = l + m + 1;
    sp2 = memchr(t, ' ', n - m - 1);
    if (sp2 == NULL) {
        if (memchr(t, '\t', n - m - 1) == NULL && n - m - 1 > 0 && t[0] == '/')
            return bad(out, 505, "HTTP/0.9 is not supported: send HTTP/1.1 or HTTP/1.0.");
        return bad(out, 400, "The request line must be 'METHOD /path HTTP/1.1'.");
    }
    vlen = (size_t)(l + n - (sp2 + 1));
    if (vlen == 8 && (memcmp(sp2 + 1, "HTTP/1.1", 8) == 0 || memcmp(sp2 + 1, "HTTP/1.0", 8) == 0))
        return check_target(t, (size_t)(sp2 - t), lim, out);
    if (is_version(sp2 + 1, vlen))
        return bad(out, 505, "Only HTTP/1.1 and HTTP/1.0 are supported.");
    return bad(out, 400, "The request line must be 'METHOD /path HTTP/1.1'.");
}

/* What the header fields said that matters to the door. */
struct seen {
    int host;
    int content_length;
    int transfer_encoding;
    int expect;
    size_t fields;
};

/* A Content-Length value: 1*DIGIT, and no larger than the body limit. */
static enum http_head_state check_length(const char *v, size_t n,
                                         const struct http_head_limits *lim, struct http_head *out)
{
    long long x = 0;
    size_t i;

    if (n == 0)
        return bad(out, 400, "Content-Length is empty: it must be a decimal number of bytes.");
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return bad(out, 400, "Content-Length must be a decimal number of bytes (digits only).");
        /* past the limit already: stop before the number can overflow */
        if (x > lim->body_max)
            break;
        x = x * 10 + (v[i] - '0');
    }
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return bad(out, 400, "Content-Length must be a decimal number of bytes (digits only).");
    }
    if (x > lim->body_max) {
        char text[120];

        snprintf(text, sizeof(text), "The request body (Content-Length) is larger than %lld bytes.",
                 lim->body_max);
        return bad(out, 413, text);
    }
    out->content_length = x;
    return HTTP_HEAD_OK;
}

static int name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* One header field line, without its CRLF. */
static enum http_head_state check_field(const char *l, size_t n, const struct http_head_limits *lim,
                                        struct seen *s, struct http_head *out)
{
    size_t k = 0;
    size_t i;
    const char *v;
    size_t vn;

    if (l[0] == ' ' || l[0] == '\t')
        return bad(out, 400, "A header line starts with whitespace (obsolete line folding).");
    while (k < n && is_tchar((unsigned char)l[k]))
        k++;
    if (k == 0 || k == n || l[k] != ':')
        return bad(out, 400,
                   "A header line is not 'Name: value' (the name is not a token "
                   "followed by ':').");
    for (i = k + 1; i < n; i++) {
        unsigned char c = (unsigned char)l[i];

        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return bad(out, 400, "A header value holds a control character.");
    }
    v = l + k + 1;
    vn = n - k - 1;
    while (vn > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vn--;
    }
    while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
    /* libmicrohttpd reads these bytes again and answers a Content-Length
     * with whitespace after its digits itself, an HTML page with its
     * header block twice: refused here, in JSON, before it can */
    if (name_is(l, k, "Content-Length") && v + vn < l + n)
        return bad(out, 400, "Content-Length must be a decimal number of bytes (digits only).");
    if (++s->fields > lim->headers_max)
        return bad(out, 431, "The request has more header fields than the server accepts.");
    if (name_is(l, k, "Host") && s->host++ > 0)
        return bad(out, 400, "The Host header is given more than once.");
    if (name_is(l, k, "Transfer-Encoding")) {
        s->transfer_encoding = 1;
        return bad(out, 411,
                   "Transfer-Encoding is not accepted: send the body with a Content-Length.");
    }
    if (name_is(l, k, "Expect")) {
        s->expect = 1;
        if (vn != 12 || strncasecmp(v, "100-continue", 12) != 0)
            return bad(out, 417, "The only expectation accepted is 'Expect: 100-continue'.");
    }
    if (name_is(l, k, "Content-Length")) {
        if (s->content_length++ > 0)
            return bad(out, 400, "Content-Length is given more than once.");
        return check_length(v, vn, lim, out);
    }
    return HTTP_HEAD_OK;
}

enum http_head_state http_head_check(const char *buf, size_t n, const struct http_head_limits *lim,
                                     struct http_head *out)
{
    struct seen s;
    size_t pos = 0;
    int line_no = 0;
    int http10 = 0;

    memset(&s, 0, sizeof(s));
    memset(out, 0, sizeof(*out));
    out->content_length = -1;
    while (pos < n) {
        const char *l = buf + pos;
        const char *lf = memchr(l, '\n', n - pos);
        const char *cr = memchr(l, '\r', lf != NULL ? (size_t)(lf - l) : n - pos);
        size_t len;
        enum http_head_state st;

        /* a CR must end a line, an LF must follow a CR */
        if (cr != NULL && (cr + 1 < buf + n) && cr[1] != '\n')
            return bad(out, 400, "A bare CR in the request head (lines end with CRLF).");
        if (lf != NULL && (lf == l || lf[-1] != '\r'))
            return bad(out, 400, "A bare LF in the request head (lines end with CRLF).");
        if (lf == NULL)
            break;
        len = (size_t)(lf - l) - 1;
        if (pos + len + 2 > lim->head_max)
            break;
        if (line_no == 0) {
            st = check_request_line(l, len, lim, out);
            http10 = len >= 8 && memcmp(l + len - 8, "HTTP/1.0", 8) == 0;
        } else if (len == 0) {
            if (!http10 && s.host == 0)
                return bad(out, 400, "An HTTP/1.1 request must have a Host header.");
            out->head_len = pos + 2;
            return HTTP_HEAD_OK;
        } else {
            st = check_field(l, len, lim, &s, out);
        }
        if (st != HTTP_HEAD_OK)
            return st;
        line_no++;
        pos += len + 2;
    }
    if (n >= lim->head_max)
        return bad(out, line_no == 0 ? 414 : 431,
                   line_no == 0 ? "The request line is longer than the server accepts."
                                : "The request head is larger than the server accepts.");
    return HTTP_HEAD_MORE;
}
