/* event.h names and parsers, blocked ids, contact keys; lifecycle ranks; rules.h
 * matching; handoff ids; the numbering of the processors' positive results. */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "processors/account/account.h"
#include "processors/contact/contact.h"
#include "processors/model/event.h"
#include "processors/model/lifecycle.h"
#include "processors/sla/sla.h"
#include "processors/model/output.h"
#include "processors/rules/rules.h"
#include "testkit.h"

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int k = 0; k < HF_EV__COUNT; k++)
        assert_int_equal(hf_event_kind_parse(hf_event_kind_name((hf_event_kind_t)k)), k);
    for (int t = 0; t < HF_FORM__COUNT; t++)
        assert_int_equal(hf_form_type_parse(hf_form_type_name((hf_form_type_t)t)), t);
    for (int a = 0; a < HF_WEBINAR__COUNT; a++)
        assert_int_equal(hf_webinar_action_parse(hf_webinar_action_name((hf_webinar_action_t)a)),
                         a);
    for (int a = 0; a < HF_EMAIL__COUNT; a++)
        assert_int_equal(hf_email_action_parse(hf_email_action_name((hf_email_action_t)a)), a);
    for (int a = 0; a < HF_SALES__COUNT; a++)
        assert_int_equal(hf_sales_action_parse(hf_sales_action_name((hf_sales_action_t)a)), a);
    for (int s = 0; s < HF_STAGE__COUNT; s++)
        assert_int_equal(hf_stage_parse(hf_stage_name((hf_stage_t)s)), s);

    /* symbols as the schemas spell them */
    assert_string_equal(hf_event_kind_name(HF_EV_WEB_VISIT), "web_visit");
    assert_string_equal(hf_event_record_name(HF_EV_DOWNLOAD), "ContentDownload");
    assert_string_equal(hf_event_record_name(HF_EV_SALES), "SalesActivity");
    assert_string_equal(hf_form_type_name(HF_FORM_WEBINAR_REGISTRATION), "webinar_registration");
    assert_string_equal(hf_identity_kind_name(HF_IDENTITY_MERGE), "merge");
    assert_string_equal(hf_webinar_action_name(HF_WEBINAR_WATCHED_RECORDING), "watched_recording");
    assert_string_equal(hf_email_action_name(HF_EMAIL_SPAM_REPORTED), "spam_reported");
    assert_string_equal(hf_entity_type_name(HF_ENTITY_ACCOUNT), "account");
    assert_string_equal(hf_sales_action_name(HF_SALES_OPPORTUNITY_CREATED), "opportunity_created");
    assert_string_equal(hf_stage_name(HF_STAGE_CONVERSATION_READY), "conversation_ready");
    assert_string_equal(hf_stage_name(HF_STAGE_DISQUALIFIED), "disqualified");

    /* out of range and unknown */
    assert_null(hf_event_kind_name(HF_EV__COUNT));
    assert_null(hf_form_type_name((hf_form_type_t)-1));
    assert_null(hf_stage_name(HF_STAGE__COUNT));
    assert_int_equal(hf_form_type_parse("Demo_Request"), -1);
    assert_int_equal(hf_email_action_parse(NULL), -1);
    assert_int_equal(hf_stage_parse("mql"), -1);
    assert_int_equal(hf_event_kind_parse("form_submission"), HF_EV_FORM);
    assert_int_equal(hf_event_kind_parse("content_download"), HF_EV_DOWNLOAD);
    assert_int_equal(hf_event_kind_parse("nonsense"), -1);
}

/* Forward moves compare ranks: the stages reached on evidence and progress in the
 * enum's order, nurture (engaged, recycled, lost) as one, disqualified past all. */
