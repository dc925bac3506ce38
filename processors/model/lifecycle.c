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
