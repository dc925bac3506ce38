/* limits: bounds on input records; a record over them goes to the DLQ. */
#include "section.h"

#include <inttypes.h>

#define CFG(field) offsetof(hf_config_t, field)

static void limits_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                         void *base)
{
    const hf_config_t *cfg = base;
    if (cfg->max_field_bytes <= cfg->max_record_bytes)
        return;
    const yaml_node_t *at = cfgmap_lookup(ctx, map, "max_field_bytes", NULL);
    cfgmap_path_t p = {path, "max_field_bytes", 0};
    cfgmap_error(ctx, at ? at : map, &p, "must not exceed limits.max_record_bytes (%" PRIu32 ")",
                 cfg->max_record_bytes);
}

static const cfgmap_entry_t limits_entries[] = {
    {.key = "max_record_bytes",
     .type = CFGMAP_UINT32,
     .def = "65536",
     .min = 1024,
     .max = 64 << 20,
     .offset = CFG(max_record_bytes),
     .help = "Input records larger than this go to the DLQ."},
    {.key = "max_field_bytes",
     .type = CFGMAP_UINT32,
     .def = "2048",
     .min = 16,
     .max = 64 << 20,
     .offset = CFG(max_field_bytes),
     .help = "Longest string field accepted; at most `max_record_bytes`."},
    {.key = "max_tags",
     .type = CFGMAP_UINT32,
     .def = "32",
     .min = 0,
     .max = 4096,
     .offset = CFG(max_tags),
     .help = "Most tags on a content download."},
};

static const cfgmap_table_t limits_table = CFGMAP_TABLE(limits_entries, limits_check, NULL);

const cfgmap_entry_t config_limits_section = {.key = "limits",
                                              .type = CFGMAP_MAP,
                                              .table = &limits_table,
                                              .help = "Bounds on input records."};
