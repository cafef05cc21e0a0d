/* utf8.c - a strict UTF-8 check for text that comes from outside (a
 * request path's segments): a decoder that rejects what RFC 3629 forbids
 * and the control characters no id may hold. */
#include "core/utf8.h"

/* The length of the sequence lead byte c starts, or 0 when c cannot lead
 * one (a continuation byte, 0xC0/0xC1 overlongs, 0xF5 and above). */
static size_t seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

/* The second byte's range depends on the lead: that is where overlongs,
 * surrogates and code points past U+10FFFF are ruled out. */
static int second_ok(unsigned char lead, unsigned char c)
{
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;

    if (lead == 0xE0)
        lo = 0xA0;
    else if (lead == 0xED)
        hi = 0x9F;
    else if (lead == 0xF0)
        lo = 0x90;
    else if (lead == 0xF4)
        hi = 0x8F;
    return c >= lo && c <= hi;
}

int utf8_check_text(const char *s, size_t n, size_t *bad_at)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        size_t len = seq_len(p[i]);
        size_t k;

        if (len == 0 || i + len > n || p[i] < 0x20 || p[i] == 0x7F)
            goto bad;
        if (len > 1 && !second_ok(p[i], p[i + 1]))
            goto bad;
        for (k = 2; k < len; k++) {
            if (p[i + k] < 0x80 || p[i + k] > 0xBF)
                goto bad;
        }
        i += len;
    }
    return 0;
bad:
    *bad_at = i;
    return -1;
}
