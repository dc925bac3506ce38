/* Values of the engine's own types: numbers, durations, booleans, names of a closed
 * set, and lists of them; the messages that say what a value must look like.  See
 * cfgmap.h. */
#include "cfgmap_priv.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- numbers and durations ---- */

int cfgmap_int_parse(const char *s, int64_t *out)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!*s)
        return -EINVAL;
    uint64_t v = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*s - '0');
        if (v > (limit - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* Digits kept exactly by a double. */
#define FLOAT_DIGITS_MAX 15

int cfgmap_float_parse(const char *s, double *out)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    /* The digits make an integer mantissa divided once by a power of ten (exact up
     * to 1e22), so "0.1" is the double nearest 0.1 whatever the locale's decimal
     * point, which strtod() would follow. */
    int64_t mantissa = 0;
    int significant = 0, before = 0, after = 0;
    bool point = false;
    for (; *s; s++) {
        if (*s == '.' && !point) {
            point = true;
            continue;
        }
        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (point)
            after++;
        else
            before++;
        if ((mantissa > 0 || *s != '0') && ++significant > FLOAT_DIGITS_MAX)
            return -ERANGE;
        mantissa = mantissa * 10 + (*s - '0');
    }
    if (before == 0 || (point && after == 0))
        return -EINVAL;
    if (after > 22)
        return -ERANGE;
    double scale = 1;
    for (int i = 0; i < after; i++)
        scale *= 10;
    double v = (double)mantissa / scale;
    *out = neg ? -v : v;
    return 0;
}

static const struct {
    const char *suffix;
    int64_t ms;
} duration_units[] = {
    /* longest suffix first where one is a prefix of another ("ms" before "m") */
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 3600 * 1000},
    {"d", 24 * 3600 * 1000},
    {"w", 7 * 24 * 3600 * 1000},
};

int cfgmap_duration_parse(const char *s, int64_t *out_ms)
{
    if (!*s)
        return -EINVAL;
    int64_t v;
    if (cfgmap_int_parse(s, &v) == 0) { /* bare integer: milliseconds */
        if (v < 0)
            return -ERANGE;
        *out_ms = v;
        return 0;
    }
    int64_t total = 0;
    /* Each round consumes at least one digit and one unit letter. */
    while (*s) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        int64_t n = 0;
        while (*s >= '0' && *s <= '9') {
            if (n > (INT64_MAX - (*s - '0')) / 10)
                return -ERANGE;
            n = n * 10 + (*s - '0');
            s++;
        }
        size_t u = 0;
        size_t unit_count = sizeof(duration_units) / sizeof(duration_units[0]);
        for (; u < unit_count; u++) {
            size_t l = strlen(duration_units[u].suffix);
            if (strncmp(s, duration_units[u].suffix, l) == 0 &&
                !(s[l] >= 'a' && s[l] <= 'z')) /* "m" must not eat "mo" */
                break;
        }
        if (u == unit_count)
            return -EINVAL;
        s += strlen(duration_units[u].suffix);
        if (n > INT64_MAX / duration_units[u].ms)
            return -ERANGE;
        int64_t add = n * duration_units[u].ms;
        if (total > INT64_MAX - add)
            return -ERANGE;
        total += add;
    }
    *out_ms = total;
    return 0;
}

void cfgmap_duration_format(hf_buf_t *out, int64_t ms)
{
    if (ms == 0) {
        hf_buf_append_str(out, "0");
        return;
    }
    size_t u = sizeof(duration_units) / sizeof(duration_units[0]);
    while (u-- > 1)
        if (ms % duration_units[u].ms == 0)
            break;
    hf_buf_printf(out, "%lld%s", (long long)(ms / duration_units[u].ms), duration_units[u].suffix);
}

/* ---- messages ---- */

static bool is_symbol_table(const cfgmap_entry_t *e)
{
    return e->type == CFGMAP_SYMBOLS && e->symbols;
}

void cfgmap_range_format(hf_buf_t *out, const cfgmap_entry_t *e)
{
    if (e->type == CFGMAP_FLOAT && (e->flags & CFGMAP_MIN_EXCLUSIVE)) {
        hf_buf_printf(out, "(%lld, %lld]", (long long)e->min, (long long)e->max);
    } else if (e->type == CFGMAP_DURATION || e->type == CFGMAP_DURATION32) {
        hf_buf_append_str(out, "[");
        cfgmap_duration_format(out, e->min);
        hf_buf_append_str(out, ", ");
        cfgmap_duration_format(out, e->max);
        hf_buf_append_str(out, "]");
    } else {
        hf_buf_printf(out, "[%lld, %lld]", (long long)e->min, (long long)e->max);
    }
}

