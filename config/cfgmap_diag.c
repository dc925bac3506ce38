/* Problems found in a config file: collected, sorted by position, and rendered as
 *
 *     handoff.yaml:12:18: scoring.rules[3].points: expected integer in [-1000, 1000], got "1O"
 *         points: 1O
 *                 ^
 *
 * Positions are libyaml marks (0-based line and column, columns in characters);
 * they are shown 1-based.  Lines are found in the raw text with libyaml's own idea
 * of a line break, so the quoted line is the one the mark refers to. */
#include "cfgmap_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cfgmap_diag {
    bool has_pos;
    size_t line, col; /* 0-based */
    size_t seq;       /* order of discovery, to keep the sort stable */
    char *path;       /* "scoring.rules[3].points", or "" */
    char *message;
};

/* Widest stretch of a source line shown, in bytes; longer lines are windowed. */
#define LINE_SHOWN_MAX 160
#define CARET_LEAD_MAX 100

void cfgmap_ctx_init(cfgmap_ctx_t *ctx, const char *name, const char *text, size_t len,
                     const char *secret_noun)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->name = name;
    ctx->text = text;
    ctx->len = len;
    ctx->secret_noun = secret_noun;
}

void cfgmap_ctx_fini(cfgmap_ctx_t *ctx)
{
    for (size_t i = 0; i < ctx->diag_count; i++) {
        free(ctx->diags[i].path);
        free(ctx->diags[i].message);
    }
    free(ctx->diags);
    free(ctx->hidden);
    ctx->diags = NULL;
    ctx->hidden = NULL;
    ctx->diag_count = ctx->diag_cap = 0;
    ctx->hidden_count = ctx->hidden_cap = 0;
}

static void buf_vprintf(hf_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || hf_buf_reserve(b, (size_t)n) < 0)
        return;
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void cfgmap_quote(hf_buf_t *out, const char *s, size_t max)
{
    hf_buf_append_str(out, "\"");
    size_t n = strlen(s);
    size_t shown = n > max ? max : n;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            hf_buf_printf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            hf_buf_printf(out, "\\x%02x", c);
        else
            hf_buf_append(out, &c, 1);
    }
    hf_buf_append_str(out, n > max ? "\"..." : "\"");
}

void cfgmap_path_format(hf_buf_t *out, const cfgmap_path_t *path)
{
    if (!path)
        return;
    cfgmap_path_format(out, path->parent);
    if (!path->key) {
        hf_buf_printf(out, "[%zu]", path->index);
        return;
    }
    if (path->parent)
        hf_buf_append_str(out, ".");
    /* Keys in paths are table keys or property names; escape the latter. */
    for (const char *p = path->key; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            hf_buf_printf(out, "\\x%02x", c);
        else
            hf_buf_append(out, &c, 1);
    }
}

static void record(cfgmap_ctx_t *ctx, const yaml_mark_t *mark, const cfgmap_path_t *path,
                   const char *fmt, va_list ap)
{
    ctx->problems++;
    if (ctx->diag_count == ctx->diag_cap) {
        size_t cap = ctx->diag_cap ? ctx->diag_cap * 2 : 16;
        cfgmap_diag_t *d = realloc(ctx->diags, cap * sizeof(*d));
        if (!d) {
            ctx->oom = true;
            return;
        }
        ctx->diags = d;
        ctx->diag_cap = cap;
    }
    /* Path and message apart, so that cfgmap_each() hands them over as they are. */
    hf_buf_t where = HF_BUF_INIT, text = HF_BUF_INIT;
    cfgmap_path_format(&where, path);
    buf_vprintf(&text, fmt, ap);
    if (hf_buf_append(&where, "", 1) < 0 || hf_buf_append(&text, "", 1) < 0) {
        hf_buf_free(&where);
        hf_buf_free(&text);
        ctx->oom = true;
        return;
    }
    cfgmap_diag_t *d = &ctx->diags[ctx->diag_count];
    d->has_pos = mark != NULL;
    d->line = mark ? mark->line : 0;
    d->col = mark ? mark->column : 0;
    d->seq = ctx->diag_count;
    d->path = (char *)where.data; /* steal */
    d->message = (char *)text.data;
    ctx->diag_count++;
}

