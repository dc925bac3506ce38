/* A growable byte buffer.  Used by every encoder (state, Avro outputs, keys). */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct hf_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} hf_buf_t;

#define HF_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Makes room for @extra more bytes.  Returns 0 or -ENOMEM (the buffer is unchanged). */
int hf_buf_reserve(hf_buf_t *b, size_t extra);

/* Appends @len bytes.  Returns 0 or -ENOMEM. */
int hf_buf_append(hf_buf_t *b, const void *data, size_t len);

/* Appends a NUL-terminated string without its NUL.  Returns 0 or -ENOMEM. */
int hf_buf_append_str(hf_buf_t *b, const char *s);

/* Appends printf-formatted text (no NUL counted in len, but one is kept after it).
 * Returns 0 or -ENOMEM. */
int hf_buf_printf(hf_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Empties the buffer, keeping its memory. */
static inline void hf_buf_reset(hf_buf_t *b)
{
    b->len = 0;
}

/* Frees the memory; the buffer is empty and reusable afterwards. */
void hf_buf_free(hf_buf_t *b);
