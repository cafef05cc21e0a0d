/* tz.c - a small reader for the system's TZif files (RFC 8536) and their
 * POSIX TZ footer rules, answering "which UTC offset holds at instant t"
 * without ever touching the process-wide TZ. */
#include "tz.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "civil.h"
#include "error.h"

#define TZ_FILE_MAX (1024 * 1024)
#define TZ_NAME_MAX 255
#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
/* Seconds in 400 Gregorian years: POSIX rules repeat with this period. */
#define TZ_PERIOD ((int64_t)CIVIL_DAYS_PER_400Y * CIVIL_SECS_PER_DAY)
/* Footer transitions are materialised for this many years after the
 * table: two whole periods, so a reduced instant always has neighbours. */
#define TZ_FOOTER_YEARS 802
/* Transitions must lie strictly within +-2^60 seconds (36 billion years;
 * zic's "big bang" is -2^59), and instants beyond are read at the limit,
 * so every sum below stays far inside int64_t. */
#define TZ_LIMIT (INT64_C(1) << 60)
/* UTC offsets must be under a day either way (real zones stay within
 * 16 hours): isotime writes and reads every such offset. */
#define TZ_OFFSET_MAX (CIVIL_SECS_PER_DAY - 1)

/* From `at` on (until the next change) the offset is `off`. */
struct tz_change {
    int64_t at;
    int32_t off;
};

struct tz {
    char *name;
    int32_t initial; /* offset before the first change */
    struct tz_change *ch;
    size_t n;
    bool fixed;
    bool periodic;     /* changes from period_lo on repeat every TZ_PERIOD */
    int64_t period_lo; /* instants >= period_lo + TZ_PERIOD are reduced */
};

static char utc_name[] = "UTC";
static const struct tz utc_zone = {utc_name, 0, NULL, 0, true, false, 0};

const struct tz *tz_utc(void)
{
    return &utc_zone;
}

const char *tz_name(const struct tz *zone)
{
    return zone->name;
}

int tz_is_fixed(const struct tz *zone)
{
    return zone->fixed;
}

