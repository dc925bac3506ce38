/* Checked reads shared by every reader of the codec: text checks, schema sizes, the
 * one-line error return. */
#include "codec_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int codec_fail(int code, char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return code;
}

int codec_text_check(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Eight ASCII bytes without a zero at a time: most text is plain ASCII. */
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, sizeof w);
            uint64_t zero = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
            if (!(w & 0x8080808080808080ull) && !zero) {
                i += 8;
                continue;
            }
        }
        uint8_t ch = s[i];
        if (ch == 0)
            return CODEC_TEXT_NUL;
        if (ch < 0x80) {
            i++;
            continue;
        }
        size_t more;
        uint32_t cp;
        if (ch >= 0xc2 && ch <= 0xdf) {
            more = 1;
            cp = ch & 0x1f;
        } else if (ch >= 0xe0 && ch <= 0xef) {
            more = 2;
            cp = ch & 0x0f;
        } else if (ch >= 0xf0 && ch <= 0xf4) {
            more = 3;
            cp = ch & 0x07;
        } else {
            return CODEC_TEXT_NOT_UTF8;
        }
        if (len - i - 1 < more)
            return CODEC_TEXT_NOT_UTF8;
        for (size_t k = 1; k <= more; k++) {
            uint8_t cont = s[i + k];
            if ((cont & 0xc0) != 0x80)
                return CODEC_TEXT_NOT_UTF8;
            cp = cp << 6 | (cont & 0x3f);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF. */
        if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return CODEC_TEXT_NOT_UTF8;
        i += more + 1;
    }
    return CODEC_TEXT_OK;
}

avro_schema_t codec_schema_deref(avro_schema_t s)
{
    return avro_typeof(s) == AVRO_LINK ? avro_schema_link_target(s) : s;
}

size_t codec_schema_min_bytes(avro_schema_t schema, int depth)
{
    if (depth > CODEC_MAX_DEPTH)
        return 0;
    schema = codec_schema_deref(schema);
    switch (avro_typeof(schema)) {
    case AVRO_NULL:
        return 0;
    case AVRO_FLOAT:
        return 4;
    case AVRO_DOUBLE:
        return 8;
    case AVRO_FIXED:
        return (size_t)avro_schema_fixed_size(schema);
    case AVRO_RECORD: {
        size_t sum = 0, n = avro_schema_record_size(schema);
        for (size_t i = 0; i < n; i++)
            sum += codec_schema_min_bytes(avro_schema_record_field_get_by_index(schema, (int)i),
                                          depth + 1);
        return sum;
    }
    default:
        /* boolean, int, long, string, bytes, enum, array, map, union: a byte at least */
        return 1;
    }
}
