/* The logger: see log.h.  A record is rendered into one bounded buffer, then written
 * with one fwrite under the stream's lock, so lines of several threads never mix. */
#include "log.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "util/isotime.h"

int log_min_level = LOG_LEVEL_INFO;
static hf_log_format_t log_format = HF_LOG_TEXT;
static FILE *log_out;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const component_names[LOG__COMPONENTS] = {
    [LOG_MAIN] = "main",     [LOG_CONFIG] = "config",   [LOG_KAFKA] = "kafka",
    [LOG_STORE] = "store",   [LOG_PIPE] = "pipeline",   [LOG_CODEC] = "codec",
    [LOG_BROKER] = "broker", [LOG_HANDOFF] = "handoff",
};

/* Kept free at the end of the line for what closes it: open arrays and objects
 * (nesting is at most 3 deep), the truncation mark and the newline. */
#define CLOSE_RESERVE 48
/* Arrays of objects inside arrays of objects: deeper ones are written as null. */
#define DEPTH_MAX 3
/* What stands for an e-mail address. */
#define EMAIL_MASK "<e-mail>"

void log_setup(int min_level, hf_log_format_t format, FILE *out)
{
    log_min_level = min_level;
    log_format = format;
    log_out = out;
}

hf_log_format_t log_format_current(void)
{
    return log_format;
}

/* ---- the line buffer ---- */

/* @soft: where content stops; the bytes after it up to @cap - 1 are for closing. */
typedef struct line {
    char *p;
    size_t len, soft, cap;
    bool json;
    bool truncated;
} line_t;

/* Appends @n bytes if they fit before the soft end; false (nothing written) if not. */
static bool put(line_t *l, const char *s, size_t n)
{
    if (l->len > l->soft || n > l->soft - l->len)
        return false;
    memcpy(l->p + l->len, s, n);
    l->len += n;
    return true;
}

static bool puts_(line_t *l, const char *s)
{
    return put(l, s, strlen(s));
}

/* Closing bytes, written into the reserve. */
static void put_close(line_t *l, const char *s)
{
    size_t n = strlen(s);
    if (n > l->cap - 1 - l->len)
        n = l->cap - 1 - l->len;
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

/* ---- characters ---- */

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), its code point in *cp; 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t w;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        w = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        w = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        w = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (w > n || s[1] < lo || s[1] > hi)
        return 0;
    uint32_t v = c & (0x7F >> w);
    for (size_t i = 1; i < w; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    *cp = v;
    return w;
}

static bool is_local_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '%' || c == '+' || c == '-';
}

static bool is_domain_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
}

/* If an e-mail address (local@domain.tld) starts at s[i], the index one past its
 * end; else 0.  Called only where a local part may start (not in the middle of
 * one), so the scan is linear overall. */
static size_t email_end(const unsigned char *s, size_t i, size_t n)
{
    size_t at = i;
    while (at < n && is_local_char(s[at]))
        at++;
    if (at == i || at >= n || s[at] != '@')
        return 0;
    size_t end = at + 1;
    while (end < n && is_domain_char(s[end]))
        end++;
    while (end > at + 1 && (s[end - 1] == '.' || s[end - 1] == '-'))
        end--;
    size_t dot = 0; /* the last dot, after a first label */
    for (size_t j = at + 2; j < end; j++)
        if (s[j] == '.')
            dot = j;
    if (!dot || end - dot < 3)
        return 0;
    for (size_t j = dot + 1; j < end; j++) /* the top-level domain: letters */
        if (!((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z')))
            return 0;
    return end;
}

typedef enum esc_mode {
    ESC_JSON,   /* inside a JSON string */
    ESC_QUOTED, /* inside a quoted text value */
    ESC_BARE,   /* a text message: only what would break the line is escaped */
} esc_mode_t;

/* The escaped form of one character (code point @cp, or an invalid byte when
 * @bad) into @buf; returns its length. */
static size_t escape_char(char *buf, uint32_t cp, bool bad, esc_mode_t mode)
{
    if (bad)
        return mode == ESC_JSON ? (size_t)sprintf(buf, "\\ufffd")
                                : (size_t)sprintf(buf, "\\x%02x", cp);
    if ((cp == '"' || cp == '\\') && mode != ESC_BARE)
        return (size_t)sprintf(buf, "\\%c", (char)cp);
    if (cp == '\n' || cp == '\r' || cp == '\t')
        return (size_t)sprintf(buf, "\\%c", cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't');
    if (cp < 0x20 || cp == 0x7F)
        return mode == ESC_JSON ? (size_t)sprintf(buf, "\\u%04x", cp)
                                : (size_t)sprintf(buf, "\\x%02x", cp);
    /* line and paragraph separators end lines in some readers */
    if (cp == 0x2028 || cp == 0x2029)
        return (size_t)sprintf(buf, "\\u%04x", cp);
    return 0; /* the character as it is */
}

/* Appends @s escaped for @mode.  Stops before the first character that does not
 * fit (marking the line truncated); with !@may_cut, returns false instead and the
 * caller rolls back. */
static bool put_text(line_t *l, const char *s, esc_mode_t mode, bool may_cut)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t mail = (i == 0 || !is_local_char(u[i - 1])) ? email_end(u, i, n) : 0;
        char esc[16];
        size_t w, elen;
        const char *piece;
        uint32_t cp = 0;
        if (mail) {
            piece = EMAIL_MASK, elen = strlen(EMAIL_MASK), w = mail - i;
        } else if ((w = utf8_seq(u + i, n - i, &cp)) == 0) {
            elen = escape_char(esc, u[i], true, mode), piece = esc, w = 1;
        } else {
            elen = escape_char(esc, cp, false, mode);
            piece = elen ? esc : s + i;
            elen = elen ? elen : w;
        }
        if (!put(l, piece, elen)) {
            l->truncated = true;
            return may_cut;
        }
        i += w;
    }
    return true;
}

/* A text value needs quotes unless it is a run of safe printable characters. */
static bool text_needs_quotes(const char *s)
{
    if (!*s)
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7F || strchr("\"\\=,[]{}", *p))
            return true;
    return false;
}