void tz_free(struct tz **zone)
{
    if (zone == NULL || *zone == NULL)
        return;
    if (*zone != &utc_zone) {
        free((*zone)->name);
        free((*zone)->ch);
        free(*zone);
    }
    *zone = NULL;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */

static int64_t clamp_limit(int64_t t)
{
    if (t > TZ_LIMIT)
        return TZ_LIMIT;
    if (t < -TZ_LIMIT)
        return -TZ_LIMIT;
    return t;
}

/* The span holding t, for t within +-TZ_LIMIT; its end may lie beyond. */
static void span_within(const struct tz *zone, int64_t t, struct tz_span *out)
{
    int64_t shift = 0;
    size_t lo = 0;
    size_t hi = zone->n;

    if (zone->periodic && t >= zone->period_lo + TZ_PERIOD) {
        int64_t k = civil_floor_div(t - zone->period_lo, TZ_PERIOD);

        shift = k * TZ_PERIOD;
        t -= shift;
    }
    /* the number of changes at or before t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (zone->ch[mid].at <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) {
        out->start = INT64_MIN;
        out->end = zone->ch[0].at;
        out->offset = zone->initial;
        out->prev_offset = zone->initial;
        return;
    }
    out->start = zone->ch[lo - 1].at + shift;
    out->offset = zone->ch[lo - 1].off;
    out->prev_offset = lo >= 2 ? zone->ch[lo - 2].off : zone->initial;
    out->end = lo < zone->n ? zone->ch[lo].at + shift : INT64_MAX;
}

void tz_span_at(const struct tz *zone, int64_t t, struct tz_span *out)
{
    if (zone->n == 0) {
        out->start = INT64_MIN;
        out->end = INT64_MAX;
        out->offset = zone->initial;
        out->prev_offset = zone->initial;
        return;
    }
    /* No change happens after TZ_LIMIT: the span holding it lasts forever,
     * and instants past it belong to that span. */
    span_within(zone, clamp_limit(t), out);
    if (out->end > TZ_LIMIT)
        out->end = INT64_MAX;
}

int32_t tz_offset_at(const struct tz *zone, int64_t t)
{
    struct tz_span sp;

    if (zone->n == 0)
        return zone->initial;
    tz_span_at(zone, t, &sp);
    return sp.offset;
}

int64_t tz_wall_to_utc(const struct tz *zone, int64_t wall)
{
    const int64_t window = 2 * (int64_t)CIVIL_SECS_PER_DAY;
    struct tz_span sp;
    int64_t t;
    int64_t best = INT64_MAX;
    int guard;

    if (zone->n == 0)
        return clamp_limit(wall) - zone->initial;
    wall = clamp_limit(wall);
    t = wall - window;
    /* Solutions are instants with t + offset(t) == wall; offsets are under
     * a day, so every span that could hold one overlaps wall +- 2 days. */
    for (guard = 0; guard < 64; guard++) {
        int64_t cand;

        tz_span_at(zone, t, &sp);
        cand = wall - sp.offset;
        if (cand >= sp.start && cand < sp.end && cand < best)
            best = cand;
        if (sp.end == INT64_MAX || sp.end > wall + window)
            break;
        t = sp.end;
    }
    if (best != INT64_MAX)
        return best;
    /* In a gap: read the wall time with the offset before the jump. */
    t = wall - window;
    for (guard = 0; guard < 64; guard++) {
        tz_span_at(zone, t, &sp);
        if (sp.start != INT64_MIN && sp.offset > sp.prev_offset &&
            wall >= sp.start + sp.prev_offset && wall < sp.start + sp.offset)
            return wall - sp.prev_offset;
        if (sp.end == INT64_MAX || sp.end > wall + window)
            break;
        t = sp.end;
    }
    return wall - tz_offset_at(zone, wall);
}

/* ------------------------------------------------------------------ */
/* POSIX TZ footer                                                     */

enum rule_kind { RULE_JULIAN1, RULE_JULIAN0, RULE_MONTH };

struct posix_rule {
    enum rule_kind kind;
    int day;   /* Jn: 1..365; n: 0..365 */
    int month; /* Mm.w.d */
    int week;
    int wday;     /* 0 = Sunday */
    int32_t time; /* seconds after local midnight, may be negative or > 24h */
};

struct posix_tz {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    bool has_dst;
    struct posix_rule start;
    struct posix_rule end;
};

static const char *posix_name(const char *p)
{
    const char *start = p;

    if (*p == '<') {
        p++;
        while (*p != '\0' && *p != '>')
            p++;
        if (*p != '>' || p - start < 2)
            return NULL;
        return p + 1;
    }
    while (isalpha((unsigned char)*p))
        p++;
    if (p - start < 3)
        return NULL;
    return p;
}

/* [+-]hh[:mm[:ss]] with hours up to max_hours; NULL on error. */
static const char *posix_hms(const char *p, int max_hours, int32_t *out)
{
    int sign = 1;
    long h = 0;
    long m = 0;
    long s = 0;
    int digits = 0;

    if (*p == '+' || *p == '-') {
        if (*p == '-')
            sign = -1;
        p++;
    }
    while (isdigit((unsigned char)*p) && digits < 3) {
        h = h * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || h > max_hours)
        return NULL;
    if (*p == ':') {
        p++;
        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
            return NULL;
        m = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (*p == ':') {
            p++;
            if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
                return NULL;
            s = (p[0] - '0') * 10 + (p[1] - '0');
            p += 2;
        }
    }
    if (m > 59 || s > 59)
        return NULL;
    *out = (int32_t)(sign * (h * 3600 + m * 60 + s));
    return p;
}

static const char *posix_number(const char *p, int *out)
{
    int v = 0;
    int digits = 0;

    while (isdigit((unsigned char)*p) && digits < 4) {
        v = v * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (digits == 0)
        return NULL;
    *out = v;
    return p;
}

static const char *posix_rule(const char *p, struct posix_rule *r)
{
    r->time = 7200;
    if (*p == 'J') {
        r->kind = RULE_JULIAN1;
        p = posix_number(p + 1, &r->day);
        if (p == NULL || r->day < 1 || r->day > 365)
            return NULL;
    } else if (*p == 'M') {
        r->kind = RULE_MONTH;
        p = posix_number(p + 1, &r->month);
        if (p == NULL || *p != '.' || r->month < 1 || r->month > 12)
            return NULL;
        p = posix_number(p + 1, &r->week);
        if (p == NULL || *p != '.' || r->week < 1 || r->week > 5)
            return NULL;
        p = posix_number(p + 1, &r->wday);
        if (p == NULL || r->wday > 6)
            return NULL;
    } else {
        r->kind = RULE_JULIAN0;
        p = posix_number(p, &r->day);
        if (p == NULL || r->day > 365)
            return NULL;
    }
    if (*p == '/')
        p = posix_hms(p + 1, 167, &r->time);
    return p;
}

static int posix_parse(const char *s, struct posix_tz *out)
{
    const char *p = posix_name(s);
    int32_t v;

    memset(out, 0, sizeof(*out));
    if (p == NULL)
        return -1;
    p = posix_hms(p, 24, &v);
    if (p == NULL)
        return -1;
    /* POSIX offsets count hours west of UTC. */
    out->std_off = -v;
    if (*p == '\0')
        return 0;
    p = posix_name(p);
    if (p == NULL)
        return -1;
    out->has_dst = true;
    out->dst_off = out->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        p = posix_hms(p, 24, &v);
        if (p == NULL)
            return -1;
        out->dst_off = -v;
    }
    if (*p == '\0') {
        /* POSIX's default rules (US, since 2007) */
        p = ",M3.2.0,M11.1.0";
    }
    if (*p != ',')
        return -1;
    p = posix_rule(p + 1, &out->start);
    if (p == NULL || *p != ',')
        return -1;
    p = posix_rule(p + 1, &out->end);
    if (p == NULL || *p != '\0')
        return -1;
    return 0;
}

/* Local seconds (wall clock read as UTC) at which rule r fires in year y. */
static int64_t rule_local(const struct posix_rule *r, int64_t y)
{
    int64_t jan1 = civil_days_from_ymd(y, 1, 1);
    int64_t day;

    if (r->kind == RULE_JULIAN1) {
        day = jan1 + r->day - 1;
        if (civil_is_leap(y) && r->day >= 60)
            day++;
    } else if (r->kind == RULE_JULIAN0) {
        day = jan1 + r->day;
    } else {
        int64_t first = civil_days_from_ymd(y, r->month, 1);
        int wd1 = (civil_weekday(first) + 1) % 7; /* 0 = Sunday */
        int d = 1 + (r->wday - wd1 + 7) % 7 + 7 * (r->week - 1);

        while (d > civil_days_in_month(y, r->month))
            d -= 7;
        day = first + d - 1;
    }
    return day * CIVIL_SECS_PER_DAY + r->time;
}

struct rule_change {
    int64_t at;
    int32_t off;
    int order; /* at equal instants the end of DST sorts first */
};

static int rule_change_cmp(const void *a, const void *b)
{
    const struct rule_change *x = a;
    const struct rule_change *y = b;

    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->order - y->order;
}

/* Append to zone->ch (capacity *cap) keeping offsets alternating. */
static int push_change(struct tz *zone, size_t *cap, int64_t at, int32_t off)
{
    int32_t prev = zone->n > 0 ? zone->ch[zone->n - 1].off : zone->initial;

    if (zone->n > 0 && zone->ch[zone->n - 1].at == at) {
        /* a later change at the same instant wins */
        zone->n--;
        prev = zone->n > 0 ? zone->ch[zone->n - 1].off : zone->initial;
    }
    if (off == prev)
        return 0;
    if (zone->n == *cap) {
        size_t ncap = *cap == 0 ? 64 : *cap * 2;
        struct tz_change *nch = realloc(zone->ch, ncap * sizeof(*nch));

        if (nch == NULL)
            return -1;
        zone->ch = nch;
        *cap = ncap;
    }
    zone->ch[zone->n].at = at;
    zone->ch[zone->n].off = off;
    zone->n++;
    return 0;
}

/* Materialise the footer rule's changes after `after` (the table's last
 * transition). */
static int add_footer(struct tz *zone, size_t *cap, const struct posix_tz *pz, int64_t after,
                      bool has_table)
{
    struct rule_change *rc;
    struct civil_time ct;
    int64_t y0;
    size_t i;
    size_t k = 0;

    if (!pz->has_dst) {
        if (!has_table)
            zone->initial = pz->std_off;
        return 0;
    }
    civil_from_seconds(has_table ? after : 0, &ct);
    y0 = ct.year - 1;
    rc = malloc(2 * TZ_FOOTER_YEARS * sizeof(*rc));
    if (rc == NULL)
        return -1;
    for (i = 0; i < TZ_FOOTER_YEARS; i++) {
        int64_t y = y0 + (int64_t)i;

        rc[k].at = rule_local(&pz->start, y) - pz->std_off;
        rc[k].off = pz->dst_off;
        rc[k].order = 1;
        k++;
        rc[k].at = rule_local(&pz->end, y) - pz->dst_off;
        rc[k].off = pz->std_off;
        rc[k].order = 0;
        k++;
    }
    qsort(rc, k, sizeof(*rc), rule_change_cmp);
    if (!has_table)
        zone->initial = pz->std_off;
    for (i = 0; i < k; i++) {
        if (has_table && rc[i].at <= after)
            continue;
        if (push_change(zone, cap, rc[i].at, rc[i].off) != 0) {
            free(rc);
            return -1;
        }
    }
    free(rc);
    /* Periodic only if the rule really alternates (not all-year DST). */
    if (zone->n >= 4) {
        civil_from_seconds(has_table ? after : 0, &ct);
        zone->periodic = true;
        zone->period_lo = civil_days_from_ymd(y0 + 400, 1, 1) * CIVIL_SECS_PER_DAY;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* TZif parsing                                                        */

struct tzif_header {
    int version;
    uint32_t isutcnt;
    uint32_t isstdcnt;
    uint32_t leapcnt;
    uint32_t timecnt;
    uint32_t typecnt;
    uint32_t charcnt;
};

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int64_t be64(const unsigned char *p)
{
    uint64_t v = ((uint64_t)be32(p) << 32) | be32(p + 4);

    return (int64_t)v;
}

static int read_header(const unsigned char *p, size_t len, struct tzif_header *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    h->version = p[4] == 0 ? 1 : p[4] - '0';
    if (h->version < 1 || h->version > 9)
        return -1;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return 0;
}

/* Bytes of the data block after a header, for 4- or 8-byte times; 0 when
 * the counts are absurd. */
static size_t block_size(const struct tzif_header *h, size_t tsize)
{
    uint64_t n = (uint64_t)h->timecnt * tsize + h->timecnt + (uint64_t)h->typecnt * 6 + h->charcnt +
                 (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;

    if (h->timecnt > TZ_FILE_MAX || h->typecnt > 256 || h->charcnt > TZ_FILE_MAX ||
        h->leapcnt > TZ_FILE_MAX || h->isstdcnt > 256 || h->isutcnt > 256 || n > TZ_FILE_MAX)
        return 0;
    return (size_t)n;
}

static int damaged(const char *name, char *msg, size_t msglen, const char *why)
{
    return ecs_fail(ECS_EINVAL, msg, msglen, "time zone '%s': damaged or unsupported file (%s)",
                    name, why);
}

int tz_parse(const unsigned char *data, size_t len, const char *name, struct tz **out, char *msg,
             size_t msglen)
{
    struct tzif_header h;
    const unsigned char *p = data;
    size_t left = len;
    size_t tsize = 4;
    size_t body;
    const unsigned char *times;
    const unsigned char *idx;
    const unsigned char *types;
    struct tz *zone;
    size_t cap = 0;
    size_t i;
    int64_t last_at = 0;
    struct posix_tz pz;
    bool has_footer = false;

    *out = NULL;
    if (read_header(p, left, &h) != 0)
        return damaged(name, msg, msglen, "not a TZif file");
    body = block_size(&h, 4);
    if (body == 0 && (h.timecnt | h.typecnt | h.charcnt) != 0)
        return damaged(name, msg, msglen, "impossible counts");
    if (44 + body > left)
        return damaged(name, msg, msglen, "truncated");
    if (h.version >= 2) {
        p += 44 + body;
        left -= 44 + body;
        if (read_header(p, left, &h) != 0)
            return damaged(name, msg, msglen, "bad second header");
        tsize = 8;
        body = block_size(&h, 8);
        if (body == 0 && (h.timecnt | h.typecnt | h.charcnt) != 0)
            return damaged(name, msg, msglen, "impossible counts");
        if (44 + body > left)
            return damaged(name, msg, msglen, "truncated");
    }
    if (h.leapcnt != 0)
        return damaged(name, msg, msglen, "leap-second zones such as right/ are not supported");
    if (h.typecnt == 0)
        return damaged(name, msg, msglen, "no local time types");
    times = p + 44;
    idx = times + (size_t)h.timecnt * tsize;
    types = idx + h.timecnt;

    if (h.version >= 2) {
        const unsigned char *f = p + 44 + body;
        size_t flen = left - 44 - body;
        const unsigned char *nl;
        char footer[128];

        if (flen < 2 || f[0] != '\n')
            return damaged(name, msg, msglen, "missing footer");
        nl = memchr(f + 1, '\n', flen - 1);
        if (nl == NULL || (size_t)(nl - f - 1) >= sizeof(footer))
            return damaged(name, msg, msglen, "bad footer");
        memcpy(footer, f + 1, (size_t)(nl - f - 1));
        footer[nl - f - 1] = '\0';
        if (footer[0] != '\0') {
            if (posix_parse(footer, &pz) != 0)
                return damaged(name, msg, msglen, "unreadable POSIX TZ footer");
            if (pz.std_off < -TZ_OFFSET_MAX || pz.std_off > TZ_OFFSET_MAX ||
                pz.dst_off < -TZ_OFFSET_MAX || pz.dst_off > TZ_OFFSET_MAX)
                return damaged(name, msg, msglen, "a footer UTC offset of a day or more");
            has_footer = true;
        }
    }

    zone = calloc(1, sizeof(*zone));
    if (zone == NULL)
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory loading '%s'", name);
    zone->name = strdup(name);
    if (zone->name == NULL) {
        tz_free(&zone);
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory loading '%s'", name);
    }
    for (i = 0; i < h.typecnt; i++) {
        int32_t off = (int32_t)be32(types + i * 6);

        if (off < -TZ_OFFSET_MAX || off > TZ_OFFSET_MAX) {
            tz_free(&zone);
            return damaged(name, msg, msglen, "a UTC offset of a day or more");
        }
    }
    /* RFC 8536: before the first transition, time type 0 applies. */
    zone->initial = (int32_t)be32(types);
    for (i = 0; i < h.timecnt; i++) {
        int64_t at = tsize == 8 ? be64(times + i * 8) : (int32_t)be32(times + i * 4);
        unsigned t = idx[i];
        int32_t off;

        if (t >= h.typecnt) {
            tz_free(&zone);
            return damaged(name, msg, msglen, "transition names a missing type");
        }
        if (i > 0 && at <= last_at) {
            tz_free(&zone);
            return damaged(name, msg, msglen, "transitions out of order");
        }
        if (at <= -TZ_LIMIT || at >= TZ_LIMIT) {
            tz_free(&zone);
            return damaged(name, msg, msglen, "a transition beyond 2^60 seconds");
        }
        off = (int32_t)be32(types + (size_t)t * 6);
        last_at = at;
        if (push_change(zone, &cap, at, off) != 0) {
            tz_free(&zone);
            return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory loading '%s'", name);
        }
    }
    if (has_footer && add_footer(zone, &cap, &pz, last_at, h.timecnt > 0) != 0) {
        tz_free(&zone);
        return ecs_fail(ECS_ENOMEM, msg, msglen, "out of memory loading '%s'", name);
    }
    zone->fixed = zone->n == 0;
    *out = zone;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Finding and reading the file                                        */

static bool name_ok(const char *name)
{
    const char *p;

    if (name[0] == '/' || strlen(name) > TZ_NAME_MAX)
        return false;
    for (p = name; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '+' && *p != '-' && *p != '/')
            return false;
        if (*p == '/' && (p[1] == '/' || p[1] == '\0'))
            return false;
    }
    return strstr(name, "..") == NULL;
}

/* Resolve name under dir, matching each component without regard to case;
 * writes the on-disk spelling to canon. */
static int resolve_path(const char *dir, const char *name, char *path, size_t plen, char *canon,
                        size_t clen)
{
    char comp[TZ_NAME_MAX + 1];
    const char *p = name;
    size_t pl;
    size_t cl = 0;

    pl = (size_t)snprintf(path, plen, "%s", dir);
    canon[0] = '\0';
    while (*p != '\0') {
        const char *slash = strchr(p, '/');
        size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
        struct stat st;
        DIR *d;
        struct dirent *e;
        bool found = false;

        memcpy(comp, p, n);
        comp[n] = '\0';
        if (pl + n + 2 > plen || cl + n + 2 > clen)
            return -1;
        snprintf(path + pl, plen - pl, "/%s", comp);
        if (stat(path, &st) != 0) {
            path[pl] = '\0';
            d = opendir(path);
            if (d == NULL)
                return -1;
            for (;;) {
                e = readdir(d);
                if (e == NULL)
                    break;
                if (strlen(e->d_name) == n && strcasecmp(e->d_name, comp) == 0) {
                    memcpy(comp, e->d_name, n);
                    found = true;
                    break;
                }
            }
            closedir(d);
            if (!found)
                return -1;
            snprintf(path + pl, plen - pl, "/%s", comp);
        }
        pl += n + 1;
        cl += (size_t)snprintf(canon + cl, clen - cl, "%s%s", cl > 0 ? "/" : "", comp);
        p += n;
        if (*p == '/')
            p++;
    }
    return 0;
}

static int read_file(const char *path, unsigned char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    unsigned char *buf;
    size_t got = 0;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
        close(fd);
        return -1;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return -1;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = got;
    return 0;
}

int tz_load(const char *name, struct tz **out, char *msg, size_t msglen)
{
    const char *dir = getenv("ECSCHED_ZONEINFO");
    char path[4096];
    char canon[TZ_NAME_MAX + 1];
    unsigned char *data = NULL;
    size_t len = 0;
    struct stat st;
    int rc;

    *out = NULL;
    if (name == NULL || name[0] == '\0') {
        *out = (struct tz *)&utc_zone;
        return 0;
    }
    if (!name_ok(name))
        return ecs_fail(ECS_EINVAL, msg, msglen,
                        "'%.64s' is not a time zone name (IANA names such as "
                        "America/New_York)",
                        name);
    if (dir == NULL || dir[0] == '\0')
        dir = TZ_DEFAULT_DIR;
    if (resolve_path(dir, name, path, sizeof(path), canon, sizeof(canon)) != 0 ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return ecs_fail(ECS_ENOTFOUND, msg, msglen, "unknown time zone '%s'", name);
    if (read_file(path, &data, &len) != 0)
        return ecs_fail(ECS_ENOTFOUND, msg, msglen, "unknown time zone '%s'", name);
    /* zone.tab, tzdata.zi and friends live beside the zones */
    if (len < 4 || memcmp(data, "TZif", 4) != 0) {
        free(data);
        return ecs_fail(ECS_ENOTFOUND, msg, msglen, "unknown time zone '%s'", name);
    }
    rc = tz_parse(data, len, canon, out, msg, msglen);
    free(data);
    return rc;
}
