/* The tables of every record the codec reads or writes, and of the shapes records
 * share.  Declarative: a field's Avro name, its C type and where it is. */
#include "codec_tables.h"

#include <string.h>

#include "processors/rules/rules.h"

/* Plans store and load enums as a 32-bit int. */
_Static_assert(sizeof(int) == sizeof(int32_t), "int size");
_Static_assert(sizeof(hf_form_type_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_identity_kind_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_webinar_action_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_email_action_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_entity_type_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_sales_action_t) == sizeof(int), "enum size");
_Static_assert(sizeof(digest_status_t) == sizeof(int), "enum size");
_Static_assert(sizeof(hf_event_t) <= UINT16_MAX, "slot offsets are 16-bit");
_Static_assert(sizeof(hf_internal_t) <= UINT16_MAX, "slot offsets are 16-bit");
_Static_assert(sizeof(hf_handoff_t) <= UINT16_MAX, "slot offsets are 16-bit");
/* An EMAIL slot names the domain; the decoder puts the hash in the pointer after it. */
_Static_assert(offsetof(hf_traits_t, email_hash) ==
                   offsetof(hf_traits_t, email_domain) + sizeof(const char *),
               "email_hash follows email_domain");

#define AT(type, f) ((uint16_t)offsetof(type, f))
#define FIELD(n, t, type, f)                                                                       \
    {                                                                                              \
        n, t, AT(type, f), 0, NULL                                                                 \
    }
#define WITH(n, t, type, f, aux_f)                                                                 \
    {                                                                                              \
        n, t, AT(type, f), AT(type, aux_f), NULL                                                   \
    }
#define ENUM(n, type, f, count)                                                                    \
    {                                                                                              \
        n, CODEC_SLOT_ENUM, AT(type, f), count, NULL                                               \
    }
#define ARRAY(n, type, f, count_f, table)                                                          \
    {                                                                                              \
        n, CODEC_SLOT_ARRAY, AT(type, f), AT(type, count_f), &table                                \
    }
#define TABLE(name, type, slots)                                                                   \
    {                                                                                              \
        name, #type, slots, sizeof(slots) / sizeof(slots[0]), sizeof(type)                         \
    }

/* --- inputs (hf_event_t) ----------------------------------------------------------- */

#define EV_STR(n, f) FIELD(n, CODEC_SLOT_STR, hf_event_t, f)
#define EV_I32(n, f) FIELD(n, CODEC_SLOT_I32, hf_event_t, f)
#define EV_ENUM(n, f, count) ENUM(n, hf_event_t, f, count)
#define ENVELOPE                                                                                   \
    EV_STR("event_id", event_id),                                                                  \
        FIELD("occurred_at", CODEC_SLOT_I64, hf_event_t, occurred_at_ms), EV_STR("source", source)
#define TR_STR(n, f) FIELD(n, CODEC_SLOT_STR, hf_traits_t, f)

static const codec_slot_t traits_slots[] = {
    WITH("email", CODEC_SLOT_EMAIL, hf_traits_t, email, email_domain),
    TR_STR("full_name", full_name),
    TR_STR("title", title),
    TR_STR("seniority", seniority),
    TR_STR("department", department),
    TR_STR("company_name", company_name),
    TR_STR("account_id", account_id),
    TR_STR("industry", industry),
    WITH("employees", CODEC_SLOT_OPT_I32, hf_traits_t, employees, has_employees),
    TR_STR("country", country),
    TR_STR("region", region),
};
static const codec_table_t traits = TABLE("Traits", hf_traits_t, traits_slots);
#define TRAITS                                                                                     \
    {                                                                                              \
        "traits", CODEC_SLOT_RECORD, AT(hf_event_t, traits), AT(hf_traits_t, present), &traits     \
    }

static const codec_slot_t web_visit_slots[] = {
    ENVELOPE,
    EV_STR("anonymous_id", anonymous_id),
    EV_STR("contact_id", contact_id),
    EV_STR("session_id", session_id),
    EV_STR("url", url),
    EV_STR("title", title),
    EV_STR("referrer", referrer),
    EV_STR("utm_source", utm_source),
    EV_STR("utm_medium", utm_medium),
    EV_STR("utm_campaign", utm_campaign),
    EV_I32("duration_ms", duration_ms),
    EV_STR("country", country),
};