static bool put_string(line_t *l, const char *s, bool may_cut)
{
    if (!s)
        return puts_(l, l->json ? "null" : "-");
    bool quoted = l->json || text_needs_quotes(s);
    if (quoted && !puts_(l, "\""))
        return false;
    bool ok = put_text(l, s, l->json ? ESC_JSON : quoted ? ESC_QUOTED : ESC_BARE, may_cut);
    if (quoted && ok)
        put_close(l, "\"");
    return ok;
}

/* ---- fields ---- */

static bool put_fields(line_t *l, const log_kv_t *kv, size_t n, int depth, bool top);

static bool put_scalar(line_t *l, const log_kv_t *kv)
{
    char num[HF_ISO8601_SIZE + 2];
    switch (kv->kind) {
    case LOG_KV_INT:
        snprintf(num, sizeof num, "%lld", (long long)kv->v.i);
        break;
    case LOG_KV_UINT:
        snprintf(num, sizeof num, "%llu", (unsigned long long)kv->v.u);
        break;
    case LOG_KV_FLOAT:
        if (!isfinite(kv->v.d))
            return puts_(l, l->json ? "null" : "-");
        snprintf(num, sizeof num, "%.6g", kv->v.d);
        break;
    case LOG_KV_BOOL:
        return puts_(l, kv->v.b ? "true" : "false");
    case LOG_KV_TIME: {
        char iso[HF_ISO8601_SIZE];
        hf_iso8601_ms(iso, kv->v.i);
        snprintf(num, sizeof num, l->json ? "\"%s\"" : "%s", iso);
        break;
    }
    default:
        return put_string(l, kv->v.s, false);
    }
    return puts_(l, num);
}

/* An array: the elements that do not fit are left out (the line says truncated);
 * false if not even the first one fits. */
static bool put_array(line_t *l, const log_kv_t *kv, int depth)
{
    if (!puts_(l, "["))
        return false;
    size_t n = kv->kind == LOG_KV_STRS ? kv->v.strs.n : kv->v.objs.n;
    for (size_t i = 0; i < n; i++) {
        size_t mark = l->len;
        bool ok = i == 0 || puts_(l, ",");
        if (ok && kv->kind == LOG_KV_STRS) {
            ok = put_string(l, kv->v.strs.v[i], false);
        } else if (ok) {
            log_kv_t members[LOG_OBJ_FIELDS_MAX];
            size_t m = kv->v.objs.fn(kv->v.objs.items, i, members, LOG_OBJ_FIELDS_MAX);
            ok = puts_(l, "{") && put_fields(l, members, m, depth + 1, false);
            if (ok)
                put_close(l, "}");
        }
        if (!ok) {
            l->len = mark;
            l->truncated = true;
            if (i == 0)
                return false; /* left out rather than shown empty */
            break;
        }
    }
    put_close(l, "]");
    return true;
}

static bool put_value(line_t *l, const log_kv_t *kv, int depth)
{
    if (kv->kind != LOG_KV_STRS && kv->kind != LOG_KV_OBJS)
        return put_scalar(l, kv);
    if (depth >= DEPTH_MAX)
        return puts_(l, l->json ? "null" : "-");
    return put_array(l, kv, depth);
}

