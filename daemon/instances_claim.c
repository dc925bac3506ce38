/* The record an instance publishes to <app.id>.instances: see instances.h.  Pure
 * (text in, text out). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instances.h"

static const char *const STAGE_KEYS[INSTANCES__STAGES] = {"contact", "account"};

void instances_claim_free(instances_claim_t *c)
{
    for (int st = 0; st < INSTANCES__STAGES; st++) {
        free(c->parts[st]);
        c->parts[st] = NULL;
        c->part_count[st] = 0;
    }
}

int instances_claim_encode(const instances_claim_t *c, const char *const topics[INSTANCES__STAGES],
                           hf_buf_t *out)
{
    int r = hf_buf_printf(
        out, "handoffd-instance 1\ninstance %s\nhttp %s\nassigned_at %" PRId64 "\nat %" PRId64 "\n",
        c->instance, c->http, c->assigned_at_ms, c->at_ms);
    for (int st = 0; st < INSTANCES__STAGES && r == 0; st++) {
        r = hf_buf_printf(out, "%s %s ", STAGE_KEYS[st], topics[st]);
        for (size_t i = 0; i < c->part_count[st] && r == 0; i++)
            r = hf_buf_printf(out, i ? ",%" PRId32 : "%" PRId32, c->parts[st][i]);
        if (r == 0)
            r = hf_buf_append_str(out, "\n");
    }
    return r;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* "0,1,2" into a sorted array of distinct partitions.  0, -ENOMEM or -EINVAL. */
static int parse_parts(const char *s, size_t len, int32_t **out, size_t *count)
{
    int32_t *v = calloc(INSTANCES_PARTITIONS_MAX, sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t n = 0, i = 0;
    while (i < len) {
        int64_t p = 0;
        size_t digits = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9' && digits < 7; i++, digits++)
            p = p * 10 + (s[i] - '0');
        if (!digits || n == INSTANCES_PARTITIONS_MAX || (i < len && s[i] != ',') ||
            (i < len && i + 1 == len)) {
            free(v);
            return -EINVAL;
        }
        v[n++] = (int32_t)p;
        if (i < len)
            i++; /* the comma */
    }
    qsort(v, n, sizeof *v, cmp_i32);
    size_t distinct = 0;
    for (size_t k = 0; k < n; k++)
        if (!distinct || v[distinct - 1] != v[k])
            v[distinct++] = v[k];
    *out = v;
    *count = distinct;
    return 0;
}

static bool take_int(const char *s, size_t len, int64_t *out)
{
    char b[24];
    if (!len || len >= sizeof b)
        return false;
    memcpy(b, s, len);
    b[len] = 0;
    char *end;
    long long v = strtoll(b, &end, 10);
    if (*end || v < 0)
        return false;
    *out = v;
    return true;
}

static bool take_str(char *dst, size_t dstsz, const char *s, size_t len)
{
    if (!len || len >= dstsz || memchr(s, 0, len))
        return false;
    memcpy(dst, s, len);
    dst[len] = 0;
    return true;
}

/* One "key value" line of a record into @c; @seen gets a bit per required line. */
static int take_line(instances_claim_t *c, const char *line, size_t len,
                     const char *const topics[INSTANCES__STAGES], int *seen)
{
    const char *sp = memchr(line, ' ', len);
    if (!sp)
        return 0; /* not a line this version knows: skipped */
    size_t klen = (size_t)(sp - line), vlen = len - klen - 1;
    const char *v = sp + 1;
#define KEY_IS(k) (klen == strlen(k) && memcmp(line, k, klen) == 0)
    if (KEY_IS("instance"))
        return take_str(c->instance, sizeof c->instance, v, vlen) ? (*seen |= 1, 0) : -EINVAL;
    if (KEY_IS("http"))
        return take_str(c->http, sizeof c->http, v, vlen) ? (*seen |= 2, 0) : -EINVAL;
    if (KEY_IS("assigned_at"))
        return take_int(v, vlen, &c->assigned_at_ms) ? 0 : -EINVAL;
    if (KEY_IS("at"))
        return take_int(v, vlen, &c->at_ms) ? (*seen |= 4, 0) : -EINVAL;
    for (int st = 0; st < INSTANCES__STAGES; st++) {
        if (!KEY_IS(STAGE_KEYS[st]))
            continue;
        const char *sp2 = memchr(v, ' ', vlen);
        size_t tlen = sp2 ? (size_t)(sp2 - v) : vlen;
        if (tlen != strlen(topics[st]) || memcmp(v, topics[st], tlen) != 0 || c->parts[st])
            return 0; /* another topic (another configuration), or a repeat */
        return sp2 ? parse_parts(sp2 + 1, vlen - tlen - 1, &c->parts[st], &c->part_count[st]) : 0;
    }
#undef KEY_IS
    return 0;
}

int instances_claim_decode(instances_claim_t *c, const void *buf, size_t len,
                           const char *const topics[INSTANCES__STAGES])
{
    *c = (instances_claim_t){0};
    static const char magic[] = "handoffd-instance 1\n";
    const char *s = buf;
    if (len > INSTANCES_RECORD_MAX || len < sizeof magic - 1 ||
        memcmp(s, magic, sizeof magic - 1) != 0)
        return -EINVAL;
    int seen = 0;
    for (size_t i = sizeof magic - 1; i < len;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (s + i)) : len - i;
        int r = take_line(c, s + i, l, topics, &seen);
        if (r < 0)
            return r;
        i += l + 1;
    }
    return seen == 7 ? 0 : -EINVAL; /* instance, http and at are required */
}
