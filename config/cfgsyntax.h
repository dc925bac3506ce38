/* YAML syntax errors as config problems (part of the engine, cfgmap.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "cfgmap.h"

/* Maps tracked above a place of the document. */
#define CFGSYNTAX_DEPTH_MAX 32

/* True if a scalar may be a secret, never to be quoted.  @depth collections hold it
 * (0: the root); keys[i], for i < min(@depth, CFGSYNTAX_DEPTH_MAX), is the key of
 * collection i under which the scalar is (NULL in a list, or in a map whose current
 * key is not read yet); @is_key when the scalar is itself a map key. */
typedef bool (*cfgsyntax_secret_fn)(const char *const *keys, size_t depth, bool is_key);

/* Records the error that made @failed stop (yaml_parser_load() returned 0) as a
 * problem of @ctx: at its mark, under the key path where it happened, with the
 * source line unless @secret (NULL: nothing is secret) says the place may hold a
 * secret.  A memory error sets ctx->oom instead. */
void cfgsyntax_report(cfgmap_ctx_t *ctx, const yaml_parser_t *failed, cfgsyntax_secret_fn secret);