static const codec_slot_t form_slots[] = {
    ENVELOPE,
    EV_STR("anonymous_id", anonymous_id),
    EV_STR("contact_id", contact_id),
    EV_STR("form_id", form_id),
    EV_ENUM("form_type", form_type, HF_FORM__COUNT),
    EV_STR("url", url),
    TRAITS,
};

static const codec_slot_t identity_slots[] = {
    ENVELOPE,
    EV_ENUM("kind", identity_kind, HF_IDENTITY__COUNT),
    EV_STR("contact_id", contact_id),
    EV_STR("anonymous_id", anonymous_id),
    EV_STR("merged_contact_id", merged_contact_id),
    TRAITS,
};

static const codec_slot_t download_slots[] = {
    ENVELOPE,
    EV_STR("contact_id", contact_id),
    EV_STR("anonymous_id", anonymous_id),
    EV_STR("asset_id", asset_id),
    EV_STR("asset_title", asset_title),
    EV_STR("asset_type", asset_type),
    WITH("tags", CODEC_SLOT_STRS, hf_event_t, tags, tag_count),
    EV_STR("campaign", campaign),
};

static const codec_slot_t webinar_slots[] = {
    ENVELOPE,
    EV_STR("contact_id", contact_id),
    EV_STR("webinar_id", webinar_id),
    EV_STR("webinar_title", webinar_title),
    EV_ENUM("action", webinar_action, HF_WEBINAR__COUNT),
    EV_I32("minutes_attended", minutes_attended),
    EV_I32("questions_asked", questions_asked),
    EV_STR("campaign", campaign),
};

static const codec_slot_t email_slots[] = {
    ENVELOPE,
    EV_STR("contact_id", contact_id),
    EV_STR("email_id", email_id),
    EV_STR("campaign", campaign),
    EV_ENUM("action", email_action, HF_EMAIL__COUNT),
    EV_STR("link_url", link_url),
};

static const codec_slot_t sales_slots[] = {
    ENVELOPE,
    EV_ENUM("entity_type", entity_type, HF_ENTITY__COUNT),
    EV_STR("entity_id", entity_id),
    EV_STR("handoff_id", handoff_id),
    EV_STR("owner_id", owner_id),
    EV_ENUM("action", sales_action, HF_SALES__COUNT),
    EV_STR("reason", reason),
    EV_STR("channel", channel),
    EV_STR("product", product),
};

static const codec_table_t inputs[HF_EV__COUNT] = {
    [HF_EV_WEB_VISIT] = TABLE("WebVisit", hf_event_t, web_visit_slots),
    [HF_EV_FORM] = TABLE("FormSubmission", hf_event_t, form_slots),
    [HF_EV_IDENTITY] = TABLE("IdentityEvent", hf_event_t, identity_slots),
    [HF_EV_DOWNLOAD] = TABLE("ContentDownload", hf_event_t, download_slots),
    [HF_EV_WEBINAR] = TABLE("WebinarEvent", hf_event_t, webinar_slots),
    [HF_EV_EMAIL] = TABLE("EmailEngagement", hf_event_t, email_slots),
    [HF_EV_SALES] = TABLE("SalesActivity", hf_event_t, sales_slots),
};

/* --- shapes shared by outputs and records between stages ----------------------------
 * Whether a field may be null is the schema's to say: a Touch's title is required in
 * a ConversationReady and may be null in a MemberUpdate. */

static const codec_slot_t reason_slots[] = {
    FIELD("rule", CODEC_SLOT_STR, hf_reason_t, rule),
    FIELD("points", CODEC_SLOT_I32, hf_reason_t, points),
    FIELD("count", CODEC_SLOT_I32, hf_reason_t, count),
    FIELD("detail", CODEC_SLOT_STR, hf_reason_t, detail),
};
static const codec_table_t reason = TABLE("Reason", hf_reason_t, reason_slots);

static const codec_slot_t page_slots[] = {
    FIELD("url", CODEC_SLOT_STR, hf_page_t, url),
    FIELD("title", CODEC_SLOT_STR, hf_page_t, title),
    FIELD("views", CODEC_SLOT_I32, hf_page_t, views),
};
static const codec_table_t page = TABLE("PageStat", hf_page_t, page_slots);

