/* Applying declarative config tables to a libyaml document.  See cfgmap.h. */
#include "cfgmap.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest value quoted back in a message. */
#define QUOTE_MAX 60

/* Tables never have more keys than this (checked by assert). */
#define TABLE_MAX_KEYS 64

/* ---- nodes ---- */

bool cfgmap_spend(cfgmap_ctx_t *ctx, size_t units)
{
    if (ctx->work_exceeded)
        return false;
    ctx->work += units;
    if (ctx->work <= CFGMAP_MAX_WORK)
        return true;
    ctx->work_exceeded = true;
    cfgmap_error_at(ctx, NULL, NULL,
                    "the document is too complex to check (too large, or aliases that expand "
                    "too far)");
    return false;
}

const yaml_node_t *cfgmap_node(const cfgmap_ctx_t *ctx, int index)
{
    if (!ctx->doc)
        return NULL;
    return yaml_document_get_node(ctx->doc, index);
}

const char *cfgmap_scalar(const yaml_node_t *node)
{
    if (!node || node->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)node->data.scalar.value;
}

bool cfgmap_is_null(const yaml_node_t *node)
{
    if (!node || node->type != YAML_SCALAR_NODE)
        return false;
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
        node->data.scalar.style != YAML_ANY_SCALAR_STYLE)
        return false;
    const char *s = (const char *)node->data.scalar.value;
    return node->data.scalar.length == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

const char *cfgmap_kind_name(const yaml_node_t *node)
{
    if (!node)
        return "nothing";
    switch (node->type) {
    case YAML_MAPPING_NODE:
        return "a map";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_SCALAR_NODE:
        return cfgmap_is_null(node) ? "null" : "a string";
    default:
        return "nothing";
    }
}

const yaml_node_t *cfgmap_lookup(const cfgmap_ctx_t *ctx, const yaml_node_t *map, const char *key,
                                 const yaml_node_t **key_node)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = cfgmap_node(ctx, p->key);
        const char *s = cfgmap_scalar(k);
        if (s && strcmp(s, key) == 0) {
            if (key_node)
                *key_node = k;
            return cfgmap_node(ctx, p->value);
        }
    }
    return NULL;
}

const yaml_node_t *cfgmap_item(const cfgmap_ctx_t *ctx, const yaml_node_t *seq, size_t i)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE)
        return NULL;
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (i >= n)
        return NULL;
    return cfgmap_node(ctx, seq->data.sequence.items.start[i]);
}

void *cfgmap_calloc(cfgmap_ctx_t *ctx, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        ctx->oom = true;
    return p;
}

char *cfgmap_strdup(cfgmap_ctx_t *ctx, const char *s)
{
    char *p = strdup(s);
    if (!p)
        ctx->oom = true;
    return p;
}

void cfgmap_error_got(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                      const char *fmt, ...)
{
    hf_buf_t msg = HF_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n >= 0 && hf_buf_reserve(&msg, (size_t)n) == 0) {
        vsnprintf((char *)msg.data, (size_t)n + 1, fmt, ap);
        msg.len = (size_t)n;
    }
    va_end(ap);
    hf_buf_append_str(&msg, ", got ");
    if (node && node->type == YAML_SCALAR_NODE && !cfgmap_is_null(node))
        cfgmap_quote(&msg, cfgmap_scalar(node), QUOTE_MAX);
    else
        hf_buf_append_str(&msg, cfgmap_kind_name(node));
    if (!msg.data)
        ctx->oom = true;
    cfgmap_error(ctx, node, path, "%s", msg.data ? (const char *)msg.data : "");
    hf_buf_free(&msg);
}

char *cfgmap_strdup_scalar(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path)
{
    const char *s = cfgmap_scalar(node);
    if (!s || cfgmap_is_null(node) || !*s) {
        cfgmap_error_got(ctx, node, path, "expected a non-empty string");
        return NULL;
    }
    return cfgmap_strdup(ctx, s);
}

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

/* ---- conversions ---- */

static bool is_symbol_table(const cfgmap_entry_t *e)
{
    return e->type == CFGMAP_SYMBOLS && e->symbols;
}

static void describe_range(hf_buf_t *out, const cfgmap_entry_t *e)
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

static void list_names(hf_buf_t *out, const cfgmap_entry_t *e, const char *quote)
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

