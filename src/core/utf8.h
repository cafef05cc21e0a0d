/* utf8.h - is a byte string well-formed UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF)? The HTTP door and the routes check
 * every path segment with it before an id reaches the store or a JSON
 * answer. */
#ifndef ECS_CORE_UTF8_H
#define ECS_CORE_UTF8_H

#include <stddef.h>

/* 0 when s[0..n) is well-formed UTF-8 holding no control character
 * (U+0000-U+001F, U+007F); otherwise -1 with *bad_at set to the offset of
 * the first byte that is wrong. */
int utf8_check_text(const char *s, size_t n, size_t *bad_at);

#endif