static const codec_slot_t download_item_slots[] = {
    FIELD("asset_id", CODEC_SLOT_STR, hf_download_t, asset_id),
    FIELD("title", CODEC_SLOT_STR, hf_download_t, title),
    FIELD("type", CODEC_SLOT_STR, hf_download_t, type),
    FIELD("at", CODEC_SLOT_I64, hf_download_t, at_ms),
};
static const codec_table_t download = TABLE("Download", hf_download_t, download_item_slots);

static const codec_slot_t webinar_item_slots[] = {
    FIELD("webinar_id", CODEC_SLOT_STR, hf_webinar_t, webinar_id),
    FIELD("title", CODEC_SLOT_STR, hf_webinar_t, title),
    FIELD("action", CODEC_SLOT_STR, hf_webinar_t, action),
    FIELD("minutes", CODEC_SLOT_I32, hf_webinar_t, minutes),
    FIELD("at", CODEC_SLOT_I64, hf_webinar_t, at_ms),
};
static const codec_table_t webinar = TABLE("Webinar", hf_webinar_t, webinar_item_slots);

static const codec_slot_t touch_slots[] = {
    FIELD("at", CODEC_SLOT_I64, hf_touch_t, at_ms),
    FIELD("type", CODEC_SLOT_STR, hf_touch_t, type),
    FIELD("title", CODEC_SLOT_STR, hf_touch_t, title),
    FIELD("detail", CODEC_SLOT_STR, hf_touch_t, detail),
};
static const codec_table_t touch = TABLE("Touch", hf_touch_t, touch_slots);

static const codec_slot_t interest_slots[] = {
    FIELD("topic", CODEC_SLOT_STR, hf_interest_t, topic),
    FIELD("weight", CODEC_SLOT_F32, hf_interest_t, weight),
};
static const codec_table_t interest = TABLE("Interest", hf_interest_t, interest_slots);

static const codec_slot_t member_slots[] = {
    FIELD("contact_id", CODEC_SLOT_STR, hf_member_t, contact_id),
    FIELD("role", CODEC_SLOT_STR, hf_member_t, role),
    FIELD("score", CODEC_SLOT_I32, hf_member_t, score),
    FIELD("last_active", CODEC_SLOT_I64, hf_member_t, last_active_ms),
};
static const codec_table_t member = TABLE("Member", hf_member_t, member_slots);

/* A ConversationReady's Member is a RosterUpdate's with the placement appended. */
static const codec_slot_t buying_group_member_slots[] = {
    FIELD("contact_id", CODEC_SLOT_STR, hf_member_t, contact_id),
    FIELD("role", CODEC_SLOT_STR, hf_member_t, role),
    FIELD("score", CODEC_SLOT_I32, hf_member_t, score),
    FIELD("last_active", CODEC_SLOT_I64, hf_member_t, last_active_ms),
    FIELD("placement", CODEC_SLOT_STR, hf_member_t, placement),
};
static const codec_table_t buying_group_member =
    TABLE("Member", hf_member_t, buying_group_member_slots);

/* --- outputs ------------------------------------------------------------------------ */

#define JO(n, t, f) FIELD(n, t, hf_journey_t, f)
static const codec_slot_t email_stats_slots[] = {
    JO("opens", CODEC_SLOT_I32, email_opens),
    JO("clicks", CODEC_SLOT_I32, email_clicks),
    JO("last_campaign", CODEC_SLOT_STR, email_last_campaign),
};
static const codec_table_t email_stats = TABLE("EmailStats", hf_journey_t, email_stats_slots);

static const codec_slot_t journey_slots[] = {
    JO("first_seen", CODEC_SLOT_I64, first_seen_ms),
    WITH("known_since", CODEC_SLOT_OPT_I64, hf_journey_t, known_since_ms, has_known_since),
    JO("sessions", CODEC_SLOT_I32, sessions),
    JO("page_views", CODEC_SLOT_I32, page_views),
    ARRAY("top_pages", hf_journey_t, top_pages, top_page_count, page),
    ARRAY("downloads", hf_journey_t, downloads, download_count, download),
    ARRAY("webinars", hf_journey_t, webinars, webinar_count, webinar),
    {"email", CODEC_SLOT_RECORD, 0, CODEC_SLOT_ALWAYS, &email_stats},
    ARRAY("recent", hf_journey_t, recent, recent_count, touch),
};
static const codec_table_t journey = TABLE("Journey", hf_journey_t, journey_slots);

