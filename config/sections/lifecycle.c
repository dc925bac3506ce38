/* lifecycle: the stage thresholds (a known contact becomes engaged), and what an
 * identify does to a disqualified contact. */
#include "section.h"

#define RULES(field) offsetof(hf_rules_t, field)

static void lifecycle_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                            void *base)
{
    const hf_rules_t *r = base;
    if (r->lifecycle.engaged_score <= r->scoring.max_score)
        return;
    cfgmap_path_t p = {path, "engaged_score", 0};
    const yaml_node_t *at = cfgmap_lookup(ctx, map, "engaged_score", NULL);
    if (at) {
        cfgmap_error(ctx, at, &p, "is above scoring.max (%d): no contact would become engaged",
                     (int)r->scoring.max_score);
        return;
    }
    cfgmap_path_t sp = {NULL, "scoring", 0};
    cfgmap_path_t mp = {&sp, "max", 0};
    cfgmap_error(ctx, config_section_doc_node(ctx, "scoring", "max"), &mp,
                 "is below lifecycle.engaged_score (%d): no contact would become engaged",
                 (int)r->lifecycle.engaged_score);
}

static const cfgmap_entry_t lifecycle_entries[] = {
    {.key = "engaged_score",
     .type = CFGMAP_INT32,
     .def = "30",
     .min = 0,
     .max = 1000000,
     .offset = RULES(lifecycle.engaged_score),
     .help = "A known contact becomes engaged at this score; at most `scoring.max`."},
    {.key = "disqualified_reset_on_identify",
     .type = CFGMAP_BOOL,
     .def = "true",
     .offset = RULES(lifecycle.disqualified_reset_on_identify),
     .help = "A disqualified contact that is identified again (identify event or form) becomes "
             "known and may qualify anew, behind the recycle gate; `false` keeps it "
             "disqualified until sales recycle it."},
};

static const cfgmap_table_t lifecycle_table =
    CFGMAP_TABLE(lifecycle_entries, lifecycle_check, NULL);

const cfgmap_entry_t config_lifecycle_section =
    CONFIG_SECTION_RULES("lifecycle", lifecycle_table, "Lifecycle stage thresholds.");