void cfgmap_names_format(hf_buf_t *out, const cfgmap_entry_t *e, const char *quote)
{
    if (e->type == CFGMAP_ENUM) {
        for (size_t i = 0; e->names[i]; i++)
            hf_buf_printf(out, "%s%s%s%s", i ? ", " : "", quote, e->names[i], quote);
        return;
    }
    assert(is_symbol_table(e));
    for (int i = 0; i < e->symbols->count; i++)
        hf_buf_printf(out, "%s%s%s%s", i ? ", " : "", quote, e->symbols->name(i), quote);
}

void cfgmap_expected(hf_buf_t *out, const cfgmap_entry_t *e)
{
    switch (e->type) {
    case CFGMAP_STRING:
        hf_buf_append_str(out, "expected a non-empty string");
        break;
    case CFGMAP_INT32:
    case CFGMAP_UINT32:
        hf_buf_append_str(out, "expected integer in ");
        cfgmap_range_format(out, e);
        break;
    case CFGMAP_FLOAT:
        hf_buf_append_str(out, "expected a number in ");
        cfgmap_range_format(out, e);
        break;
    case CFGMAP_INT32S:
        hf_buf_append_str(out, "expected integer in ");
        cfgmap_range_format(out, e);
        hf_buf_append_str(out, " or a list of them");
        break;
    case CFGMAP_BOOL:
        hf_buf_append_str(out, "expected true or false");
        break;
    case CFGMAP_DURATION:
    case CFGMAP_DURATION32:
        hf_buf_append_str(out, "expected duration (500ms, 30s, 15m, 4h, 14d, 2w) in ");
        cfgmap_range_format(out, e);
        break;
    case CFGMAP_ENUM:
        hf_buf_append_str(out, "expected ");
        for (size_t i = 0; e->names[i]; i++)
            hf_buf_printf(out, "%s%s", i == 0 ? "" : e->names[i + 1] ? ", " : " or ", e->names[i]);
        break;
    case CFGMAP_SYMBOLS:
        hf_buf_printf(out, "expected a %s or a list of them", e->symbols->noun);
        break;
    case CFGMAP_MAP:
        hf_buf_append_str(out, "expected a map");
        break;
    case CFGMAP_LIST:
        hf_buf_append_str(out, "expected a list");
        break;
    case CFGMAP_NAMED:
        hf_buf_append_str(out, "expected a map of names to maps");
        break;
    case CFGMAP_CUSTOM:
        hf_buf_printf(out, "expected %s", e->doc_type ? e->doc_type : "a value");
        break;
    }
}

/* ---- scalars ---- */

static void set_string(char **field, char *value)
{
    free(*field);
    *field = value;
}

bool cfgmap_convert_scalar(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const char *s, void *field)
{
    int64_t v;
    switch (e->type) {
    case CFGMAP_STRING: {
        if (!*s)
            return false;
        char *copy = cfgmap_strdup(ctx, s);
        if (copy)
            set_string(field, copy);
        return true;
    }
    case CFGMAP_INT32:
    case CFGMAP_UINT32:
        if (cfgmap_int_parse(s, &v) < 0 || v < e->min || v > e->max)
            return false;
        if (e->type == CFGMAP_INT32)
            *(int32_t *)field = (int32_t)v;
        else
            *(uint32_t *)field = (uint32_t)v;
        return true;
    case CFGMAP_FLOAT: {
        double d;
        if (cfgmap_float_parse(s, &d) < 0 || d > (double)e->max || d < (double)e->min ||
            ((e->flags & CFGMAP_MIN_EXCLUSIVE) && d == (double)e->min))
            return false;
        *(float *)field = (float)d;
        return true;
    }
    case CFGMAP_BOOL:
        if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) {
            *(bool *)field = true;
            return true;
        }
        if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) {
            *(bool *)field = false;
            return true;
        }
        return false;
    case CFGMAP_DURATION:
    case CFGMAP_DURATION32:
        if (cfgmap_duration_parse(s, &v) < 0 || v < e->min || v > e->max)
            return false;
        if (e->type == CFGMAP_DURATION)
            *(int64_t *)field = v;
        else
            *(int32_t *)field = (int32_t)v;
        return true;
    case CFGMAP_ENUM:
        for (int i = 0; e->names[i]; i++) {
            if (strcmp(s, e->names[i]) == 0) {
                *(int *)field = i;
                return true;
            }
        }
        return false;
    default:
        assert(!"not a scalar type");
        return false;
    }
}