#define HO(n, t, f) FIELD(n, t, hf_handoff_t, f)
static const codec_slot_t routing_slots[] = {
    HO("team", CODEC_SLOT_STR, routing_team),
    HO("region", CODEC_SLOT_STR, routing_region),
    HO("note", CODEC_SLOT_STR, routing_note),
};
static const codec_table_t routing = TABLE("Routing", hf_handoff_t, routing_slots);

static const codec_slot_t sla_due_slots[] = {
    HO("accept_by", CODEC_SLOT_I64, sla_accept_by_ms),
    HO("first_touch_by", CODEC_SLOT_I64, sla_first_touch_by_ms),
};
static const codec_table_t sla_due = TABLE("SlaDue", hf_handoff_t, sla_due_slots);

static const codec_slot_t handoff_slots[] = {
    HO("handoff_id", CODEC_SLOT_STR, handoff_id),
    ENUM("entity_type", hf_handoff_t, entity_type, HF_ENTITY__COUNT),
    HO("entity_id", CODEC_SLOT_STR, entity_id),
    HO("account_id", CODEC_SLOT_STR, account_id),
    HO("rule", CODEC_SLOT_STR, rule),
    HO("qualified_at", CODEC_SLOT_I64, qualified_at_ms),
    HO("emitted_at", CODEC_SLOT_I64, emitted_at_ms),
    HO("score", CODEC_SLOT_I32, score),
    HO("fit_grade", CODEC_SLOT_STR, fit_grade),
    HO("stage_before", CODEC_SLOT_STR, stage_before),
    ARRAY("reasons", hf_handoff_t, reasons, reason_count, reason),
    {"journey", CODEC_SLOT_RECORD, AT(hf_handoff_t, journey), CODEC_SLOT_ALWAYS, &journey},
    ARRAY("interests", hf_handoff_t, interests, interest_count, interest),
    ARRAY("buying_group", hf_handoff_t, buying_group, buying_group_count, buying_group_member),
    WITH("roles_covered", CODEC_SLOT_STRS, hf_handoff_t, roles_covered, roles_covered_count),
    {"routing", CODEC_SLOT_RECORD, 0, CODEC_SLOT_ALWAYS, &routing},
    {"sla", CODEC_SLOT_RECORD, 0, CODEC_SLOT_ALWAYS, &sla_due},
    HO("kind", CODEC_SLOT_STR, kind),
    HO("product", CODEC_SLOT_STR, product),
};

static const codec_slot_t lifecycle_slots[] = {
    ENUM("entity_type", hf_lifecycle_t, entity_type, HF_ENTITY__COUNT),
    FIELD("entity_id", CODEC_SLOT_STR, hf_lifecycle_t, entity_id),
    FIELD("from_stage", CODEC_SLOT_STR, hf_lifecycle_t, from_stage),
    FIELD("to_stage", CODEC_SLOT_STR, hf_lifecycle_t, to_stage),
    FIELD("at", CODEC_SLOT_I64, hf_lifecycle_t, at_ms),
    FIELD("cause", CODEC_SLOT_STR, hf_lifecycle_t, cause),
};

#define BR(n, t, f) FIELD(n, t, hf_breach_t, f)
static const codec_slot_t breach_slots[] = {
    BR("breach_id", CODEC_SLOT_STR, breach_id),
    BR("handoff_id", CODEC_SLOT_STR, handoff_id),
    ENUM("entity_type", hf_breach_t, entity_type, HF_ENTITY__COUNT),
    BR("entity_id", CODEC_SLOT_STR, entity_id),
    BR("owner_id", CODEC_SLOT_STR, owner_id),
    ENUM("sla", hf_breach_t, sla, HF_SLA__COUNT),
    BR("due_at", CODEC_SLOT_I64, due_at_ms),
    BR("breached_at", CODEC_SLOT_I64, breached_at_ms),
    BR("level", CODEC_SLOT_I32, level),
};

