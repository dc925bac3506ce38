/* Declarative config maps over a libyaml document: the generic engine of config/.
 *
 * A section of the file is described by a table of entries {key, type, default,
 * bounds, offset of the target field, help}, in the manner of Fluent Bit's
 * config_map.  cfgmap_apply() walks one YAML map against a table: it fills defaults,
 * rejects unknown and repeated keys, converts and bounds-checks every value, recurses
 * into nested maps and lists of maps, then runs the table's cross-field check.
 * Every problem is recorded in the context (never only the first) with its source
 * position; cfgmap_render() formats them all, sorted by position, each with the
 * offending line and a caret.
 *
 * The engine knows plain values only (strings, numbers, durations, booleans, names
 * of a closed set); a value type of the tables' owner (a list of patterns, a time
 * zone) is a CFGMAP_CUSTOM entry whose callbacks convert it.
 *
 * Nothing here allocates on behalf of the caller except the target fields the tables
 * name (strings, arrays): those are malloc'd so the owner frees them with free(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "util/buf.h"

/* Problems rendered by cfgmap_render(); the rest are counted and summarised. */
#define CFGMAP_MAX_RENDERED 100

/* Work allowed per document, in node visits and name comparisons.  Aliases let a
 * small file reference one subtree many times, and some checks compare names
 * pairwise; this bounds what a hostile file can cost (well under a second). */
#define CFGMAP_MAX_WORK 5000000

/* A node visit may allocate (a pattern, a name); it costs this much work, which
 * also bounds memory to some 200000 allocations. */
#define CFGMAP_VISIT_COST 25

typedef struct cfgmap_diag cfgmap_diag_t;

/* A region of the source that must never be echoed (a secret such as a password). */
typedef struct cfgmap_span {
    size_t line0, col0; /* first character, 0-based as libyaml marks */
    size_t line1, col1; /* one past the last character */
} cfgmap_span_t;

typedef struct cfgmap_ctx {
    const char *name; /* file name used in messages */
    const char *text; /* the source, for quoting lines; not NUL-terminated */
    size_t len;
    yaml_document_t *doc; /* NULL when the text did not parse */
    void *user;           /* the object being built, for custom parsers and checks */
    /* what a hidden region holds, in "(line not shown: it holds ...)" */
    const char *secret_noun;

    cfgmap_diag_t *diags;
    size_t diag_count, diag_cap;
    cfgmap_span_t *hidden;
    size_t hidden_count, hidden_cap;
    int problems;
    bool oom;
    size_t work;
    bool work_exceeded;
} cfgmap_ctx_t;

/* One step of a key path: a map key, or (key == NULL) a list index. */
typedef struct cfgmap_path {
    const struct cfgmap_path *parent;
    const char *key;
    size_t index;
} cfgmap_path_t;

typedef enum cfgmap_type {
    CFGMAP_STRING,     /* char *, malloc'd; empty strings rejected */
    CFGMAP_INT32,      /* int32_t in [min, max] */
    CFGMAP_UINT32,     /* uint32_t in [min, max] */
    CFGMAP_BOOL,       /* bool: true/false (also yes/no, on/off) */
    CFGMAP_DURATION,   /* int64_t milliseconds in [min, max]: "500ms", "4h", "1h30m", 250 */
    CFGMAP_DURATION32, /* int32_t milliseconds, same syntax */
    CFGMAP_ENUM,       /* int: index of the value in .names */
    CFGMAP_FLOAT,      /* float, a decimal such as 1, 2.5 or 0.25, in [min, max] (or (min, max]
                          with CFGMAP_MIN_EXCLUSIVE) */
    CFGMAP_SYMBOLS,    /* uint32_t bit mask (1u << value) of .symbols: one or a list */
    CFGMAP_INT32S,     /* int32_t array, malloc'd, at offset with its size_t count at
                          count_offset: one integer or a list, each in [min, max] */
    CFGMAP_MAP,        /* nested map described by .table; target at base + offset */
    CFGMAP_LIST,       /* list of maps described by .table: array at offset, size_t count
                          at count_offset, elements of elem_size bytes */
    CFGMAP_NAMED,      /* map of names to maps described by .table: as LIST, each element's
                          name (char *, malloc'd) at name_offset in it, checked by .valid */
    CFGMAP_CUSTOM,     /* converted by .parse; .def by .set_default, or (without one) given
                          to .parse as the same text written plain in the file */
} cfgmap_type_t;

enum {
    CFGMAP_REQUIRED = 1u << 0, /* missing key is an error */
    /* MAP, LIST: the field at deref_offset is a pointer to the struct that offset
     * (and count_offset) refer to: a section of the file filling another object */
    CFGMAP_DEREF = 1u << 1,
    /* SYMBOLS/INT32S/LIST: an empty list is fine; a CUSTOM type holding a list reads
     * it from the entry too */
    CFGMAP_ALLOW_EMPTY = 1u << 2,
    CFGMAP_MIN_EXCLUSIVE = 1u << 3, /* FLOAT: min itself is out of range (a weight > 0) */
    /* for a CUSTOM type holding a list: add to the values already there (another
     * key's value or default) instead of replacing them; the engine ignores it */
    CFGMAP_APPEND = 1u << 4,
};