void cfgmap_error_at(cfgmap_ctx_t *ctx, const yaml_mark_t *mark, const cfgmap_path_t *path,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(ctx, mark, path, fmt, ap);
    va_end(ap);
}

void cfgmap_error(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(ctx, node ? &node->start_mark : NULL, path, fmt, ap);
    va_end(ap);
}

void cfgmap_error_got(cfgmap_ctx_t *ctx, const yaml_node_t *node, const cfgmap_path_t *path,
                      const char *fmt, ...)
{
    hf_buf_t msg = HF_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    hf_buf_append_str(&msg, ", got ");
    if (node && node->type == YAML_SCALAR_NODE && !cfgmap_is_null(node))
        cfgmap_quote(&msg, cfgmap_scalar(node), CFGMAP_QUOTE_MAX);
    else
        hf_buf_append_str(&msg, cfgmap_kind_name(node));
    if (!msg.data)
        ctx->oom = true;
    cfgmap_error(ctx, node, path, "%s", msg.data ? (const char *)msg.data : "");
    hf_buf_free(&msg);
}

static void add_hidden(cfgmap_ctx_t *ctx, cfgmap_span_t span)
{
    if (ctx->hidden_count == ctx->hidden_cap) {
        size_t cap = ctx->hidden_cap ? ctx->hidden_cap * 2 : 8;
        cfgmap_span_t *h = realloc(ctx->hidden, cap * sizeof(*h));
        if (!h) {
            ctx->oom = true;
            return;
        }
        ctx->hidden = h;
        ctx->hidden_cap = cap;
    }
    ctx->hidden[ctx->hidden_count++] = span;
}

void cfgmap_hide(cfgmap_ctx_t *ctx, const yaml_mark_t *start, const yaml_mark_t *end)
{
    cfgmap_span_t s = {start->line, start->column, end->line, end->column};
    if (s.line1 < s.line0) {
        s.line1 = s.line0;
        s.col1 = SIZE_MAX;
    }
    add_hidden(ctx, s);
}

void cfgmap_hide_line(cfgmap_ctx_t *ctx, size_t line)
{
    add_hidden(ctx, (cfgmap_span_t){line, 0, line, SIZE_MAX});
}

/* ---- source lines ---- */

/* Length of the line break at text[i], 0 if none (libyaml: CR LF, CR, LF, NEL, LS, PS). */
static size_t break_len(const unsigned char *t, size_t len, size_t i)
{
    if (t[i] == '\r')
        return i + 1 < len && t[i + 1] == '\n' ? 2 : 1;
    if (t[i] == '\n')
        return 1;
    if (t[i] == 0xC2 && i + 1 < len && t[i + 1] == 0x85)
        return 2;
    if (t[i] == 0xE2 && i + 2 < len && t[i + 1] == 0x80 && (t[i + 2] == 0xA8 || t[i + 2] == 0xA9))
        return 3;
    return 0;
}

static size_t utf8_width(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xF0 && c <= 0xF7)
        return 4;
    if (c >= 0xE0)
        return c <= 0xEF ? 3 : 1;
    return c >= 0xC0 ? 2 : 1;
}

/* Byte offset of character @col of the line [start, end); past the end, @extra
 * receives the number of characters beyond it. */
static size_t col_offset(const unsigned char *t, size_t start, size_t end, size_t col,
                         size_t *extra)
{
    size_t off = start;
    size_t c = 0;
    while (c < col && off < end) {
        size_t w = utf8_width(t[off]);
        off = off + w > end ? end : off + w;
        c++;
    }
    *extra = col - c;
    return off;
}

/* Where the last line lookup ended, so that rendering problems sorted by line scans
 * the text once. */
typedef struct line_cursor {
    size_t line;   /* line number at @offset */
    size_t offset; /* start of that line */
} line_cursor_t;

