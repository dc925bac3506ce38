/* Walking a libyaml document against declarative config tables: defaults, keys
 * present, unknown and repeated keys, nested maps, lists of maps and maps of names,
 * then each table's check; access to the document's nodes.  See cfgmap.h. */
#include "cfgmap_priv.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Tables never have more keys than this (checked by assert). */
#define TABLE_MAX_KEYS 64

/* ---- nodes ---- */

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

char *cfgmap_strdup_scalar(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path)
{
    const char *s = cfgmap_scalar(node);
    if (!s || cfgmap_is_null(node) || !*s) {
        cfgmap_error_got(ctx, node, path, "expected a non-empty string");
        return NULL;
    }
    return cfgmap_strdup(ctx, s);
}

/* ---- walking ---- */

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

/* Defaults are written in the file's own syntax and converted like a value; a
 * default that does not convert is a bug in the table. */
static void apply_default(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, void *base)
{
    void *field = (char *)base + e->offset;
    int problems = ctx->problems;
    if (e->type == CFGMAP_CUSTOM && e->set_default) {
        e->set_default(ctx, e, field);
    } else if (e->type == CFGMAP_CUSTOM) {
        /* the parser reads it as it would the same text written plain in the file */
        yaml_node_t node = {.type = YAML_SCALAR_NODE};
        node.data.scalar.value = (yaml_char_t *)e->def;
        node.data.scalar.length = strlen(e->def);
        node.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
        e->parse(ctx, e, &node, NULL, field);
    } else if (e->type == CFGMAP_SYMBOLS) {
        cfgmap_default_symbols(e, field);
    } else {
        bool ok = cfgmap_convert_scalar(ctx, e, e->def, field);
        assert(ok);
        (void)ok;
    }
    assert(ctx->problems == problems);
    (void)problems;
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
        if (s && !cfgmap_is_null(node) && cfgmap_convert_scalar(ctx, e, s, field))
            return;
        hf_buf_t msg = HF_BUF_INIT;
        cfgmap_expected(&msg, e);
        cfgmap_error_got(ctx, node, path, "%s", msg.data ? (char *)msg.data : "");
        hf_buf_free(&msg);
        return;
    }
    case CFGMAP_SYMBOLS:
        cfgmap_apply_symbols(ctx, e, node, path, field);
        return;
    case CFGMAP_INT32S:
        cfgmap_apply_int32s(ctx, e, node, path, base);
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
        e->parse(ctx, e, node, path, field);
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
    cfgmap_quote(&msg, name, CFGMAP_QUOTE_MAX);
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
                 * (a password indented one level too little). */
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
