/* Value types of the rules file from the processors' model, for the generic engine.
 * See cfgtypes.h. */
#include "cfgtypes.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "processors/model/event.h"
#include "processors/rules/rules.h"

/* ---- glob patterns ---- */

static void globs_clear(hf_globs_t *g)
{
    for (size_t i = 0; i < g->count; i++)
        free(g->patterns[i]);
    free(g->patterns);
    g->patterns = NULL;
    g->count = 0;
}

/* A default list of patterns: "gmail.com, *.example". */
void cfgtypes_globs_default(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, void *field)
{
    hf_globs_t *globs = field;
    const char *def = e->def;
    globs_clear(globs);
    size_t count = 0;
    for (const char *p = def; *p; p++)
        count += *p == ',';
    char **patterns = cfgmap_calloc(ctx, count + 1, sizeof(*patterns));
    if (!patterns)
        return;
    globs->patterns = patterns;
    /* each round consumes one pattern and the separator after it */
    for (const char *p = def; *p && globs->count <= count;) {
        size_t n = strcspn(p, ",");
        assert(n > 0);
        if (!(patterns[globs->count] = strndup(p, n))) {
            ctx->oom = true;
            return;
        }
        globs->count++;
        p += n;
        while (*p == ' ' || *p == ',')
            p++;
    }
}

void cfgtypes_globs_parse(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                          const cfgmap_path_t *path, void *field)
{
    hf_globs_t *globs = field;
    size_t count;
    if (!cfgmap_scalar_or_list(ctx, node, path, "expected a pattern or a list of patterns",
                               "pattern", e->flags & CFGMAP_ALLOW_EMPTY, &count))
        return;
    if (!(e->flags & CFGMAP_APPEND))
        globs_clear(globs);
    if (count == 0)
        return;
    char **patterns = cfgmap_calloc(ctx, globs->count + count, sizeof(*patterns));
    if (!patterns)
        return;
    /* the patterns already there move to the new array, in front */
    size_t n = globs->count;
    if (n)
        memcpy(patterns, globs->patterns, n * sizeof(*patterns));
    free(globs->patterns);
    globs->patterns = patterns;
    for (size_t i = 0; i < count && cfgmap_visit(ctx); i++) {
        const yaml_node_t *item = cfgmap_element(ctx, node, i);
        cfgmap_path_t item_path = {path, NULL, i};
        const cfgmap_path_t *where = node->type == YAML_SEQUENCE_NODE ? &item_path : path;
        const char *s = cfgmap_scalar(item);
        if (!s || cfgmap_is_null(item) || !*s) {
            cfgmap_error_got(ctx, item, where, "expected a pattern (a non-empty string)");
            continue;
        }
        if (!(patterns[n] = cfgmap_strdup(ctx, s)))
            break;
        globs->count = ++n;
    }
}

/* ---- symbol sets ---- */

static const char *event_kind_name(int v)
{
    return hf_event_kind_name((hf_event_kind_t)v);
}

static const char *form_type_name(int v)
{
    return hf_form_type_name((hf_form_type_t)v);
}

static const char *webinar_action_name(int v)
{
    return hf_webinar_action_name((hf_webinar_action_t)v);
}

static const char *email_action_name(int v)
{
    return hf_email_action_name((hf_email_action_t)v);
}

const cfgmap_symbols_t cfgtypes_event_kinds = {"event kind", hf_event_kind_parse, event_kind_name,
                                               HF_EV__COUNT};
const cfgmap_symbols_t cfgtypes_form_types = {"form type", hf_form_type_parse, form_type_name,
                                              HF_FORM__COUNT};
const cfgmap_symbols_t cfgtypes_webinar_actions = {"webinar action", hf_webinar_action_parse,
                                                   webinar_action_name, HF_WEBINAR__COUNT};
const cfgmap_symbols_t cfgtypes_email_actions = {"email action", hf_email_action_parse,
                                                 email_action_name, HF_EMAIL__COUNT};

void cfgtypes_kinds_format(hf_buf_t *out, uint32_t mask)
{
    bool first = true;
    for (int k = 0; k < HF_EV__COUNT; k++) {
        if (!(mask & CFGTYPES_KIND(k)))
            continue;
        hf_buf_printf(out, "%s%s", first ? "" : ", ", hf_event_kind_name((hf_event_kind_t)k));
        first = false;
    }
}