#define DL(n, t, f) FIELD(n, t, hf_dead_letter_t, f)
static const codec_slot_t dead_letter_slots[] = {
    DL("topic", CODEC_SLOT_STR, topic),
    DL("partition", CODEC_SLOT_I32, partition),
    DL("offset", CODEC_SLOT_I64, offset),
    WITH("key", CODEC_SLOT_BYTES, hf_dead_letter_t, key, key_len),
    WITH("value", CODEC_SLOT_BYTES, hf_dead_letter_t, value, value_len),
    DL("error", CODEC_SLOT_STR, error),
    DL("at", CODEC_SLOT_I64, at_ms),
};

/* --- records between stages (hf_internal_t) ------------------------------------------ */

#define MU(n, t, f) FIELD(n, t, hf_internal_t, member.f)
static const codec_slot_t member_update_slots[] = {
    MU("contact_id", CODEC_SLOT_STR, contact_id),
    MU("account_id", CODEC_SLOT_STR, account_id),
    MU("leave", CODEC_SLOT_BOOL, leave),
    MU("version", CODEC_SLOT_U64, version),
    MU("at", CODEC_SLOT_I64, at_ms),
    MU("score", CODEC_SLOT_F64, score),
    MU("score_at", CODEC_SLOT_I64, score_at_ms),
    MU("role", CODEC_SLOT_STR, role),
    MU("stage", CODEC_SLOT_STR, stage),
    MU("fit_grade", CODEC_SLOT_STR, fit_grade),
    MU("first_seen", CODEC_SLOT_I64, first_seen_ms),
    MU("last_active", CODEC_SLOT_I64, last_active_ms),
    MU("company_name", CODEC_SLOT_STR, company_name),
    MU("industry", CODEC_SLOT_STR, industry),
    WITH("employees", CODEC_SLOT_OPT_I32, hf_internal_t, member.employees, member.has_employees),
    MU("country", CODEC_SLOT_STR, country),
    MU("region", CODEC_SLOT_STR, region),
    ARRAY("interests", hf_internal_t, member.interests, member.interest_count, interest),
    ARRAY("contributions", hf_internal_t, member.contributions, member.contribution_count, reason),
    ARRAY("touches", hf_internal_t, member.touches, member.touch_count, touch),
    ARRAY("downloads", hf_internal_t, member.downloads, member.download_count, download),
    ARRAY("webinars", hf_internal_t, member.webinars, member.webinar_count, webinar),
    MU("sessions", CODEC_SLOT_I32, sessions),
    MU("page_views", CODEC_SLOT_I32, page_views),
    MU("email_opens", CODEC_SLOT_I32, email_opens),
    MU("email_clicks", CODEC_SLOT_I32, email_clicks),
    MU("placement", CODEC_SLOT_STR, placement),
};

static const codec_slot_t roster_slots[] = {
    FIELD("contact_id", CODEC_SLOT_STR, hf_internal_t, roster_contact_id),
    FIELD("account_id", CODEC_SLOT_STR, hf_internal_t, roster.account_id),
    FIELD("version", CODEC_SLOT_U64, hf_internal_t, roster.version),
    ARRAY("members", hf_internal_t, roster.members, roster.member_count, member),
    WITH("roles_covered", CODEC_SLOT_STRS, hf_internal_t, roster.roles_covered,
         roster.roles_covered_count),
};

#define MR(n, t, f) FIELD(n, t, hf_internal_t, merge_request.f)
static const codec_slot_t merge_request_slots[] = {
    MR("event_id", CODEC_SLOT_STR, event_id),
    MR("at", CODEC_SLOT_I64, at_ms),
    MR("survivor_id", CODEC_SLOT_STR, survivor_id),
    MR("loser_id", CODEC_SLOT_STR, loser_id),
    MR("survivor_known", CODEC_SLOT_BOOL, survivor_known),
    MR("bounced", CODEC_SLOT_BOOL, bounced),
};

#define MS(n, t, f) FIELD(n, t, hf_internal_t, merge_state.f)
static const codec_slot_t merge_state_slots[] = {
    MS("event_id", CODEC_SLOT_STR, event_id),
    MS("at", CODEC_SLOT_I64, at_ms),
    MS("survivor_id", CODEC_SLOT_STR, survivor_id),
    MS("loser_id", CODEC_SLOT_STR, loser_id),
    WITH("state", CODEC_SLOT_BYTES, hf_internal_t, merge_state.state, merge_state.state_len),
};