/* What a value of @e must look like: "expected integer in [1, 1024]". */
static void expected(hf_buf_t *out, const cfgmap_entry_t *e)
{
    switch (e->type) {
    case CFGMAP_STRING:
        hf_buf_append_str(out, "expected a non-empty string");
        break;
    case CFGMAP_INT32:
    case CFGMAP_UINT32:
        hf_buf_append_str(out, "expected integer in ");
        describe_range(out, e);
        break;
    case CFGMAP_FLOAT:
        hf_buf_append_str(out, "expected a number in ");
        describe_range(out, e);
        break;
    case CFGMAP_INT32S:
        hf_buf_append_str(out, "expected integer in ");
        describe_range(out, e);
        hf_buf_append_str(out, " or a list of them");
        break;
    case CFGMAP_BOOL:
        hf_buf_append_str(out, "expected true or false");
        break;
    case CFGMAP_DURATION:
    case CFGMAP_DURATION32:
        hf_buf_append_str(out, "expected duration (500ms, 30s, 15m, 4h, 14d, 2w) in ");
        describe_range(out, e);
        break;
    case CFGMAP_ENUM:
        hf_buf_append_str(out, "expected ");
        for (size_t i = 0; e->names[i]; i++)
            hf_buf_printf(out, "%s%s", i == 0 ? "" : e->names[i + 1] ? ", " : " or ", e->names[i]);
        break;
    case CFGMAP_GLOBS:
        hf_buf_append_str(out, "expected a pattern or a list of patterns");
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

static void set_string(char **field, char *value)
{
    free(*field);
    *field = value;
}

/* Converts scalar text @s for the scalar types.  False if @s is not acceptable. */
static bool convert_scalar(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const char *s, void *field)
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

static void globs_clear(hf_globs_t *g)
{
    for (size_t i = 0; i < g->count; i++)
        free(g->patterns[i]);
    free(g->patterns);
    g->patterns = NULL;
    g->count = 0;
}

/* A default list of patterns: "gmail.com, *.example". */
static void default_globs(cfgmap_ctx_t *ctx, const char *def, hf_globs_t *globs)
{
    globs_clear(globs);
    size_t count = 0;
    for (const char *p = def; *p; p++)
        count += *p == ',';
    char **patterns = cfgmap_calloc(ctx, count + 1, sizeof(*patterns));
    if (!patterns)
        return;
    globs->patterns = patterns;
    /* each round consumes one pattern and the separator after it */
    for (const char *p = def; *p && globs->count <= count;) {
        size_t n = strcspn(p, ",");
        assert(n > 0);
        if (!(patterns[globs->count] = strndup(p, n))) {
            ctx->oom = true;
            return;
        }
        globs->count++;
        p += n;
        while (*p == ' ' || *p == ',')
            p++;
    }
}

/* Defaults are written in the file's own syntax and converted like a value; a
 * default that does not convert is a bug in the table. */
static void apply_default(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, void *base)
{
    void *field = (char *)base + e->offset;
    if (e->type == CFGMAP_GLOBS) {
        default_globs(ctx, e->def, field);
        return;
    }
    if (e->type == CFGMAP_CUSTOM) {
        /* the parser reads it as it would the same text written plain in the file */
        yaml_node_t node = {.type = YAML_SCALAR_NODE};
        node.data.scalar.value = (yaml_char_t *)e->def;
        node.data.scalar.length = strlen(e->def);
        node.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
        int problems = ctx->problems;
        e->parse(ctx, &node, NULL, field);
        assert(ctx->problems == problems);
        (void)problems;
        return;
    }
    if (e->type == CFGMAP_SYMBOLS) {
        uint32_t mask = 0;
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
                mask |= 1u << v;
            p += n;
            while (*p == ' ' || *p == ',')
                p++;
        }
        *(uint32_t *)field = mask;
        return;
    }
    bool ok = convert_scalar(ctx, e, e->def, field);
    assert(ok);
    (void)ok;
}

/* A scalar or a list of scalars: the nodes to convert, or false (problem recorded). */
static bool scalar_or_list(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                           const cfgmap_path_t *path, size_t *count)
{
    if (node->type == YAML_SCALAR_NODE && !cfgmap_is_null(node)) {
        *count = 1;
        return true;
    }
    if (node->type != YAML_SEQUENCE_NODE) {
        hf_buf_t msg = HF_BUF_INIT;
        expected(&msg, e);
        cfgmap_error_got(ctx, node, path, "%s", msg.data ? (char *)msg.data : "");
        hf_buf_free(&msg);
        return false;
    }
    *count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (*count == 0 && !(e->flags & CFGMAP_ALLOW_EMPTY)) {
        cfgmap_error(ctx, node, path, "expected at least one %s",
                     e->type == CFGMAP_GLOBS    ? "pattern"
                     : e->type == CFGMAP_INT32S ? "integer"
                                                : e->symbols->noun);
        return false;
    }
    return true;
}

static const yaml_node_t *element(const cfgmap_ctx_t *ctx, const yaml_node_t *node, size_t i)
{
    return node->type == YAML_SEQUENCE_NODE ? cfgmap_item(ctx, node, i) : node;
}

static void apply_globs(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                        const cfgmap_path_t *path, hf_globs_t *globs)
{
    size_t count;
    if (!scalar_or_list(ctx, e, node, path, &count))
        return;
    if (!(e->flags & CFGMAP_APPEND))
        globs_clear(globs);
    if (count == 0)
        return;
    char **patterns = cfgmap_calloc(ctx, globs->count + count, sizeof(*patterns));
    if (!patterns)
        return;
    /* the patterns already there move to the new array, in front */
    size_t n = globs->count;
    if (n)
        memcpy(patterns, globs->patterns, n * sizeof(*patterns));
    free(globs->patterns);
    globs->patterns = patterns;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = element(ctx, node, i);
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = node->type == YAML_SEQUENCE_NODE ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        if (!s || cfgmap_is_null(item) || !*s) {
            cfgmap_error_got(ctx, item, where, "expected a pattern (a non-empty string)");
            continue;
        }
        if (!(patterns[n] = cfgmap_strdup(ctx, s)))
            break;
        globs->count = ++n;
    }
}

