/* YAML syntax errors, reported like every other problem: at libyaml's problem mark,
 * with the key path under which it happened and the offending line.
 *
 * yaml_parser_load() gives no partial document on failure, so the text is parsed a
 * second time with the event API, which stops at the same place, keeping track of the
 * map keys and list indexes on the way.  The same walk asks the caller which scalars
 * may be secrets, so that no line holding one is quoted. */
#include "cfgsyntax.h"

#include <string.h>

#define MAX_FRAMES CFGSYNTAX_DEPTH_MAX
#define KEY_MAX 64
/* Far more events than any text of this length can produce; bounds the loop. */
#define EVENTS_PER_BYTE 4

typedef struct frame {
    bool is_map;
    bool in_value; /* map: the current key was read, its value is being parsed */
    size_t index;  /* list: items completed */
    char key[KEY_MAX];
} frame_t;

typedef struct walk {
    frame_t frames[MAX_FRAMES];
    size_t depth; /* may exceed MAX_FRAMES; deeper frames are not tracked */
    cfgsyntax_secret_fn secret;
} walk_t;

static frame_t *top(walk_t *w)
{
    return w->depth && w->depth <= MAX_FRAMES ? &w->frames[w->depth - 1] : NULL;
}

/* Whether the caller says a scalar at the current place (a map key if @is_key) may
 * be a secret. */
static bool secret_at(const walk_t *w, bool is_key)
{
    if (!w->secret)
        return false;
    const char *keys[MAX_FRAMES];
    size_t tracked = w->depth < MAX_FRAMES ? w->depth : MAX_FRAMES;
    for (size_t i = 0; i < tracked; i++) {
        const frame_t *f = &w->frames[i];
        keys[i] = f->is_map && f->in_value ? f->key : NULL;
    }
    return w->secret(keys, w->depth, is_key);
}

/* A node of the parent collection ended: a key, a value or a list item. */
static void node_done(walk_t *w)
{
    frame_t *f = top(w);
    if (!f)
        return;
    if (f->is_map)
        f->in_value = !f->in_value;
    else
        f->index++;
}

/* A node starts; in key position its text (if a scalar) becomes the current key. */
static void node_start(walk_t *w, const char *scalar)
{
    frame_t *f = top(w);
    if (!f || !f->is_map || f->in_value)
        return;
    const char *k = scalar ? scalar : "?";
    size_t n = strlen(k);
    if (n >= KEY_MAX)
        n = KEY_MAX - 1;
    memcpy(f->key, k, n);
    f->key[n] = 0;
}

static bool is_key_position(walk_t *w)
{
    frame_t *f = top(w);
    return f && f->is_map && !f->in_value;
}

static void push(walk_t *w, bool is_map)
{
    if (w->depth < MAX_FRAMES)
        w->frames[w->depth] = (frame_t){.is_map = is_map};
    w->depth++;
}

static void pop(walk_t *w)
{
    if (w->depth)
        w->depth--;
    node_done(w);
}

/* Walks events until the parser fails or reaches @stop (a composer error's mark). */
static void walk_to(cfgmap_ctx_t *ctx, walk_t *w, const yaml_mark_t *stop)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        ctx->oom = true;
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)(ctx->text ? ctx->text : ""),
                                 ctx->len);
    size_t budget = ctx->len * EVENTS_PER_BYTE + 64;
    for (size_t n = 0; n < budget; n++) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break;
        if (stop && ev.start_mark.index >= stop->index) {
            yaml_event_delete(&ev);
            break;
        }
        bool end = ev.type == YAML_STREAM_END_EVENT;
        switch (ev.type) {
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT: {
            bool key = is_key_position(w);
            node_start(w, ev.type == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.value : NULL);
            if (secret_at(w, key))
                cfgmap_hide(ctx, &ev.start_mark, &ev.end_mark);
            node_done(w);
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            node_start(w, NULL);
            push(w, ev.type == YAML_MAPPING_START_EVENT);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            pop(w);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (end)
            break;
    }
    yaml_parser_delete(&parser);
}

void cfgsyntax_report(cfgmap_ctx_t *ctx, const yaml_parser_t *failed, cfgsyntax_secret_fn secret)
{
    if (failed->error == YAML_MEMORY_ERROR) {
        ctx->oom = true;
        return;
    }
    yaml_mark_t mark = failed->problem_mark;
    if (failed->error == YAML_READER_ERROR) /* the reader counts bytes, not marks */
        mark = cfgmap_mark_at_offset(ctx, failed->problem_offset);

    walk_t w = {.depth = 0, .secret = secret};
    walk_to(ctx, &w, failed->error == YAML_COMPOSER_ERROR ? &mark : NULL);

    /* The key path of the place, as far as it was tracked. */
    cfgmap_path_t steps[MAX_FRAMES];
    const cfgmap_path_t *path = NULL;
    size_t tracked = w.depth < MAX_FRAMES ? w.depth : MAX_FRAMES;
    for (size_t i = 0; i < tracked; i++) {
        const frame_t *f = &w.frames[i];
        if (f->is_map && !f->in_value)
            break;
        steps[i] = (cfgmap_path_t){path, f->is_map ? f->key : NULL, f->index};
        path = &steps[i];
    }
    if (secret_at(&w, false))
        cfgmap_hide_line(ctx, mark.line);

    const char *problem = failed->problem ? failed->problem : "invalid YAML";
    if (failed->error == YAML_READER_ERROR && failed->problem_value != -1)
        cfgmap_error_at(ctx, &mark, path, "%s (#x%X)", problem, (unsigned)failed->problem_value);
    else if (failed->context)
        cfgmap_error_at(ctx, &mark, path, "%s (%s at line %zu, column %zu)", problem,
                        failed->context, failed->context_mark.line + 1,
                        failed->context_mark.column + 1);
    else
        cfgmap_error_at(ctx, &mark, path, "%s", problem);
}
