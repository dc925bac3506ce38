#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/hash.h"

/* "<prefix>" and FNV-1a-64 of "<a>" 0x1f "<b>" 0x1f "<n>" in hex: the shape of
 * every deterministic output id. */
static int output_id(char *out, size_t outsz, const char *prefix, const char *a, const char *b,
                     uint64_t n)
{
    if (!a || !b) {
        if (outsz)
            out[0] = 0;
        return -EINVAL;
    }
    char n_str[24];
    int len = snprintf(n_str, sizeof n_str, "%" PRIu64, n);
    uint64_t h = hash_fnv1a64_str(a);
    h = hash_fnv1a64_update(h, "\x1f", 1);
    h = hash_fnv1a64_update(h, b, strlen(b));
    h = hash_fnv1a64_update(h, "\x1f", 1);
    h = hash_fnv1a64_update(h, n_str, (size_t)len);
    if (outsz < HF_HANDOFF_ID_SIZE) {
        if (outsz)
            out[0] = 0;
        return -ENOSPC;
    }
    return snprintf(out, outsz, "%s%016" PRIx64, prefix, h);
}

int hf_handoff_id(char *out, size_t outsz, hf_entity_type_t type, const char *entity_id,
                  uint32_t cycle)
{
    return output_id(out, outsz, "ho_", hf_entity_type_name(type), entity_id, cycle);
}

static const char *const SLA_KIND_NAMES[] = {"accept", "first_touch", "follow_up"};

const char *hf_sla_kind_name(int sla)
{
    return sla >= 0 && sla < (int)(sizeof SLA_KIND_NAMES / sizeof SLA_KIND_NAMES[0])
               ? SLA_KIND_NAMES[sla]
               : NULL;
}

int hf_breach_id(char *out, size_t outsz, const char *handoff_id, int sla, int32_t level)
{
    if (level < 0) {
        if (outsz)
            out[0] = 0;
        return -EINVAL;
    }
    return output_id(out, outsz, "br_", handoff_id, hf_sla_kind_name(sla), (uint64_t)level);
}
