/* The value types of the rules file that come from the processors' model, for the
 * generic engine (cfgmap.h): lists of glob patterns (hf_globs_t), and the closed sets
 * of event kinds, form types, webinar and e-mail actions (processors/model/event.h). */
#pragma once

#include <stdint.h>

#include "cfgmap.h"
#include "processors/model/event.h"
#include "util/buf.h"

/* Fields of a cfgmap_entry_t for an hf_globs_t at .offset: one pattern or a list of
 * patterns, malloc'd (hf_rules_free() frees them); a .def lists patterns separated by
 * ", ".  Honours CFGMAP_ALLOW_EMPTY and CFGMAP_APPEND. */
#define CFGTYPES_GLOBS                                                                             \
    .type = CFGMAP_CUSTOM, .parse = cfgtypes_globs_parse, .set_default = cfgtypes_globs_default,   \
    .doc_type = "pattern or list of patterns"

void cfgtypes_globs_parse(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                          const cfgmap_path_t *path, void *field);
void cfgtypes_globs_default(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, void *field);

/* Names of hf_event_kind_t, hf_form_type_t, hf_webinar_action_t, hf_email_action_t. */
extern const cfgmap_symbols_t cfgtypes_event_kinds;
extern const cfgmap_symbols_t cfgtypes_form_types;
extern const cfgmap_symbols_t cfgtypes_webinar_actions;
extern const cfgmap_symbols_t cfgtypes_email_actions;

/* A bit mask of event kinds (bit 1u << hf_event_kind_t). */
#define CFGTYPES_KIND(k) (1u << (k))
#define CFGTYPES_ALL_KINDS ((1u << HF_EV__COUNT) - 1)

/* Writes the names of the event kinds in @mask ("web_visit, form") to @out. */
void cfgtypes_kinds_format(hf_buf_t *out, uint32_t mask);
