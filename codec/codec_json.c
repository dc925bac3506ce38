/* JSON text of Avro values.  Written here rather than with avro_value_to_json():
 * Avro-C 1.11 renders bytes through a NUL-terminated string and cuts them at the
 * first zero byte (a dead letter's original record would lose everything after its
 * header), and it names union branches of named types without their namespace. */
#include "codec_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int json_codepoint(hf_buf_t *out, uint32_t cp)
{
    if (cp < 0x10000)
        return hf_buf_printf(out, "\\u%04x", cp);
    cp -= 0x10000;
    return hf_buf_printf(out, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
}

int codec_json_string(hf_buf_t *out, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    int r = hf_buf_append(out, "\"", 1);
    size_t i = 0;
    while (!r && i < len) {
        size_t run = i;
        while (run < len && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            r = hf_buf_append(out, p + i, run - i);
            i = run;
            continue;
        }
        uint8_t ch = p[i];
        if (ch == '"' || ch == '\\') {
            r = hf_buf_printf(out, "\\%c", ch);
            i++;
        } else if (ch == '\n') {
            r = hf_buf_append(out, "\\n", 2);
            i++;
        } else if (ch == '\t') {
            r = hf_buf_append(out, "\\t", 2);
            i++;
        } else if (ch == '\r') {
            r = hf_buf_append(out, "\\r", 2);
            i++;
        } else if (ch < 0x80) {
            r = json_codepoint(out, ch);
            i++;
        } else {
            size_t more = ch >= 0xf0 ? 3 : ch >= 0xe0 ? 2 : 1;
            if (len - i - 1 < more)
                return -EINVAL;
            uint32_t cp = ch & (0x3f >> more);
            for (size_t k = 1; k <= more; k++)
                cp = cp << 6 | (p[i + k] & 0x3f);
            r = json_codepoint(out, cp);
            i += more + 1;
        }
    }
    return r ? r : hf_buf_append(out, "\"", 1);
}

int codec_json_bytes(hf_buf_t *out, const uint8_t *p, size_t len)
{
    int r = hf_buf_append(out, "\"", 1);
    for (size_t i = 0; !r && i < len; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
            r = hf_buf_append(out, p + i, 1);
        else
            r = json_codepoint(out, p[i]);
    }
    return r ? r : hf_buf_append(out, "\"", 1);
}

int codec_json_real(hf_buf_t *out, double v, bool single)
{
    if (v != v || v - v != 0)
        return hf_buf_append_str(out, "null");
    char text[40];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (single ? strtof(text, NULL) == (float)v : strtod(text, NULL) == v)
            break;
    }
    int r = hf_buf_append_str(out, text);
    if (!r && !strpbrk(text, ".eE"))
        r = hf_buf_append_str(out, ".0");
    return r;
}