/* Whether @key is one of the record's own members, which a field must not repeat. */
static bool reserved_key(const char *key)
{
    static const char *const own[] = {"ts", "level", "component", "msg", "truncated"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (strcmp(key, own[i]) == 0)
            return true;
    return false;
}

/* `,"key":` (JSON) or ` key=` (text); a top-level key that is the record's own
 * gets a trailing underscore rather than making a second "level". */
static bool put_key(line_t *l, const char *key, bool first, bool top)
{
    const char *mangle = top && reserved_key(key) ? "_" : "";
    if (l->json)
        return (first || puts_(l, ",")) && puts_(l, "\"") && put_text(l, key, ESC_JSON, false) &&
               puts_(l, mangle) && puts_(l, "\":");
    return (first || puts_(l, " ")) && puts_(l, key) && puts_(l, mangle) && puts_(l, "=");
}

/* Fields as `,"key":value` (JSON) or ` key=value` (text); at the top level a string
 * that does not fit is cut, anything else that does not fit is left out. */
static bool put_fields(line_t *l, const log_kv_t *kv, size_t n, int depth, bool top)
{
    for (size_t i = 0; i < n; i++) {
        size_t mark = l->len;
        bool ok = put_key(l, kv[i].key, !top && i == 0, top);
        if (ok && top && kv[i].kind == LOG_KV_STR && kv[i].v.s)
            ok = put_string(l, kv[i].v.s, true);
        else if (ok)
            ok = put_value(l, &kv[i], depth);
        if (!ok) {
            l->len = mark;
            l->truncated = true;
            if (!top)
                return false;
        }
    }
    return true;
}

/* ---- the record ---- */

size_t log_render(char *out, size_t cap, hf_log_format_t format, int64_t ts_ms, int level,
                  log_component_t comp, const char *msg, const log_kv_t *kv, size_t n)
{
    line_t l = {
        .p = out, .cap = cap, .soft = cap - 1 - CLOSE_RESERVE, .json = format == HF_LOG_JSON};
    if (level < 0 || level > LOG_LEVEL_ERROR)
        level = LOG_LEVEL_ERROR;
    const char *cname = (unsigned)comp < LOG__COMPONENTS ? component_names[comp] : "?";
    char when[HF_ISO8601_SIZE], head[128];
    hf_iso8601_ms(when, ts_ms);
    if (l.json)
        snprintf(head, sizeof head,
                 "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"msg\":\"", when,
                 level_names[level], cname);
    else
        snprintf(head, sizeof head, "%s %-5s %-8s ", when, level_names[level], cname);
    puts_(&l, head);
    put_text(&l, msg ? msg : "", l.json ? ESC_JSON : ESC_BARE, true);
    if (l.json)
        put_close(&l, "\"");
    else if (n)
        puts_(&l, " ");
    put_fields(&l, kv, n, 0, true);
    if (l.truncated)
        put_close(&l, l.json ? ",\"truncated\":true" : " truncated=true");
    put_close(&l, l.json ? "}\n" : "\n");
    out[l.len] = 0;
    return l.len;
}

/* The length of @s[0..len) without an incomplete UTF-8 sequence at its end: what
 * vsnprintf cut short may end inside one. */
static size_t whole_chars(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = len;
    while (k > 0 && len - k < 3 && (u[k - 1] & 0xC0) == 0x80)
        k--;
    if (k == 0 || u[k - 1] < 0xC0)
        return len; /* ends on ASCII, or on bytes that are invalid anyway (escaped) */
    k--;            /* the lead byte */
    uint32_t cp;
    return utf8_seq(u + k, len - k, &cp) == len - k ? len : k;
}

static void emit(int level, log_component_t comp, const log_kv_t *kv, size_t n, const char *fmt,
                 va_list ap)
{
    FILE *out = log_out ? log_out : stderr;
    char msg[LOG_MSG_MAX];
    int w = vsnprintf(msg, sizeof msg, fmt, ap);
    if (w >= (int)sizeof msg)
        msg[whole_chars(msg, sizeof msg - 1)] = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char line[LOG_LINE_MAX];
    size_t len = log_render(line, sizeof line, log_format, now_ms, level, comp, msg, kv, n);
    flockfile(out);
    fwrite(line, 1, len, out);
    fflush(out);
    funlockfile(out);
}

void log_write(int level, log_component_t comp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, comp, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_write_kv(int level, log_component_t comp, const log_kv_t *kv, size_t n, const char *fmt,
                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, comp, kv, n, fmt, ap);
    va_end(ap);
}