static void apply_int32s(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                         const cfgmap_path_t *path, void *base)
{
    int32_t **field = (int32_t **)((char *)base + e->offset);
    size_t *count_field = (size_t *)((char *)base + e->count_offset);
    size_t count;
    if (!scalar_or_list(ctx, e, node, path, &count))
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
        const yaml_node_t *item = element(ctx, node, i);
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = node->type == YAML_SEQUENCE_NODE ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        int64_t v;
        if (!s || cfgmap_is_null(item) || cfgmap_int_parse(s, &v) < 0 || v < e->min || v > e->max) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_append_str(&msg, "expected integer in ");
            describe_range(&msg, e);
            cfgmap_error_got(ctx, item, where, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        values[(*count_field)++] = (int32_t)v;
    }
}

static void apply_symbols(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                          const cfgmap_path_t *path, uint32_t *mask)
{
    size_t count;
    if (!scalar_or_list(ctx, e, node, path, &count))
        return;
    uint32_t m = 0;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = element(ctx, node, i);
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = node->type == YAML_SEQUENCE_NODE ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        int v = s && !cfgmap_is_null(item) ? e->symbols->parse(s) : -1;
        if (v < 0 || v >= 32) {
            hf_buf_t msg = HF_BUF_INIT;
            hf_buf_printf(&msg, "unknown %s ", e->symbols->noun);
            if (s && !cfgmap_is_null(item))
                cfgmap_quote(&msg, s, QUOTE_MAX);
            else
                hf_buf_append_str(&msg, cfgmap_kind_name(item));
            hf_buf_append_str(&msg, "; allowed: ");
            list_names(&msg, e, "");
            cfgmap_error(ctx, item, where, "%s", msg.data ? (char *)msg.data : "");
            hf_buf_free(&msg);
            continue;
        }
        m |= 1u << v;
    }
    *mask = m;
}

/* The array of @count items of a CFGMAP_LIST or CFGMAP_NAMED entry (NULL for none or
 * out of memory).  It is handed to its owner before the items are filled, so
 * whatever an item allocated is freed with the rest even when a later item fails. */
static char *items_for(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, size_t count, void *base)
{
    char *array = count ? cfgmap_calloc(ctx, count, e->elem_size) : NULL;
    if (array)
        memcpy((char *)base + e->offset, &array, sizeof(array));
    return array;
}

static void apply_list(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                       const cfgmap_path_t *path, void *base)
{
    if (cfgmap_is_null(node))
        return; /* "rules:" with every item commented out: an empty list */
    if (node->type != YAML_SEQUENCE_NODE) {
        cfgmap_error_got(ctx, node, path, "expected a list");
        return;
    }
    size_t count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    char *array = items_for(ctx, e, count, base);
    if (!array)
        return;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = cfgmap_item(ctx, node, i);
        cfgmap_path_t item_path = {path, NULL, i};
        *(size_t *)((char *)base + e->count_offset) = i + 1;
        if (!item || (item->type != YAML_MAPPING_NODE)) {
            cfgmap_error_got(ctx, item, &item_path, "expected a map");
            cfgmap_apply(ctx, e->table, NULL, &item_path, array + i * e->elem_size);
            continue;
        }
        cfgmap_apply(ctx, e->table, item, &item_path, array + i * e->elem_size);
    }
}