static void test_stage_ranks(void **state)
{
    (void)state;
    for (int s = HF_STAGE_ANONYMOUS; s < HF_STAGE_CUSTOMER; s++) {
        assert_true(hf_stage_is_forward((hf_stage_t)s));
        assert_true(hf_stage_rank((hf_stage_t)s) < hf_stage_rank((hf_stage_t)(s + 1)));
    }
    assert_true(hf_stage_is_forward(HF_STAGE_CUSTOMER));
    assert_int_equal(hf_stage_rank(HF_STAGE_CUSTOMER), HF_STAGE_RANK_CUSTOMER);
    assert_false(hf_stage_is_forward(HF_STAGE_RECYCLED));
    assert_false(hf_stage_is_forward(HF_STAGE_DISQUALIFIED));
    assert_false(hf_stage_is_forward(HF_STAGE_LOST));
    assert_int_equal(hf_stage_rank(HF_STAGE_RECYCLED), hf_stage_rank(HF_STAGE_ENGAGED));
    assert_int_equal(hf_stage_rank(HF_STAGE_LOST), HF_STAGE_RANK_NURTURE);
    for (int s = 0; s < HF_STAGE__COUNT; s++)
        if (s != HF_STAGE_DISQUALIFIED)
            assert_true(hf_stage_rank((hf_stage_t)s) < HF_STAGE_RANK_DISQUALIFIED);
    assert_int_equal(hf_stage_rank(HF_STAGE_DISQUALIFIED), HF_STAGE_RANK_DISQUALIFIED);
    assert_int_equal(hf_stage_rank(HF_STAGE__COUNT), HF_STAGE_RANK_DISQUALIFIED);
}

/* Each module's positive results lie above its own base and below the next one, so
 * that one passed on by mistake is never read as another module's. */
static void test_result_bases(void **state)
{
    (void)state;
    static const struct {
        int value, base;
    } results[] = {
        {CONTACT_FOLD_DUPLICATE, HF_RESULT_BASE_CONTACT},
        {CONTACT_FOLD_REDIRECT, HF_RESULT_BASE_CONTACT},
        {CONTACT_FOLD_UNKNOWN_HANDOFF, HF_RESULT_BASE_CONTACT},
        {CONTACT_MERGE_REPEAT, HF_RESULT_BASE_CONTACT},
        {ACCOUNT_FOLD_STALE, HF_RESULT_BASE_ACCOUNT},
        {ACCOUNT_FOLD_DUPLICATE, HF_RESULT_BASE_ACCOUNT},
        {ACCOUNT_FOLD_UNKNOWN_HANDOFF, HF_RESULT_BASE_ACCOUNT},
        {SLA_FEEDBACK_PARKED, HF_RESULT_BASE_SLA},
        {SLA_FEEDBACK_STALE, HF_RESULT_BASE_SLA},
        {SLA_FEEDBACK_UNKNOWN, HF_RESULT_BASE_SLA},
        {SLA_FEEDBACK_IGNORED, HF_RESULT_BASE_SLA},
        {SLA_IDENTIFY_RESET, HF_RESULT_BASE_SLA},
    };
    size_t n = sizeof results / sizeof results[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(results[i].value > results[i].base);
        assert_true(results[i].value < results[i].base + 100);
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(results[i].value, results[j].value);
    }
    assert_int_equal(CONTACT_FOLD_APPLIED, 0);
    assert_int_equal(ACCOUNT_FOLD_APPLIED, 0);
    assert_int_equal(SLA_FEEDBACK_APPLIED, 0);
}

static void test_blocked_ids(void **state)
{
    (void)state;
    const char *blocked[] = {NULL,          "",          "  ", "null", "NULL",
                             " Undefined ", "anonymous", "0",  "-1",   "\tnull\n"};
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++)
        assert_true(hf_id_blocked(blocked[i]));
    const char *fine[] = {"c-1", "00", "-2", "nullx", "anon", "1"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        assert_false(hf_id_blocked(fine[i]));
}

static void test_contact_key(void **state)
{
    (void)state;
    hf_event_t ev = tk_visit("e", 1, "a-1", "c-1", "s", "/", NULL);
    assert_string_equal(hf_event_contact_key(&ev), "c-1");
    ev.contact_id = "undefined";
    assert_null(hf_event_contact_key(&ev));
    ev.contact_id = NULL;
    assert_null(hf_event_contact_key(&ev));

    hf_event_t sales = {.kind = HF_EV_SALES, .entity_type = HF_ENTITY_CONTACT, .entity_id = "c-9"};
    assert_string_equal(hf_event_contact_key(&sales), "c-9");
    sales.entity_type = HF_ENTITY_ACCOUNT;
    assert_null(hf_event_contact_key(&sales));
}

