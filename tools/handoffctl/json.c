/* handoffctl's JSON output; see json.h. */
#include "json.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Nesting accepted in a JSON value passed through (output.format: json). */
#define CTL_JSON_MAX_DEPTH 64

/* Length of the well-formed UTF-8 sequence at @s (at most @left bytes), or 0 when
 * the bytes there are not one: overlong forms, surrogates and code points over
 * U+10FFFF are not. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* Quote, backslash, newline, tab and carriage return get their short escapes; the
 * other bytes that must be escaped, the byte's value as a code point. */
void hfctl_json_string(hf_buf_t *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    hf_buf_append(out, "\"", 1);
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        size_t n = utf8_len(p + i, len - i);
        if (c == '"' || c == '\\') {
            hf_buf_printf(out, "\\%c", c);
        } else if (c == '\n') {
            hf_buf_append_str(out, "\\n");
        } else if (c == '\t') {
            hf_buf_append_str(out, "\\t");
        } else if (c == '\r') {
            hf_buf_append_str(out, "\\r");
        } else if (c < 0x20 || c == 0x7f || n == 0) {
            hf_buf_printf(out, "\\u%04x", c);
        } else {
            hf_buf_append(out, p + i, n);
            i += n;
            continue;
        }
        i++;
    }
    hf_buf_append(out, "\"", 1);
}

/* A JSON value passed through (records written with output.format: json), checked
 * against RFC 8259 and copied without the whitespace between tokens, so it is one
 * valid line whatever the producer wrote. */
typedef struct json_scan {
    const unsigned char *p, *start, *end;
    hf_buf_t *out;
    int depth;
} json_scan_t;

static void json_scan_ws(json_scan_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int json_scan_string(json_scan_t *j)
{
    const unsigned char *from = j->p++; /* the opening quote */
    while (j->p < j->end && *j->p != '"') {
        size_t left = (size_t)(j->end - j->p);
        if (*j->p == '\\') {
            if (left >= 6 && j->p[1] == 'u' && isxdigit(j->p[2]) && isxdigit(j->p[3]) &&
                isxdigit(j->p[4]) && isxdigit(j->p[5]))
                j->p += 6;
            else if (left >= 2 && j->p[1] && strchr("\"\\/bfnrt", j->p[1]))
                j->p += 2;
            else
                return -1;
        } else if (*j->p < 0x20) {
            return -1;
        } else {
            size_t n = utf8_len(j->p, left);
            if (!n)
                return -1;
            j->p += n;
        }
    }
    if (j->p >= j->end)
        return -1;
    j->p++;
    return hf_buf_append(j->out, from, (size_t)(j->p - from));
}

static bool json_scan_digits(json_scan_t *j)
{
    const unsigned char *from = j->p;
    while (j->p < j->end && isdigit(*j->p))
        j->p++;
    return j->p > from;
}

static int json_scan_number(json_scan_t *j)
{
    const unsigned char *from = j->p;
    if (*j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (!json_scan_digits(j))
        return -1;
    if (j->p < j->end && *j->p == '.' && (j->p++, !json_scan_digits(j)))
        return -1;
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!json_scan_digits(j))
            return -1;
    }
    return hf_buf_append(j->out, from, (size_t)(j->p - from));
}

static int json_scan_value(json_scan_t *j)
{
    json_scan_ws(j);
    if (j->p >= j->end)
        return -1;
    unsigned char c = *j->p;
    if (c == '"')
        return json_scan_string(j);
    if (c == '-' || isdigit(c))
        return json_scan_number(j);
    static const char *const literals[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(literals[i]);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, literals[i], n) == 0) {
            j->p += n;
            return hf_buf_append(j->out, literals[i], n);
        }
    }
    if ((c != '{' && c != '[') || ++j->depth > CTL_JSON_MAX_DEPTH)
        return -1;
    bool object = c == '{';
    unsigned char close = object ? '}' : ']';
    hf_buf_append(j->out, j->p++, 1);
    json_scan_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->depth--;
        return hf_buf_append(j->out, j->p++, 1);
    }
    for (;;) {
        if (object) {
            json_scan_ws(j);
            if (j->p >= j->end || *j->p != '"' || json_scan_string(j))
                return -1;
            json_scan_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return -1;
            hf_buf_append(j->out, j->p++, 1);
        }
        if (json_scan_value(j))
            return -1;
        json_scan_ws(j);
        if (j->p >= j->end || (*j->p != ',' && *j->p != close))
            return -1;
        bool last = *j->p == close;
        hf_buf_append(j->out, j->p++, 1);
        if (last)
            break;
    }
    j->depth--;
    return 0;
}

int hfctl_json_compact(hf_buf_t *out, const void *data, size_t len, size_t *at)
{
    json_scan_t j = {data, data, (const unsigned char *)data + len, out, 0};
    size_t mark = out->len;
    int r = json_scan_value(&j);
    if (!r) {
        json_scan_ws(&j);
        r = j.p == j.end ? 0 : -1;
    }
    if (r) {
        *at = (size_t)(j.p - j.start);
        out->len = mark;
        return -EINVAL;
    }
    return 0;
}