/* The struct a CFGMAP_DEREF entry fills. */
static void *deref(const cfgmap_entry_t *e, void *base)
{
    void *target;
    memcpy(&target, (char *)base + e->deref_offset, sizeof(target));
    return target;
}

/* A map of names to maps: one element per name, in the file's order.  A name that
 * is invalid or repeated is reported and skipped. */
static void apply_named(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                        const cfgmap_path_t *path, void *base)
{
    if (cfgmap_is_null(node))
        return; /* every entry commented out: none */
    if (node->type != YAML_MAPPING_NODE) {
        cfgmap_error_got(ctx, node, path, "expected a map of names to maps");
        return;
    }
    size_t count = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    char *array = items_for(ctx, e, count, base);
    if (!array)
        return;
    size_t *count_field = (size_t *)((char *)base + e->count_offset);
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        const yaml_node_t *key = cfgmap_node(ctx, pair->key);
        const yaml_node_t *value = cfgmap_node(ctx, pair->value);
        const char *name = cfgmap_scalar(key);
        if (!name || cfgmap_is_null(key) || !*name) {
            cfgmap_error_got(ctx, key, path, "expected a name");
            continue;
        }
        cfgmap_path_t at = {path, name, 0};
        const char *why = e->valid ? e->valid(name) : NULL;
        if (why) {
            cfgmap_error_got(ctx, key, &at, "%s", why);
            continue;
        }
        if (!cfgmap_spend(ctx, i))
            return;
        size_t seen = 0;
        while (seen < i) {
            const char *other =
                cfgmap_scalar(cfgmap_node(ctx, node->data.mapping.pairs.start[seen].key));
            if (other && strcmp(other, name) == 0)
                break;
            seen++;
        }
        if (seen < i) {
            const yaml_node_t *first = cfgmap_node(ctx, node->data.mapping.pairs.start[seen].key);
            cfgmap_error(ctx, key, &at, "duplicate key \"%s\" (first at line %zu)", name,
                         first->start_mark.line + 1);
            continue;
        }
        char *elem = array + *count_field * e->elem_size;
        char *copy = cfgmap_strdup(ctx, name);
        if (!copy)
            return;
        memcpy(elem + e->name_offset, &copy, sizeof(copy));
        (*count_field)++;
        if (!value || value->type != YAML_MAPPING_NODE) {
            cfgmap_error_got(ctx, value, &at, "expected a map");
            cfgmap_apply(ctx, e->table, NULL, &at, elem);
            continue;
        }
        cfgmap_apply(ctx, e->table, value, &at, elem);
    }
}

static void apply_value(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                        const cfgmap_path_t *path, void *base)
{
    void *field = (char *)base + e->offset;
    switch (e->type) {
    case CFGMAP_STRING:
    case CFGMAP_INT32:
    case CFGMAP_UINT32:
    case CFGMAP_FLOAT:
    case CFGMAP_BOOL:
    case CFGMAP_DURATION:
    case CFGMAP_DURATION32:
    case CFGMAP_ENUM: {
        const char *s = cfgmap_scalar(node);
        if (s && !cfgmap_is_null(node) && e->valid && e->type == CFGMAP_STRING) {
            const char *why = e->valid(s);
            if (why) {
                cfgmap_error_got(ctx, node, path, "%s", why);
                return;
            }
        }
        if (s && !cfgmap_is_null(node) && convert_scalar(ctx, e, s, field))
            return;
        hf_buf_t msg = HF_BUF_INIT;
        expected(&msg, e);
        cfgmap_error_got(ctx, node, path, "%s", msg.data ? (char *)msg.data : "");
        hf_buf_free(&msg);
        return;
    }
    case CFGMAP_GLOBS:
        apply_globs(ctx, e, node, path, field);
        return;
    case CFGMAP_SYMBOLS:
        apply_symbols(ctx, e, node, path, field);
        return;
    case CFGMAP_INT32S:
        apply_int32s(ctx, e, node, path, base);
        return;
    case CFGMAP_MAP: {
        void *sub = field;
        if (e->flags & CFGMAP_DEREF)
            sub = (char *)deref(e, base) + e->offset;
        if (node->type != YAML_MAPPING_NODE && !cfgmap_is_null(node)) {
            cfgmap_error_got(ctx, node, path, "expected a map");
            cfgmap_apply(ctx, e->table, NULL, path, sub);
            return;
        }
        cfgmap_apply(ctx, e->table, node, path, sub);
        return;
    }
    case CFGMAP_LIST:
        apply_list(ctx, e, node, path, e->flags & CFGMAP_DEREF ? deref(e, base) : base);
        return;
    case CFGMAP_NAMED:
        apply_named(ctx, e, node, path, e->flags & CFGMAP_DEREF ? deref(e, base) : base);
        return;
    case CFGMAP_CUSTOM:
        e->parse(ctx, node, path, field);
        return;
    }
}