static void test_globs(void **state)
{
    (void)state;
    hf_globs_t none = {0};
    assert_true(hf_globs_match(&none, NULL));
    assert_true(hf_globs_match(&none, "x"));

    hf_globs_t g = {0};
    tk_globs(&g, "*/pricing*", "/docs/?", NULL);
    assert_true(hf_globs_match(&g, "https://ex.com/Pricing/enterprise"));
    assert_true(hf_globs_match(&g, "/docs/a"));
    assert_false(hf_globs_match(&g, "/docs/ab"));
    assert_false(hf_globs_match(&g, "/blog"));
    assert_false(hf_globs_match(&g, NULL));

    hf_rules_t *r = tk_rules_new();
    /* hand the globs to a rule so hf_rules_free() frees them */
    hf_score_rule_t *sr = tk_score_rule(r, "g", 1);
    sr->match.url = g;
    hf_rules_free(r);
}

static void test_event_match(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    hf_score_rule_t *sr = tk_score_rule(r, "all", 1);
    hf_event_match_t *m = &sr->match;

    hf_event_t visit = tk_visit("e1", 1, "a", NULL, "s", "https://x.io/pricing", "Pricing plans");
    hf_event_t dl = tk_download("e2", 2, "c", "wp-churn", "Reduce churn");
    hf_event_t web = tk_webinar("e3", 3, "c", HF_WEBINAR_ATTENDED, 40);
    hf_event_t mail = tk_email("e4", 4, "c", HF_EMAIL_CLICKED, "spring-promo");
    hf_event_t form = tk_form("e5", 5, "a", "c", HF_FORM_DEMO_REQUEST);

    /* no condition: everything */
    assert_true(hf_event_match(m, &visit));
    assert_true(hf_event_match(m, &mail));

    m->kinds = 1u << HF_EV_WEB_VISIT | 1u << HF_EV_DOWNLOAD;
    assert_true(hf_event_match(m, &visit));
    assert_true(hf_event_match(m, &dl));
    assert_false(hf_event_match(m, &web));
    m->kinds = 0;

    /* title reads the page, asset and webinar title */
    tk_globs(&m->title, "*churn*", "pricing*", NULL);
    assert_true(hf_event_match(m, &visit));
    assert_true(hf_event_match(m, &dl));
    assert_true(hf_event_match(m, &web));
    assert_false(hf_event_match(m, &mail));
    assert_false(hf_event_match(m, &form));

    /* AND across conditions */
    tk_globs(&m->url, "*/pricing", NULL);
    assert_true(hf_event_match(m, &visit));
    assert_false(hf_event_match(m, &dl));
    hf_rules_free(r);

    r = tk_rules_new();
    m = &tk_score_rule(r, "forms", 1)->match;
    m->form_types = 1u << HF_FORM_DEMO_REQUEST;
    assert_true(hf_event_match(m, &form));
    assert_false(hf_event_match(m, &visit)); /* not a form at all */
    form.form_type = HF_FORM_NEWSLETTER;
    assert_false(hf_event_match(m, &form));

    m = &tk_score_rule(r, "mail", 1)->match;
    m->email_actions = 1u << HF_EMAIL_CLICKED;
    tk_globs(&m->campaign, "spring-*", NULL);
    assert_true(hf_event_match(m, &mail));
    mail.email_action = HF_EMAIL_OPENED;
    assert_false(hf_event_match(m, &mail));

    m = &tk_score_rule(r, "campaign", 1)->match;
    tk_globs(&m->campaign, "launch", NULL);
    dl.campaign = "LAUNCH";
    web.campaign = "launch";
    assert_true(hf_event_match(m, &dl));
    assert_true(hf_event_match(m, &web));
    assert_false(hf_event_match(m, &visit));

    m = &tk_score_rule(r, "tags", 1)->match;
    tk_globs(&m->tags, "churn", "retention*", NULL);
    const char *tags[] = {"pricing", "Retention-101"};
    dl.tags = tags;
    dl.tag_count = 2;
    assert_true(hf_event_match(m, &dl));
    dl.tag_count = 1;
    assert_false(hf_event_match(m, &dl));
    dl.tag_count = 0;
    assert_false(hf_event_match(m, &dl));

    m = &tk_score_rule(r, "long", 1)->match;
    m->min_duration_ms = 30000;
    visit.duration_ms = 29999;
    assert_false(hf_event_match(m, &visit));
    visit.duration_ms = 30000;
    assert_true(hf_event_match(m, &visit));

    m = &tk_score_rule(r, "minutes", 1)->match;
    m->min_minutes = 30;
    m->webinar_actions = 1u << HF_WEBINAR_ATTENDED | 1u << HF_WEBINAR_WATCHED_RECORDING;
    assert_true(hf_event_match(m, &web));
    web.minutes_attended = 10;
    assert_false(hf_event_match(m, &web));
    web.minutes_attended = 45;
    web.webinar_action = HF_WEBINAR_NO_SHOW;
    assert_false(hf_event_match(m, &web));

    m = &tk_score_rule(r, "utm", 1)->match;
    tk_globs(&m->utm_source, "linkedin", NULL);
    tk_globs(&m->source, "web", NULL);
    visit.utm_source = "LinkedIn";
    assert_false(hf_event_match(m, &visit)); /* source is "test" */
    visit.source = "web";
    assert_true(hf_event_match(m, &visit));
    hf_rules_free(r);
}