/* A closed set of names (event kinds, form types, ...) with its parse function. */
typedef struct cfgmap_symbols {
    const char *noun; /* "event kind", used in messages */
    int (*parse)(const char *name);
    const char *(*name)(int value);
    int count;
} cfgmap_symbols_t;

typedef struct cfgmap_table cfgmap_table_t;
typedef struct cfgmap_entry cfgmap_entry_t;

/* Converts @node into @field (base + e->offset); reports problems through @ctx.
 * @path is NULL when @node is the entry's .def written as a plain scalar. */
typedef void (*cfgmap_parse_fn)(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                                const cfgmap_path_t *path, void *field);

/* Sets @field (base + e->offset) to the default e->def, which is valid (a default
 * that does not convert is a bug in the table). */
typedef void (*cfgmap_default_fn)(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, void *field);

/* Runs after a map was applied (also when it was absent: @map NULL); checks what
 * involves several keys and fills derived values. */
typedef void (*cfgmap_check_fn)(cfgmap_ctx_t *ctx, const yaml_node_t *map,
                                const cfgmap_path_t *path, void *base);

/* Returns NULL if @value is acceptable, else a message without the value. */
typedef const char *(*cfgmap_valid_fn)(const char *value);

struct cfgmap_entry {
    const char *key;
    cfgmap_type_t type;
    unsigned flags;
    const char *def; /* default, in the syntax of the file; NULL = zero / none */
    int64_t min, max;
    size_t offset;
    size_t count_offset;             /* LIST, NAMED, INT32S */
    size_t elem_size;                /* LIST, NAMED */
    size_t name_offset;              /* NAMED */
    size_t deref_offset;             /* CFGMAP_DEREF */
    const char *const *names;        /* ENUM, NULL-terminated */
    const cfgmap_symbols_t *symbols; /* SYMBOLS */
    const cfgmap_table_t *table;     /* MAP, LIST, NAMED */
    cfgmap_parse_fn parse;           /* CUSTOM */
    cfgmap_default_fn set_default;   /* CUSTOM, optional */
    cfgmap_valid_fn valid;           /* STRING: extra validation; NAMED: of the names */
    const char *doc_type;            /* CUSTOM (or override): type shown in the reference */
    uint32_t tag;                    /* the table owner's, for its checks; the engine never
                                        reads it */
    const char *help;
};

struct cfgmap_table {
    const cfgmap_entry_t *entries;
    size_t count;
    cfgmap_check_fn check; /* optional */
    const char *help;      /* one line for the reference; optional */
};

#define CFGMAP_TABLE(entries_, check_, help_)                                                      \
    {                                                                                              \
        (entries_), sizeof(entries_) / sizeof((entries_)[0]), (check_), (help_)                    \
    }

/* ---- context and diagnostics (cfgmap_diag.c) ---- */

/* Starts a context for the document @text of @len bytes called @name in messages;
 * @secret_noun says what a hidden region of it holds ("a password"). */
void cfgmap_ctx_init(cfgmap_ctx_t *ctx, const char *name, const char *text, size_t len,
                     const char *secret_noun);
void cfgmap_ctx_fini(cfgmap_ctx_t *ctx);