static size_t text_start(const cfgmap_ctx_t *ctx)
{
    const unsigned char *t = (const unsigned char *)ctx->text;
    /* libyaml skips a UTF-8 BOM without counting it */
    return ctx->len >= 3 && t[0] == 0xEF && t[1] == 0xBB && t[2] == 0xBF ? 3 : 0;
}

/* Finds line @line (0-based): [*start, *end) without its break.  False if absent. */
static bool find_line(const cfgmap_ctx_t *ctx, line_cursor_t *cur, size_t line, size_t *start,
                      size_t *end)
{
    const unsigned char *t = (const unsigned char *)ctx->text;
    size_t len = ctx->len;
    if (cur->line > line)
        *cur = (line_cursor_t){0, text_start(ctx)};
    size_t i = cur->offset;
    while (i < len && cur->line < line) {
        size_t b = break_len(t, len, i);
        if (b) {
            i += b;
            cur->line++;
            cur->offset = i;
        } else {
            i++;
        }
    }
    if (cur->line != line)
        return false;
    size_t j = cur->offset;
    while (j < len && !break_len(t, len, j))
        j++;
    *start = cur->offset;
    *end = j;
    return true;
}

yaml_mark_t cfgmap_mark_at_offset(const cfgmap_ctx_t *ctx, size_t offset)
{
    const unsigned char *t = (const unsigned char *)ctx->text;
    yaml_mark_t m = {offset, 0, 0};
    if (offset > ctx->len)
        offset = ctx->len;
    size_t i = text_start(ctx);
    while (i < offset) {
        size_t b = break_len(t, ctx->len, i);
        if (b) {
            m.line++;
            m.column = 0;
            i += b;
        } else {
            m.column++;
            i += utf8_width(t[i]);
        }
    }
    return m;
}

/* The column (characters) from which line @line must not be shown, or SIZE_MAX. */
static size_t hidden_from(const cfgmap_ctx_t *ctx, size_t line)
{
    size_t from = SIZE_MAX;
    for (size_t i = 0; i < ctx->hidden_count; i++) {
        const cfgmap_span_t *s = &ctx->hidden[i];
        if (line < s->line0 || line > s->line1)
            continue;
        size_t c = line == s->line0 ? s->col0 : 0;
        if (c < from)
            from = c;
    }
    return from;
}

/* Length of the valid UTF-8 sequence at p[0..n), or 0. */
static size_t utf8_valid(const unsigned char *p, size_t n)
{
    size_t w = utf8_width(p[0]);
    if (w == 1)
        return p[0] < 0x80;
    if (w > n || (w == 2 && p[0] < 0xC2))
        return 0;
    for (size_t i = 1; i < w; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return w;
}

/* Copies a source line for a terminal: control bytes and broken UTF-8 become '?'. */
static void append_sanitized(hf_buf_t *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t w = utf8_valid(p + i, n - i);
        if (w == 1 && ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f))
            w = 0;
        if (w == 0) {
            hf_buf_append_str(out, "?");
            i++;
            continue;
        }
        hf_buf_append(out, p + i, w);
        i += w;
    }
}

