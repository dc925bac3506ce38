#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hash.h"

int hf_handoff_id(char *out, size_t outsz, hf_entity_type_t type, const char *entity_id,
                  uint32_t cycle)
{
    const char *type_name = hf_entity_type_name(type);
    if (!type_name || !entity_id) {
        if (outsz)
            out[0] = 0;
        return -EINVAL;
    }
    char cycle_str[16];
    int n = snprintf(cycle_str, sizeof cycle_str, "%" PRIu32, cycle);
    uint64_t h = hash_fnv1a64_str(type_name);
    h = hash_fnv1a64_update(h, "\x1f", 1);
    h = hash_fnv1a64_update(h, entity_id, strlen(entity_id));
    h = hash_fnv1a64_update(h, "\x1f", 1);
    h = hash_fnv1a64_update(h, cycle_str, (size_t)n);
    if (outsz < HF_HANDOFF_ID_SIZE) {
        if (outsz)
            out[0] = 0;
        return -ENOSPC;
    }
    return snprintf(out, outsz, "ho_%016" PRIx64, h);
}
