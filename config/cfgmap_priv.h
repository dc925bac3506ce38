/* What the files of the config engine (cfgmap*.c) share and no table needs. */
#pragma once

#include "cfgmap.h"

/* Longest value quoted back in a message. */
#define CFGMAP_QUOTE_MAX 60

/* ---- cfgmap_value.c ---- */

/* What a value of @e must look like: "expected integer in [1, 1024]". */
void cfgmap_expected(hf_buf_t *out, const cfgmap_entry_t *e);

/* The bounds of @e: "[1, 1024]", "(0, 100]", "[1s, 365d]". */
void cfgmap_range_format(hf_buf_t *out, const cfgmap_entry_t *e);

/* The names an ENUM or SYMBOLS entry accepts, separated by ", ", each in @quote. */
void cfgmap_names_format(hf_buf_t *out, const cfgmap_entry_t *e, const char *quote);

/* Converts scalar text @s for the scalar types (STRING to ENUM) into @field.  False
 * if @s is not acceptable. */
bool cfgmap_convert_scalar(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const char *s, void *field);

/* INT32S: @node (one integer or a list) into the array and count of @e in @base. */
void cfgmap_apply_int32s(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                         const cfgmap_path_t *path, void *base);

/* SYMBOLS: @node (one name or a list) into the bit mask at @mask. */
void cfgmap_apply_symbols(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                          const cfgmap_path_t *path, uint32_t *mask);

/* SYMBOLS: the default e->def ("demo_request, contact_sales") into @mask. */
void cfgmap_default_symbols(const cfgmap_entry_t *e, uint32_t *mask);
