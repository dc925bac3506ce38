#include "event.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Name tables indexed by enum value: the enum order is the Avro symbol order, so
 * these are also the schemas' symbols. */
static const char *const EVENT_KIND_NAMES[HF_EV__COUNT] = {
    [HF_EV_WEB_VISIT] = "web_visit",  [HF_EV_FORM] = "form",       [HF_EV_IDENTITY] = "identity",
    [HF_EV_DOWNLOAD] = "download",    [HF_EV_WEBINAR] = "webinar", [HF_EV_EMAIL] = "email",
    [HF_EV_SALES] = "sales_activity",
};

/* Other spellings accepted by hf_event_kind_parse(): the record names in snake case,
 * so a config may name a kind after its topic's record. */
static const struct {
    const char *name;
    hf_event_kind_t kind;
} EVENT_KIND_ALIASES[] = {
    {"form_submission", HF_EV_FORM},      {"identity_event", HF_EV_IDENTITY},
    {"content_download", HF_EV_DOWNLOAD}, {"webinar_event", HF_EV_WEBINAR},
    {"email_engagement", HF_EV_EMAIL},    {"sales", HF_EV_SALES},
};

static const char *const EVENT_RECORD_NAMES[HF_EV__COUNT] = {
    [HF_EV_WEB_VISIT] = "WebVisit",     [HF_EV_FORM] = "FormSubmission",
    [HF_EV_IDENTITY] = "IdentityEvent", [HF_EV_DOWNLOAD] = "ContentDownload",
    [HF_EV_WEBINAR] = "WebinarEvent",   [HF_EV_EMAIL] = "EmailEngagement",
    [HF_EV_SALES] = "SalesActivity",
};

static const char *const FORM_TYPE_NAMES[HF_FORM__COUNT] = {
    "demo_request", "contact_sales", "content_gate", "webinar_registration", "newsletter", "other",
};

static const char *const IDENTITY_KIND_NAMES[HF_IDENTITY__COUNT] = {"identify", "traits", "merge"};

static const char *const WEBINAR_ACTION_NAMES[HF_WEBINAR__COUNT] = {"registered", "attended",
                                                                    "no_show", "watched_recording"};

static const char *const EMAIL_ACTION_NAMES[HF_EMAIL__COUNT] = {
    "delivered", "opened", "clicked", "bounced", "unsubscribed", "spam_reported"};

static const char *const ENTITY_TYPE_NAMES[HF_ENTITY__COUNT] = {"contact", "account"};

static const char *const SALES_ACTION_NAMES[HF_SALES__COUNT] = {
    "accepted",     "rejected", "contacted", "meeting_booked", "opportunity_created",
    "disqualified", "won",      "lost",      "recycled"};

static const char *name_of(const char *const *names, int count, int v)
{
    return v >= 0 && v < count ? names[v] : NULL;
}

static int parse_name(const char *const *names, int count, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

const char *hf_event_kind_name(hf_event_kind_t k)
{
    return name_of(EVENT_KIND_NAMES, HF_EV__COUNT, (int)k);
}

const char *hf_event_record_name(hf_event_kind_t k)
{
    return name_of(EVENT_RECORD_NAMES, HF_EV__COUNT, (int)k);
}

const char *hf_form_type_name(hf_form_type_t t)
{
    return name_of(FORM_TYPE_NAMES, HF_FORM__COUNT, (int)t);
}

const char *hf_identity_kind_name(hf_identity_kind_t k)
{
    return name_of(IDENTITY_KIND_NAMES, HF_IDENTITY__COUNT, (int)k);
}

const char *hf_webinar_action_name(hf_webinar_action_t a)
{
    return name_of(WEBINAR_ACTION_NAMES, HF_WEBINAR__COUNT, (int)a);
}

const char *hf_email_action_name(hf_email_action_t a)
{
    return name_of(EMAIL_ACTION_NAMES, HF_EMAIL__COUNT, (int)a);
}

const char *hf_entity_type_name(hf_entity_type_t t)
{
    return name_of(ENTITY_TYPE_NAMES, HF_ENTITY__COUNT, (int)t);
}

const char *hf_sales_action_name(hf_sales_action_t a)
{
    return name_of(SALES_ACTION_NAMES, HF_SALES__COUNT, (int)a);
}

int hf_event_kind_parse(const char *name)
{
    int k = parse_name(EVENT_KIND_NAMES, HF_EV__COUNT, name);
    if (k >= 0 || !name)
        return k;
    for (size_t i = 0; i < sizeof EVENT_KIND_ALIASES / sizeof EVENT_KIND_ALIASES[0]; i++)
        if (strcmp(EVENT_KIND_ALIASES[i].name, name) == 0)
            return (int)EVENT_KIND_ALIASES[i].kind;
    return -1;
}

int hf_form_type_parse(const char *name)
{
    return parse_name(FORM_TYPE_NAMES, HF_FORM__COUNT, name);
}

int hf_webinar_action_parse(const char *name)
{
    return parse_name(WEBINAR_ACTION_NAMES, HF_WEBINAR__COUNT, name);
}

int hf_email_action_parse(const char *name)
{
    return parse_name(EMAIL_ACTION_NAMES, HF_EMAIL__COUNT, name);
}

int hf_sales_action_parse(const char *name)
{
    return parse_name(SALES_ACTION_NAMES, HF_SALES__COUNT, name);
}

/* Placeholders trackers send when they do not know who it is (Segment's list). */
static const char *const BLOCKED_IDS[] = {"", "null", "undefined", "anonymous", "0", "-1"};

bool hf_id_blocked(const char *id)
{
    if (!id)
        return true;
    while (*id && isspace((unsigned char)*id))
        id++;
    size_t len = strlen(id);
    while (len && isspace((unsigned char)id[len - 1]))
        len--;
    for (size_t i = 0; i < sizeof BLOCKED_IDS / sizeof BLOCKED_IDS[0]; i++)
        if (strlen(BLOCKED_IDS[i]) == len && strncasecmp(BLOCKED_IDS[i], id, len) == 0)
            return true;
    return false;
}

const char *hf_event_contact_key(const hf_event_t *ev)
{
    const char *id = ev->contact_id;
    if (!id && ev->kind == HF_EV_SALES && ev->entity_type == HF_ENTITY_CONTACT)
        id = ev->entity_id;
    return hf_id_blocked(id) ? NULL : id;
}
