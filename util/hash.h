/* FNV-1a 64-bit: the hash of event ids, session ids and handoff ids.  Chosen because
 * it is tiny, stable across platforms and languages (other tools recompute
 * handoff ids), and these hashes only need to spread, not resist attack. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HASH_FNV1A64_INIT UINT64_C(0xcbf29ce484222325)
#define HASH_FNV1A64_PRIME UINT64_C(0x100000001b3)

static inline uint64_t hash_fnv1a64_update(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= HASH_FNV1A64_PRIME;
    }
    return h;
}

static inline uint64_t hash_fnv1a64_str(const char *s)
{
    return hash_fnv1a64_update(HASH_FNV1A64_INIT, s, strlen(s));
}
