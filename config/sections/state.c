/* state: the local state store (RocksDB), how often it is committed, the entity
 * cache, and the key of the e-mail hash. */
#include "section.h"

#define CFG(field) offsetof(hf_config_t, field)

static void state_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                        void *base)
{
    hf_config_t *cfg = base;
    if (cfg->email_hash_key_file || !cfg->state_dir)
        return;
    hf_buf_t file = HF_BUF_INIT;
    hf_buf_printf(&file, "%s/email-hash.key", cfg->state_dir);
    if (!file.data)
        ctx->oom = true;
    cfg->email_hash_key_file = (char *)file.data; /* steal */
}

static const cfgmap_entry_t state_entries[] = {
    {.key = "path",
     .type = CFGMAP_STRING,
     .def = "./handoff-state",
     .offset = CFG(state_dir),
     .help = "Directory of the RocksDB store (created if missing)."},
    {.key = "commit_interval",
     .type = CFGMAP_DURATION,
     .def = "5s",
     .min = 10,
     .max = 10 * 60 * 1000,
     .offset = CFG(commit_interval_ms),
     .help = "How often state and input offsets are written together (outputs acknowledged "
             "first) and contacts' summaries reach their accounts. Each commit rewrites every "
             "entity that changed, so shorter costs throughput; handoffs are sent as they "
             "happen either way."},
    {.key = "cache_entries",
     .type = CFGMAP_UINT32,
     .def = "200000",
     .min = 1,
     .max = 100000000,
     .offset = CFG(cache_max_entries),
     .help = "Entity states kept in memory between commits."},
    {.key = "email_hash_key_file",
     .type = CFGMAP_STRING,
     .offset = CFG(email_hash_key_file),
     .help = "Key of the e-mail hash; created with random bytes if missing. "
             "Default: `<state.path>/email-hash.key`."},
};

static const cfgmap_table_t state_table = CFGMAP_TABLE(state_entries, state_check, NULL);

const cfgmap_entry_t config_state_section = {
    .key = "state", .type = CFGMAP_MAP, .table = &state_table, .help = "The local state store."};