/* Edit distance of two short strings, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return SIZE_MAX;
    size_t row[33];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void unknown_key(cfgmap_ctx_t *ctx, const cfgmap_table_t *table, const yaml_node_t *key,
                        const cfgmap_path_t *path)
{
    const char *name = cfgmap_scalar(key);
    hf_buf_t msg = HF_BUF_INIT;
    hf_buf_append_str(&msg, "unknown key ");
    cfgmap_quote(&msg, name, QUOTE_MAX);
    const char *best = NULL;
    size_t best_distance = 3; /* suggest only close misspellings */
    for (size_t i = 0; i < table->count; i++) {
        size_t d = distance(name, table->entries[i].key);
        if (d < best_distance) {
            best_distance = d;
            best = table->entries[i].key;
        }
    }
    if (best)
        hf_buf_printf(&msg, " (did you mean \"%s\"?)", best);
    hf_buf_append_str(&msg, "; allowed: ");
    for (size_t i = 0; i < table->count; i++)
        hf_buf_printf(&msg, "%s%s", i ? ", " : "", table->entries[i].key);
    cfgmap_error(ctx, key, path, "%s", msg.data ? (char *)msg.data : "");
    hf_buf_free(&msg);
}

void cfgmap_apply(cfgmap_ctx_t *ctx, const cfgmap_table_t *table, const yaml_node_t *map,
                  const cfgmap_path_t *path, void *base)
{
    assert(table->count <= TABLE_MAX_KEYS);
    for (size_t i = 0; i < table->count; i++)
        if (table->entries[i].def)
            apply_default(ctx, &table->entries[i], base);

    const yaml_node_t *values[TABLE_MAX_KEYS] = {0};
    const yaml_node_t *keys[TABLE_MAX_KEYS] = {0};
    if (map && map->type == YAML_MAPPING_NODE && cfgmap_visit(ctx)) {
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
            if (!cfgmap_visit(ctx))
                return;
            const yaml_node_t *key = cfgmap_node(ctx, p->key);
            const char *name = cfgmap_scalar(key);
            if (!name || cfgmap_is_null(key)) {
                cfgmap_error_got(ctx, key, path, "expected a key (a string)");
                continue;
            }
            size_t i = 0;
            while (i < table->count && strcmp(table->entries[i].key, name) != 0)
                i++;
            if (i == table->count) {
                /* The message is about the key; its value may be a misplaced secret
                 * (a kafka property indented one level too little). */
                const yaml_node_t *value = cfgmap_node(ctx, p->value);
                if (value)
                    cfgmap_hide(ctx, &value->start_mark, &value->end_mark);
                unknown_key(ctx, table, key, path);
                continue;
            }
            if (keys[i]) {
                cfgmap_path_t at = {path, table->entries[i].key, 0};
                cfgmap_error(ctx, key, &at, "duplicate key \"%s\" (first at line %zu)", name,
                             keys[i]->start_mark.line + 1);
                continue;
            }
            keys[i] = key;
            values[i] = cfgmap_node(ctx, p->value);
        }
    }

    for (size_t i = 0; i < table->count && !ctx->work_exceeded; i++) {
        const cfgmap_entry_t *e = &table->entries[i];
        cfgmap_path_t child = {path, e->key, 0};
        if (values[i]) {
            apply_value(ctx, e, values[i], &child, base);
        } else if (e->flags & CFGMAP_REQUIRED) {
            if (map)
                cfgmap_error(ctx, map, path, "missing required key \"%s\"", e->key);
        } else if (e->type == CFGMAP_MAP) {
            /* absent: its defaults and checks still apply */
            void *sub = (char *)(e->flags & CFGMAP_DEREF ? deref(e, base) : base) + e->offset;
            cfgmap_apply(ctx, e->table, NULL, &child, sub);
        }
    }
    if (table->check && !ctx->work_exceeded)
        table->check(ctx, map, path, base);
}

