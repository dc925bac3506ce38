/* YAML syntax errors as config problems (internal to config/). */
#pragma once

#include <yaml.h>

#include "cfgmap.h"

/* Records the error that made @failed stop (yaml_parser_load() returned 0) as a
 * problem of @ctx: at its mark, under the key path where it happened, with the
 * source line unless that line holds a kafka.properties value.  A memory error sets
 * ctx->oom instead. */
void cfgsyntax_report(cfgmap_ctx_t *ctx, const yaml_parser_t *failed);