static void render_source(const cfgmap_ctx_t *ctx, line_cursor_t *cur, hf_buf_t *out, size_t line,
                          size_t col)
{
    const unsigned char *t = (const unsigned char *)ctx->text;
    if (!t)
        return;
    /* libyaml converts UTF-16 input before marking it; raw bytes would not line up. */
    if (ctx->len >= 2 && ((t[0] == 0xFF && t[1] == 0xFE) || (t[0] == 0xFE && t[1] == 0xFF)))
        return;
    size_t start, end;
    if (!find_line(ctx, cur, line, &start, &end) || start == end)
        return; /* nothing to point at, e.g. the end of the file */

    size_t extra;
    size_t caret = col_offset(t, start, end, col, &extra);
    size_t hide_col = hidden_from(ctx, line);
    size_t hide = end;
    if (hide_col != SIZE_MAX) {
        size_t ignored;
        hide = col_offset(t, start, end, hide_col, &ignored);
    }

    size_t seg = start;
    while (seg < caret && seg < end && (t[seg] == ' ' || t[seg] == '\t'))
        seg++;
    const char *prefix = "";
    if (caret - seg > CARET_LEAD_MAX) {
        seg = caret - CARET_LEAD_MAX / 2;
        while (seg < caret && (t[seg] & 0xC0) == 0x80)
            seg++;
        prefix = "...";
    }
    if (hide <= seg && hide_col != SIZE_MAX) {
        hf_buf_printf(out, "    (line not shown: it holds %s)\n", ctx->secret_noun);
        return;
    }
    size_t seg_end = hide < end ? hide : end;
    while (seg_end > seg && (t[seg_end - 1] == ' ' || t[seg_end - 1] == '\t'))
        seg_end--;
    const char *suffix = "";
    if (seg_end - seg > LINE_SHOWN_MAX && hide >= end) {
        seg_end = seg + LINE_SHOWN_MAX;
        while (seg_end > seg && (t[seg_end] & 0xC0) == 0x80)
            seg_end--;
        suffix = "...";
    }
    hf_buf_append_str(out, "    ");
    hf_buf_append_str(out, prefix);
    append_sanitized(out, t + seg, seg_end - seg);
    hf_buf_append_str(out, suffix);
    hf_buf_append_str(out, "\n    ");
    for (size_t i = 0; prefix[i]; i++)
        hf_buf_append_str(out, " ");
    for (size_t i = seg; i < caret; i += utf8_width(t[i]))
        hf_buf_append_str(out, t[i] == '\t' ? "\t" : " ");
    for (size_t i = 0; i < extra && i < CARET_LEAD_MAX; i++)
        hf_buf_append_str(out, " ");
    hf_buf_append_str(out, "^\n");
}

static int diag_cmp(const void *a, const void *b)
{
    const cfgmap_diag_t *x = a, *y = b;
    if (x->has_pos != y->has_pos) /* problems of the whole file first */
        return x->has_pos ? 1 : -1;
    if (x->has_pos && x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->has_pos && x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The problems in the order they are shown, and how many of them are. */
static size_t sort_shown(cfgmap_ctx_t *ctx)
{
    if (ctx->diag_count > 1)
        qsort(ctx->diags, ctx->diag_count, sizeof(ctx->diags[0]), diag_cmp);
    return ctx->diag_count < CFGMAP_MAX_RENDERED ? ctx->diag_count : CFGMAP_MAX_RENDERED;
}

int cfgmap_render(cfgmap_ctx_t *ctx, hf_buf_t *out)
{
    size_t shown = sort_shown(ctx);
    line_cursor_t cur = {0, text_start(ctx)};
    for (size_t i = 0; i < shown; i++) {
        const cfgmap_diag_t *d = &ctx->diags[i];
        const char *sep = d->path[0] ? ": " : "";
        if (d->has_pos) {
            hf_buf_printf(out, "%s:%zu:%zu: %s%s%s\n", ctx->name, d->line + 1, d->col + 1, d->path,
                          sep, d->message);
            render_source(ctx, &cur, out, d->line, d->col);
        } else {
            hf_buf_printf(out, "%s: %s%s%s\n", ctx->name, d->path, sep, d->message);
        }
    }
    if ((size_t)ctx->problems > shown)
        hf_buf_printf(out, "%s: ... and %zu more problems\n", ctx->name,
                      (size_t)ctx->problems - shown);
    /* An append that ran out of memory leaves the text short; the count still holds. */
    return ctx->oom ? -ENOMEM : 0;
}

int cfgmap_each(cfgmap_ctx_t *ctx, cfgmap_problem_fn fn, void *opaque)
{
    size_t shown = sort_shown(ctx);
    for (size_t i = 0; i < shown; i++) {
        const cfgmap_diag_t *d = &ctx->diags[i];
        cfgmap_problem_t p = {.has_pos = d->has_pos,
                              .line = d->line,
                              .col = d->col,
                              .path = d->path,
                              .message = d->message};
        fn(opaque, &p);
    }
    return ctx->oom ? -ENOMEM : 0;
}