/* ---- reference ---- */

static void describe_type(hf_buf_t *out, const cfgmap_entry_t *e)
{
    if (e->doc_type) {
        hf_buf_append_str(out, e->doc_type);
        return;
    }
    switch (e->type) {
    case CFGMAP_STRING:
        hf_buf_append_str(out, "string");
        break;
    case CFGMAP_INT32:
    case CFGMAP_UINT32:
        hf_buf_append_str(out, "integer in ");
        describe_range(out, e);
        break;
    case CFGMAP_FLOAT:
        hf_buf_append_str(out, "number in ");
        describe_range(out, e);
        break;
    case CFGMAP_INT32S:
        hf_buf_append_str(out, "integer or list of integers in ");
        describe_range(out, e);
        break;
    case CFGMAP_BOOL:
        hf_buf_append_str(out, "boolean");
        break;
    case CFGMAP_DURATION:
    case CFGMAP_DURATION32:
        hf_buf_append_str(out, "duration in ");
        describe_range(out, e);
        break;
    case CFGMAP_ENUM:
        hf_buf_append_str(out, "one of ");
        list_names(out, e, "`");
        break;
    case CFGMAP_GLOBS:
        hf_buf_append_str(out, "pattern or list of patterns");
        break;
    case CFGMAP_SYMBOLS:
        hf_buf_printf(out, "%s or list of them: ", e->symbols->noun);
        list_names(out, e, "`");
        break;
    case CFGMAP_MAP:
        hf_buf_append_str(out, "map");
        break;
    case CFGMAP_LIST:
        hf_buf_append_str(out, "list of maps");
        break;
    case CFGMAP_NAMED:
        hf_buf_append_str(out, "map of names to maps");
        break;
    case CFGMAP_CUSTOM:
        hf_buf_append_str(out, "value");
        break;
    }
}

static void describe_rows(hf_buf_t *out, const cfgmap_table_t *table, const char *prefix)
{
    for (size_t i = 0; i < table->count; i++) {
        const cfgmap_entry_t *e = &table->entries[i];
        hf_buf_t key = HF_BUF_INIT;
        hf_buf_printf(&key, "%s%s%s", prefix, *prefix ? "." : "", e->key);
        hf_buf_printf(out, "| `%s` | ", key.data ? (char *)key.data : "");
        describe_type(out, e);
        if (e->def)
            hf_buf_printf(out, " | `%s` | ", e->def);
        else
            hf_buf_append_str(out, e->flags & CFGMAP_REQUIRED ? " | required | " : " | | ");
        hf_buf_printf(out, "%s |\n", e->help ? e->help : "");
        if (e->type == CFGMAP_MAP && key.data)
            describe_rows(out, e->table, (char *)key.data);
        if (e->type == CFGMAP_LIST && key.data) {
            hf_buf_append_str(&key, "[]");
            describe_rows(out, e->table, (char *)key.data);
        }
        if (e->type == CFGMAP_NAMED && key.data) {
            hf_buf_append_str(&key, ".<name>");
            describe_rows(out, e->table, (char *)key.data);
        }
        hf_buf_free(&key);
    }
}

void cfgmap_describe(hf_buf_t *out, const cfgmap_table_t *table, const char *prefix)
{
    for (size_t i = 0; i < table->count; i++) {
        const cfgmap_entry_t *e = &table->entries[i];
        if (e->type != CFGMAP_MAP) {
            hf_buf_t key = HF_BUF_INIT;
            hf_buf_printf(&key, "%s%s%s", prefix, *prefix ? "." : "", e->key);
            hf_buf_printf(out,
                          "### `%s`\n\n| key | type | default | meaning |\n|---|---|---|---|\n",
                          key.data ? (char *)key.data : "");
            hf_buf_free(&key);
            describe_rows(out, &(cfgmap_table_t){e, 1, NULL, NULL}, prefix);
            hf_buf_append_str(out, "\n");
            continue;
        }
        hf_buf_printf(out, "### `%s`\n\n", e->key);
        if (e->help)
            hf_buf_printf(out, "%s\n\n", e->help);
        hf_buf_append_str(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
        describe_rows(out, e->table, e->key);
        hf_buf_append_str(out, "\n");
    }
}