/* ---- one value or a list ---- */

bool cfgmap_scalar_or_list(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                           const char *expected, const char *noun, bool allow_empty, size_t *count)
{
    if (node->type == YAML_SCALAR_NODE && !cfgmap_is_null(node)) {
        *count = 1;
        return true;
    }
    if (node->type != YAML_SEQUENCE_NODE) {
        cfgmap_error_got(ctx, node, path, "%s", expected);
        return false;
    }
    *count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (*count == 0 && !allow_empty) {
        cfgmap_error(ctx, node, path, "expected at least one %s", noun);
        return false;
    }
    return true;
}

const yaml_node_t *cfgmap_element(const cfgmap_ctx_t *ctx, const yaml_node_t *node, size_t i)
{
    return node->type == YAML_SEQUENCE_NODE ? cfgmap_item(ctx, node, i) : node;
}

/* cfgmap_scalar_or_list() for an INT32S or SYMBOLS entry. */
static bool entry_values(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                         const cfgmap_path_t *path, size_t *count)
{
    hf_buf_t msg = HF_BUF_INIT;
    cfgmap_expected(&msg, e);
    bool ok = cfgmap_scalar_or_list(ctx, node, path, msg.data ? (char *)msg.data : "",
                                    e->type == CFGMAP_INT32S ? "integer" : e->symbols->noun,
                                    e->flags & CFGMAP_ALLOW_EMPTY, count);
    hf_buf_free(&msg);
    return ok;
}

void cfgmap_apply_int32s(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                         const cfgmap_path_t *path, void *base)
{
    int32_t **field = (int32_t **)((char *)base + e->offset);
    size_t *count_field = (size_t *)((char *)base + e->count_offset);
    size_t count;
    if (!entry_values(ctx, e, node, path, &count))
        return;
    free(*field);
    *field = NULL;
    *count_field = 0;
    if (count == 0)
        return;
    int32_t *values = cfgmap_calloc(ctx, count, sizeof(*values));
    if (!values)
        return;
    *field = values;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = cfgmap_element(ctx, node, i);
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = node->type == YAML_SEQUENCE_NODE ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        int64_t v;
        if (!s || cfgmap_is_null(item) || cfgmap_int_parse(s, &v) < 0 || v < e->min || v > e->max) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_append_str(&msg, "expected integer in ");
            cfgmap_range_format(&msg, e);
            cfgmap_error_got(ctx, item, where, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        values[(*count_field)++] = (int32_t)v;
    }
}

void cfgmap_apply_symbols(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                          const cfgmap_path_t *path, uint32_t *mask)
{
    size_t count;
    if (!entry_values(ctx, e, node, path, &count))
        return;
    uint32_t m = 0;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = cfgmap_element(ctx, node, i);
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = node->type == YAML_SEQUENCE_NODE ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        int v = s && !cfgmap_is_null(item) ? e->symbols->parse(s) : -1;
        if (v < 0 || v >= 32) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_printf(&msg, "unknown %s ", e->symbols->noun);
            if (s && !cfgmap_is_null(item))
                cfgmap_quote(&msg, s, CFGMAP_QUOTE_MAX);
            else
                hf_buf_append_str(&msg, cfgmap_kind_name(item));
            hf_buf_append_str(&msg, "; allowed: ");
            cfgmap_names_format(&msg, e, "");
            cfgmap_error(ctx, item, where, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        m |= 1u << v;
    }
    *mask = m;
}

void cfgmap_default_symbols(const cfgmap_entry_t *e, uint32_t *mask)
{
    uint32_t m = 0;
    char name[64];
    const char *p = e->def;
    /* comma-separated names; each round consumes one name and its comma */
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        assert(n > 0 && n < sizeof(name));
        memcpy(name, p, n);
        name[n] = 0;
        int v = e->symbols->parse(name);
        assert(v >= 0 && v < 32);
        if (v >= 0 && v < 32)
            m |= 1u << v;
        p += n;
        while (*p == ' ' || *p == ',')
            p++;
    }
    *mask = m;
}
