/* The sections of the rules file, in the order they are applied (internal to
 * config/): the root table config.c applies to the document. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/cfgmap.h"

/* Top-level keys of the file. */
#define CONFIG_REGISTRY_SECTIONS 25

/* The root table: an entry per section (copied from its file), and the check that
 * runs after them all. */
typedef struct config_registry {
    cfgmap_entry_t entries[CONFIG_REGISTRY_SECTIONS];
    cfgmap_table_t table;
} config_registry_t;

/* Fills @reg; reg->table is then the root table (it points into @reg). */
void config_registry_init(config_registry_t *reg);

/* What the values no message quotes are, in messages. */
#define CONFIG_REGISTRY_SECRET_NOUN "a kafka.properties value"

/* Whether a scalar may be a secret where the YAML syntax is broken (a
 * cfgsyntax_secret_fn): kafka.properties values. */
bool config_registry_secret(const char *const *keys, size_t depth, bool is_key);

/* What must be known of the whole document before any table runs: marks the values
 * that no message may quote (kafka.properties). */
void config_registry_hide_secrets(cfgmap_ctx_t *ctx, const yaml_node_t *root);
