/* Helpers of the section files: names, uniqueness, cross-key bounds, positions of
 * problems.  See section.h. */
#include "section.h"

#include <string.h>

hf_rules_t *config_section_rules(cfgmap_ctx_t *ctx)
{
    return ((hf_config_t *)ctx->user)->rules;
}

const char *config_section_valid_name(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return "expected a name of letters, digits, '_', '-' and '.'";
    }
    return n > 64 ? "expected a name of at most 64 characters" : NULL;
}

bool config_section_has_any_key(const yaml_node_t *map)
{
    return map && map->type == YAML_MAPPING_NODE &&
           map->data.mapping.pairs.top > map->data.mapping.pairs.start;
}

void config_section_no_condition(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                 const cfgmap_path_t *path, const cfgmap_table_t *table)
{
    hf_buf_t keys = HF_BUF_INIT;
    for (size_t i = 0; i < table->count; i++)
        hf_buf_printf(&keys, "%s%s", i ? ", " : "", table->entries[i].key);
    cfgmap_error(ctx, map, path, "expected at least one condition; allowed: %s",
                 keys.data ? (char *)keys.data : "");
    hf_buf_free(&keys);
}

void config_section_unique_values(cfgmap_ctx_t *ctx, const yaml_node_t *list,
                                  const cfgmap_path_t *path, const void *array, size_t count,
                                  size_t stride, size_t offset, const char *key, const char *noun)
{
    const char *base = array;
    for (size_t j = 1; j < count && cfgmap_spend(ctx, j); j++) {
        const char *b = *(char *const *)(base + j * stride + offset);
        for (size_t i = 0; b && i < j; i++) {
            const char *a = *(char *const *)(base + i * stride + offset);
            if (!a || strcmp(a, b) != 0)
                continue;
            cfgmap_path_t item = {path, NULL, j};
            cfgmap_path_t at = {&item, key, 0};
            const yaml_node_t *node = cfgmap_lookup(ctx, cfgmap_item(ctx, list, j), key, NULL);
            cfgmap_error(ctx, node, &at, "duplicate %s \"%s\" (also item [%zu])", noun, b, i);
            break;
        }
    }
}

void config_section_unique_names(cfgmap_ctx_t *ctx, const yaml_node_t *list,
                                 const cfgmap_path_t *path, const void *array, size_t count,
                                 size_t stride, size_t name_offset)
{
    config_section_unique_values(ctx, list, path, array, count, stride, name_offset, "name",
                                 "name");
}

const yaml_node_t *config_section_doc_node(cfgmap_ctx_t *ctx, const char *section, const char *key)
{
    if (!ctx->doc)
        return NULL;
    const yaml_node_t *root = yaml_document_get_root_node(ctx->doc);
    return cfgmap_lookup(ctx, cfgmap_lookup(ctx, root, section, NULL), key, NULL);
}

void config_section_bound_check(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                const cfgmap_path_t *path, const char *limit_key, uint32_t limit,
                                const char *key, uint32_t value)
{
    if (limit <= value)
        return;
    hf_buf_t where = HF_BUF_INIT, msg = HF_BUF_INIT;
    cfgmap_path_format(&where, path);
    const char *section = where.data ? (char *)where.data : "";
    const yaml_node_t *at = cfgmap_lookup(ctx, map, limit_key, NULL);
    cfgmap_path_t p = {path, at ? limit_key : key, 0};
    if (at) {
        hf_buf_printf(&msg, "must not exceed %s.%s (%u)", section, key, (unsigned)value);
    } else {
        at = cfgmap_lookup(ctx, map, key, NULL);
        hf_buf_printf(&msg, "is below %s.%s (%u, its default)", section, limit_key,
                      (unsigned)limit);
    }
    cfgmap_error(ctx, at ? at : map, &p, "%s", msg.data ? (char *)msg.data : "");
    hf_buf_free(&msg);
    hf_buf_free(&where);
}

void config_section_error_at_key(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                 const cfgmap_path_t *path, const char *key, const char *message)
{
    cfgmap_path_t p = {path, key, 0};
    const yaml_node_t *at = cfgmap_lookup(ctx, map, key, NULL);
    cfgmap_error(ctx, at ? at : map, &p, "%s", message);
}
