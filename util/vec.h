/* Growth of the plain arrays processors keep (pointer + count + capacity). */
#pragma once

#include <stddef.h>

/* Returns @items grown so that it holds at least @need (>= 1) items of @item_size bytes,
 * updating *@cap; or NULL on out of memory, leaving @items and *@cap untouched. */
void *vec_grow(void *items, size_t *cap, size_t need, size_t item_size);

/* Makes a free slot at @pos in an array of @count items (moving the tail up); the
 * array must have room for count + 1. */
void vec_insert_gap(void *items, size_t count, size_t pos, size_t item_size);

/* Removes the item at @pos (moving the tail down). */
void vec_remove(void *items, size_t count, size_t pos, size_t item_size);
