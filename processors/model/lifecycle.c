#include "lifecycle.h"

#include <string.h>

static const char *const STAGE_NAMES[HF_STAGE__COUNT] = {
    [HF_STAGE_ANONYMOUS] = "anonymous",
    [HF_STAGE_KNOWN] = "known",
    [HF_STAGE_ENGAGED] = "engaged",
    [HF_STAGE_CONVERSATION_READY] = "conversation_ready",
    [HF_STAGE_ACCEPTED] = "accepted",
    [HF_STAGE_QUALIFIED] = "qualified",
    [HF_STAGE_OPPORTUNITY] = "opportunity",
    [HF_STAGE_CUSTOMER] = "customer",
    [HF_STAGE_RECYCLED] = "recycled",
    [HF_STAGE_DISQUALIFIED] = "disqualified",
    [HF_STAGE_LOST] = "lost",
};

const char *hf_stage_name(hf_stage_t s)
{
    return (int)s >= 0 && s < HF_STAGE__COUNT ? STAGE_NAMES[s] : NULL;
}

int hf_stage_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < HF_STAGE__COUNT; i++)
        if (strcmp(STAGE_NAMES[i], name) == 0)
            return i;
    return -1;
}

hf_stage_rank_t hf_stage_rank(hf_stage_t s)
{
    switch (s) {
    case HF_STAGE_ANONYMOUS:
        return HF_STAGE_RANK_ANONYMOUS;
    case HF_STAGE_KNOWN:
        return HF_STAGE_RANK_KNOWN;
    case HF_STAGE_ENGAGED:
    case HF_STAGE_RECYCLED:
    case HF_STAGE_LOST:
        return HF_STAGE_RANK_NURTURE;
    case HF_STAGE_CONVERSATION_READY:
        return HF_STAGE_RANK_CONVERSATION_READY;
    case HF_STAGE_ACCEPTED:
        return HF_STAGE_RANK_ACCEPTED;
    case HF_STAGE_QUALIFIED:
        return HF_STAGE_RANK_QUALIFIED;
    case HF_STAGE_OPPORTUNITY:
        return HF_STAGE_RANK_OPPORTUNITY;
    case HF_STAGE_CUSTOMER:
        return HF_STAGE_RANK_CUSTOMER;
    default:
        return HF_STAGE_RANK_DISQUALIFIED;
    }
}

bool hf_stage_is_forward(hf_stage_t s)
{
    return s <= HF_STAGE_CUSTOMER;
}
