#include "vec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *vec_grow(void *items, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap)
        return items;
    size_t n = *cap ? *cap : 4;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return NULL;
        n *= 2;
    }
    if (n > SIZE_MAX / item_size)
        return NULL;
    void *p = realloc(items, n * item_size);
    if (!p)
        return NULL;
    *cap = n;
    return p;
}

void vec_insert_gap(void *items, size_t count, size_t pos, size_t item_size)
{
    unsigned char *p = items;
    memmove(p + (pos + 1) * item_size, p + pos * item_size, (count - pos) * item_size);
}

void vec_remove(void *items, size_t count, size_t pos, size_t item_size)
{
    unsigned char *p = items;
    memmove(p + pos * item_size, p + (pos + 1) * item_size, (count - pos - 1) * item_size);
}