static void test_trait_match(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    hf_fit_rule_t *f = tk_fit_rule(r, "vp", 20);
    tk_globs(&f->match.title, "*VP*", "*Head of*", NULL);
    f->match.has_employees_range = true;
    f->match.employees_min = 100;
    f->match.employees_max = 5000;

    hf_traits_t t = {
        .present = true, .title = "vp marketing", .has_employees = true, .employees = 250};
    assert_true(hf_trait_match(&f->match, &t));
    hf_buf_t d = HF_BUF_INIT;
    assert_int_equal(hf_trait_match_describe(&f->match, &t, &d), 0);
    assert_string_equal((char *)d.data, "title vp marketing, employees 250");
    t.employees = 5001;
    assert_false(hf_trait_match(&f->match, &t));
    t.has_employees = false;
    assert_false(hf_trait_match(&f->match, &t));
    t.has_employees = true;
    t.employees = 100;
    t.title = NULL;
    assert_false(hf_trait_match(&f->match, &t));

    hf_fit_exclusion_t *ex = tk_exclusion(r, "students");
    tk_globs(&ex->match.email_domain, "*.edu", NULL);
    t.email_domain = "mit.edu";
    assert_true(hf_trait_match(&ex->match, &t));
    t.email_domain = "acme.com";
    assert_false(hf_trait_match(&ex->match, &t));

    hf_trait_match_t any = {0};
    assert_true(hf_trait_match(&any, &t));
    hf_buf_reset(&d);
    assert_int_equal(hf_trait_match_describe(&any, &t, &d), 0);
    assert_string_equal((char *)d.data, "any contact");
    hf_buf_free(&d);
    hf_rules_free(r);
}

static void test_rule_lookups(void **state)
{
    (void)state;
    hf_rules_t *r = tk_rules_new();
    tk_grades(r, "A", 50, "B", 30, "F", 0, NULL);
    tk_score_rule(r, "pricing", 10);
    tk_score_rule(r, "docs", 3);
    assert_int_equal(hf_rules_grade_index(r, "A"), 0);
    assert_int_equal(hf_rules_grade_index(r, "F"), 2);
    assert_int_equal(hf_rules_grade_index(r, "C"), -1);
    assert_int_equal(hf_rules_grade_index(r, NULL), -1);
    assert_int_equal(hf_rules_score_rule_index(r, "docs"), 1);
    assert_int_equal(hf_rules_score_rule_index(r, "blog"), -1);
    /* everything the builder allocated goes through hf_rules_free (ASan checks leaks) */
    tk_contact_rule(r, "mql", 100, "B", 30 * TK_DAY_MS, "pricing", "docs", NULL);
    tk_hand_raisers(r, "hand_raiser", 1u << HF_FORM_DEMO_REQUEST, true);
    tk_globs(&tk_exclusion(r, "x")->match.industry, "education", NULL);
    hf_rules_free(r);
    hf_rules_free(NULL);
}