#define CU(n, t, f) FIELD(n, t, hf_internal_t, case_update.f)
static const codec_slot_t case_update_slots[] = {
    CU("team", CODEC_SLOT_STR, team),
    CU("handoff_id", CODEC_SLOT_STR, handoff_id),
    ENUM("entity_type", hf_internal_t, case_update.entity_type, HF_ENTITY__COUNT),
    CU("entity_id", CODEC_SLOT_STR, entity_id),
    CU("owner_id", CODEC_SLOT_STR, owner_id),
    ENUM("status", hf_internal_t, case_update.status, DIGEST__STATUS_COUNT),
    CU("at", CODEC_SLOT_I64, at_ms),
    CU("handed_off_at", CODEC_SLOT_I64, handed_off_at_ms),
    CU("reason", CODEC_SLOT_STR, reason),
    WITH("interests", CODEC_SLOT_STRS, hf_internal_t, case_update.interests,
         case_update.interest_count),
    CU("next_deadline", CODEC_SLOT_I64, next_deadline_ms),
    CU("accepted_at", CODEC_SLOT_I64, accepted_at_ms),
    CU("touched_at", CODEC_SLOT_I64, touched_at_ms),
    CU("accept_breaches", CODEC_SLOT_I32, breach_level[HF_SLA_ACCEPT]),
    CU("accept_breached_at", CODEC_SLOT_I64, breach_at_ms[HF_SLA_ACCEPT]),
    CU("first_touch_breaches", CODEC_SLOT_I32, breach_level[HF_SLA_FIRST_TOUCH]),
    CU("first_touch_breached_at", CODEC_SLOT_I64, breach_at_ms[HF_SLA_FIRST_TOUCH]),
    CU("follow_up_breaches", CODEC_SLOT_I32, breach_level[HF_SLA_FOLLOW_UP]),
    CU("follow_up_breached_at", CODEC_SLOT_I64, breach_at_ms[HF_SLA_FOLLOW_UP]),
    CU("sla_done", CODEC_SLOT_BOOL, sla_done),
};

/* --- the daily digest (digest_out_t) ------------------------------------------------- */

#define DC(n, t, f) FIELD(n, t, digest_out_case_t, f)
static const codec_slot_t digest_case_slots[] = {
    DC("handoff_id", CODEC_SLOT_STR, handoff_id),
    DC("entity_type", CODEC_SLOT_STR, entity_type),
    DC("entity_id", CODEC_SLOT_STR, entity_id),
    DC("owner_id", CODEC_SLOT_STR, owner_id),
    DC("reason", CODEC_SLOT_STR, reason),
    DC("interests", CODEC_SLOT_STR, interests),
    DC("handed_off_at", CODEC_SLOT_I64, handed_off_at_ms),
    WITH("next_deadline", CODEC_SLOT_OPT_I64, digest_out_case_t, next_deadline_ms,
         has_next_deadline),
};
static const codec_table_t digest_case = TABLE("DigestCase", digest_out_case_t, digest_case_slots);

#define DM(n, t, f) FIELD(n, t, digest_out_mark_t, f)
static const codec_slot_t digest_breach_slots[] = {
    DM("handoff_id", CODEC_SLOT_STR, handoff_id), DM("entity_id", CODEC_SLOT_STR, entity_id),
    DM("owner_id", CODEC_SLOT_STR, owner_id),     DM("sla", CODEC_SLOT_STR, sla),
    DM("level", CODEC_SLOT_I32, level),           DM("at", CODEC_SLOT_I64, at_ms),
};
static const codec_table_t digest_breach =
    TABLE("DigestBreach", digest_out_mark_t, digest_breach_slots);
static const codec_slot_t digest_outcome_slots[] = {
    DM("handoff_id", CODEC_SLOT_STR, handoff_id),
    DM("entity_id", CODEC_SLOT_STR, entity_id),
    DM("owner_id", CODEC_SLOT_STR, owner_id),
    DM("at", CODEC_SLOT_I64, at_ms),
};
static const codec_table_t digest_win = TABLE("DigestWin", digest_out_mark_t, digest_outcome_slots);
static const codec_table_t digest_loss =
    TABLE("DigestLoss", digest_out_mark_t, digest_outcome_slots);