/* Records a problem at @mark (0-based line/column; NULL = no position). */
void cfgmap_error_at(cfgmap_ctx_t *ctx, const yaml_mark_t *mark, const cfgmap_path_t *path,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records "<message>, got <value>" at @node: the scalar quoted (cut short), or what
 * the node is ("a list", "null").  Never use it where values are secret. */
void cfgmap_error_got(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records a problem at the start of @node (NULL = no position). */
void cfgmap_error(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Marks the source from @start to @end as secret: quoted lines stop before it. */
void cfgmap_hide(cfgmap_ctx_t *ctx, const yaml_mark_t *start, const yaml_mark_t *end);

/* Marks a whole line as secret. */
void cfgmap_hide_line(cfgmap_ctx_t *ctx, size_t line);

/* The mark (0-based line and column in characters) of byte @offset of the source. */
yaml_mark_t cfgmap_mark_at_offset(const cfgmap_ctx_t *ctx, size_t offset);

/* Appends every recorded problem to @out, sorted by position, each followed by its
 * source line and a caret.  Returns 0 or -ENOMEM. */
int cfgmap_render(cfgmap_ctx_t *ctx, hf_buf_t *out);

/* One recorded problem as cfgmap_each() hands it over; the strings belong to the
 * context. */
typedef struct cfgmap_problem {
    bool has_pos;     /* false: a problem of the whole document */
    size_t line, col; /* 0-based, as libyaml marks */
    const char *path; /* "scoring.rules[3].points", or "" */
    const char *message;
} cfgmap_problem_t;

typedef void (*cfgmap_problem_fn)(void *opaque, const cfgmap_problem_t *p);

/* Hands the problems cfgmap_render() would show to @fn, in the same order, as items
 * rather than text (for a structured log).  Source lines are never passed on, so
 * nothing from a hidden region can leak.  Returns 0, or -ENOMEM when a problem
 * could not be recorded. */
int cfgmap_each(cfgmap_ctx_t *ctx, cfgmap_problem_fn fn, void *opaque);

/* Writes @s into @out quoted and escaped, cut after @max bytes ("..." added). */
void cfgmap_quote(hf_buf_t *out, const char *s, size_t max);

/* Writes the dotted path ("scoring.rules[3].points") into @out. */
void cfgmap_path_format(hf_buf_t *out, const cfgmap_path_t *path);

/* ---- walking the tables (cfgmap.c) ---- */

/* Applies @table to @map (a mapping node, or NULL when the key is absent) into @base:
 * defaults first, then every key present, then table->check. */
void cfgmap_apply(cfgmap_ctx_t *ctx, const cfgmap_table_t *table, const yaml_node_t *map,
                  const cfgmap_path_t *path, void *base);

/* Counts @units of work; false (and one problem, once) when the budget is spent. */
bool cfgmap_spend(cfgmap_ctx_t *ctx, size_t units);

/* Counts one node visit (CFGMAP_VISIT_COST units). */
static inline bool cfgmap_visit(cfgmap_ctx_t *ctx)
{
    return cfgmap_spend(ctx, CFGMAP_VISIT_COST);
}

/* ---- nodes (cfgmap.c) ---- */

/* The node of @doc with @index, or NULL. */
const yaml_node_t *cfgmap_node(const cfgmap_ctx_t *ctx, int index);

/* The value node of @key in mapping @map (first occurrence), or NULL.  @key_node
 * (optional) receives the key node. */
const yaml_node_t *cfgmap_lookup(const cfgmap_ctx_t *ctx, const yaml_node_t *map, const char *key,
                                 const yaml_node_t **key_node);

/* Item @i of sequence @seq, or NULL. */
const yaml_node_t *cfgmap_item(const cfgmap_ctx_t *ctx, const yaml_node_t *seq, size_t i);

/* The scalar's text (NUL-terminated by libyaml), or NULL if @node is not a scalar. */
const char *cfgmap_scalar(const yaml_node_t *node);

/* True for an empty plain scalar, "~" or "null" (any case) written plain. */
bool cfgmap_is_null(const yaml_node_t *node);

/* "a map", "a list", "null", "a string": what a node is, for messages. */
const char *cfgmap_kind_name(const yaml_node_t *node);

/* Copies @node's text into a new string; NULL (and a problem) if it is not a non-empty
 * scalar.  Sets ctx->oom on allocation failure. */
char *cfgmap_strdup_scalar(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path);

/* malloc/calloc/strdup that set ctx->oom on failure. */
void *cfgmap_calloc(cfgmap_ctx_t *ctx, size_t n, size_t size);
char *cfgmap_strdup(cfgmap_ctx_t *ctx, const char *s);

/* ---- values (cfgmap_value.c) ---- */

/* @node as one value or a list of them: true with their number in *@count (1 for a
 * scalar).  Otherwise records "<@expected>, got ..." for what is neither a non-null
 * scalar nor a list, or "expected at least one <@noun>" for an empty list unless
 * @allow_empty, and returns false. */
bool cfgmap_scalar_or_list(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                           const char *expected, const char *noun, bool allow_empty, size_t *count);

/* Item @i of a value cfgmap_scalar_or_list() accepted: the node itself if a scalar. */
const yaml_node_t *cfgmap_element(const cfgmap_ctx_t *ctx, const yaml_node_t *node, size_t i);

/* Parses a duration: "0", "250" (ms), "500ms", "30s", "15m", "4h", "14d", "2w" or a
 * sequence of them ("1h30m").  Returns 0 or -EINVAL (bad syntax) / -ERANGE. */
int cfgmap_duration_parse(const char *s, int64_t *out_ms);

/* Formats @ms with the largest unit that divides it ("90m", "2w", "0"). */
void cfgmap_duration_format(hf_buf_t *out, int64_t ms);

/* Parses a decimal integer with optional sign.  Returns 0, -EINVAL or -ERANGE. */
int cfgmap_int_parse(const char *s, int64_t *out);

/* Parses a decimal number with optional sign and fraction ("3", "-0.25", "2.5"; no
 * exponent, at most 15 digits), whatever the C locale.  Returns 0, -EINVAL or -ERANGE. */
int cfgmap_float_parse(const char *s, double *out);

/* ---- reference (cfgmap_describe.c) ---- */

/* Writes a Markdown reference of @table (and nested tables) under @prefix. */
void cfgmap_describe(hf_buf_t *out, const cfgmap_table_t *table, const char *prefix);