static void test_handoff_id(void **state)
{
    (void)state;
    char id[HF_HANDOFF_ID_SIZE];
    /* FNV-1a-64 of "contact\x1f" "c-42" "\x1f" "1", computed independently:
     * python3 -c 'h=0xcbf29ce484222325
     * for b in b"contact\x1fc-42\x1f1": h=((h^b)*0x100000001b3)%2**64
     * print("ho_%016x"%h)' */
    assert_int_equal(hf_handoff_id(id, sizeof id, HF_ENTITY_CONTACT, "c-42", 1), 19);
    assert_string_equal(id, "ho_5155013942af1052");
    char id2[HF_HANDOFF_ID_SIZE];
    assert_int_equal(hf_handoff_id(id2, sizeof id2, HF_ENTITY_CONTACT, "c-42", 2), 19);
    assert_string_not_equal(id, id2);
    assert_int_equal(hf_handoff_id(id2, sizeof id2, HF_ENTITY_ACCOUNT, "c-42", 1), 19);
    assert_string_not_equal(id, id2);
    char small[8];
    assert_int_equal(hf_handoff_id(small, sizeof small, HF_ENTITY_CONTACT, "c-42", 1), -ENOSPC);
    assert_string_equal(small, "");
    assert_int_equal(hf_handoff_id(id2, sizeof id2, HF_ENTITY__COUNT, "c-42", 1), -EINVAL);
}

/* The fast matcher against fnmatch(3) itself: every pattern of a small alphabet
 * (stars, question marks, case, a bracket and an escape that take the fnmatch
 * path) on every value of one, exhaustively up to short lengths, then random. */
static void expect_same(const char *pat, const char *val)
{
    bool want = fnmatch(pat, val, FNM_CASEFOLD) == 0;
    if (hf_glob_match(pat, val) != want)
        fail_msg("pattern \"%s\" on \"%s\": fnmatch says %d", pat, val, want);
}

static void test_glob_matches_fnmatch(void **state)
{
    (void)state;
    static const char pat_alpha[] = "aB*?/.";
    static const char val_alpha[] = "AbB/.";
    char pat[8], val[8];
    /* every pattern up to 4 symbols against every value up to 4 */
    for (int plen = 0; plen <= 4; plen++) {
        int pn = 1;
        for (int i = 0; i < plen; i++)
            pn *= (int)strlen(pat_alpha);
        for (int pi = 0; pi < pn; pi++) {
            for (int i = 0, x = pi; i < plen; i++, x /= (int)strlen(pat_alpha))
                pat[i] = pat_alpha[x % (int)strlen(pat_alpha)];
            pat[plen] = 0;
            for (int vlen = 0; vlen <= 4; vlen++) {
                int vn = 1;
                for (int i = 0; i < vlen; i++)
                    vn *= (int)strlen(val_alpha);
                for (int vi = 0; vi < vn; vi++) {
                    for (int i = 0, x = vi; i < vlen; i++, x /= (int)strlen(val_alpha))
                        val[i] = val_alpha[x % (int)strlen(val_alpha)];
                    val[vlen] = 0;
                    expect_same(pat, val);
                }
            }
        }
    }
    /* realistic ones, and the fnmatch path */
    const char *pats[] = {"*/pricing*", "*vp*",           "chief *", "c?o", "*-vs-*", "[a-c]*",
                          "a\\*b",      "*/blog/*churn*", "",        "*",   "**a**"};
    const char *vals[] = {"https://x.example/Pricing/plans",
                          "SVP Sales",
                          "Chief Revenue Officer",
                          "CFO",
                          "acme-vs-globex",
                          "B",
                          "a*b",
                          "ab",
                          "/blog/reduce-churn-now",
                          "",
                          "aaa",
                          "https://x.example/blog/churn"};
    for (size_t i = 0; i < sizeof pats / sizeof *pats; i++)
        for (size_t j = 0; j < sizeof vals / sizeof *vals; j++)
            expect_same(pats[i], vals[j]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),     cmocka_unit_test(test_blocked_ids),
        cmocka_unit_test(test_contact_key),          cmocka_unit_test(test_globs),
        cmocka_unit_test(test_glob_matches_fnmatch), cmocka_unit_test(test_event_match),
        cmocka_unit_test(test_trait_match),          cmocka_unit_test(test_rule_lookups),
        cmocka_unit_test(test_handoff_id),           cmocka_unit_test(test_stage_ranks),
        cmocka_unit_test(test_result_bases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