#define DF(n, t, f) FIELD(n, t, digest_out_figures_t, f)
static const codec_slot_t digest_standing_slots[] = {
    DF("met", CODEC_SLOT_I32, met),
    DF("breached", CODEC_SLOT_I32, breached),
    DF("open", CODEC_SLOT_I32, open),
    WITH("median_accept_ms", CODEC_SLOT_OPT_I64, digest_out_figures_t, median_accept_ms,
         has_median_accept),
    WITH("median_first_touch_ms", CODEC_SLOT_OPT_I64, digest_out_figures_t, median_first_touch_ms,
         has_median_first_touch),
};
static const codec_table_t digest_standing =
    TABLE("DigestStanding", digest_out_figures_t, digest_standing_slots);
static const codec_table_t team_standing =
    TABLE("TeamStanding", digest_out_figures_t, digest_standing_slots);

#define DG(n, t, f) FIELD(n, t, digest_out_t, f)
static const codec_slot_t digest_slots[] = {
    DG("digest_id", CODEC_SLOT_STR, digest_id),
    DG("team", CODEC_SLOT_STR, team),
    DG("owner_id", CODEC_SLOT_STR, owner_id),
    DG("date", CODEC_SLOT_STR, date),
    DG("window_start", CODEC_SLOT_I64, window_start_ms),
    DG("window_end", CODEC_SLOT_I64, window_end_ms),
    DG("emitted_at", CODEC_SLOT_I64, emitted_at_ms),
    ARRAY("waiting", digest_out_t, waiting, waiting_count, digest_case),
    ARRAY("breaches", digest_out_t, breaches, breach_count, digest_breach),
    ARRAY("won", digest_out_t, won, won_count, digest_win),
    ARRAY("lost", digest_out_t, lost, lost_count, digest_loss),
    {"standing", CODEC_SLOT_RECORD, AT(digest_out_t, standing), CODEC_SLOT_ALWAYS,
     &digest_standing},
    {"team_standing", CODEC_SLOT_RECORD, AT(digest_out_t, team_standing), CODEC_SLOT_ALWAYS,
     &team_standing},
    WITH("rank", CODEC_SLOT_OPT_I32, digest_out_t, rank, has_rank),
    DG("ranked", CODEC_SLOT_I32, ranked),
};

static const codec_table_t named[] = {
    TABLE("ConversationReady", hf_handoff_t, handoff_slots),
    TABLE("LifecycleChange", hf_lifecycle_t, lifecycle_slots),
    TABLE("SlaBreach", hf_breach_t, breach_slots),
    TABLE("DeadLetter", hf_dead_letter_t, dead_letter_slots),
    [4 + CODEC_INTERNAL_MEMBER_UPDATE] = TABLE("MemberUpdate", hf_internal_t, member_update_slots),
    [4 + CODEC_INTERNAL_ROSTER] = TABLE("RosterUpdate", hf_internal_t, roster_slots),
    [4 + CODEC_INTERNAL_MERGE_REQUEST] = TABLE("MergeRequest", hf_internal_t, merge_request_slots),
    [4 + CODEC_INTERNAL_MERGE_STATE] = TABLE("MergeState", hf_internal_t, merge_state_slots),
    [4 + CODEC_INTERNAL_CASE_UPDATE] = TABLE("CaseUpdate", hf_internal_t, case_update_slots),
    [4 + CODEC_INTERNAL_KINDS] = TABLE("Digest", digest_out_t, digest_slots),
};
_Static_assert(sizeof named / sizeof named[0] == 5 + CODEC_INTERNAL_KINDS, "internal kinds");

const char *codec_input_record_name(hf_event_kind_t kind)
{
    return (unsigned)kind < HF_EV__COUNT ? inputs[kind].record : NULL;
}

const codec_table_t *codec_table_input(hf_event_kind_t kind)
{
    return (unsigned)kind < HF_EV__COUNT ? &inputs[kind] : NULL;
}

const char *codec_internal_record_name(codec_internal_kind_t kind)
{
    return (unsigned)kind < CODEC_INTERNAL_KINDS ? named[4 + kind].record : NULL;
}

const codec_table_t *codec_table_named(const char *record)
{
    for (size_t i = 0; record && i < sizeof named / sizeof named[0]; i++)
        if (!strcmp(named[i].record, record))
            return &named[i];
    return NULL;
}
