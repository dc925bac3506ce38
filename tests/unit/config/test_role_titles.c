/* The shipped buying_group.roles rules against job titles as tracking data carries
 * them: most identity traits name a title and nothing else (no department, no
 * seniority), so the shipped file must place people by their title alone.
 *
 * The table says, for real-world titles, the role a revenue team would give each
 * person: decision_maker (signs or owns the budget: the C-suite, VPs, heads of a
 * function, founders, owners, presidents, managing directors), gatekeeper
 * (procurement, legal, finance, compliance: the late-stage reviewers), champion
 * (directors, managers and leads of a revenue function: sales, marketing, revenue,
 * growth, customer success, business development), influencer (the evaluators:
 * engineering, IT, security, data, operations, architecture, product) and user
 * (everyone else, and interns, students and assistants whatever else their title
 * says).  A contact whose only trait is the title is resolved as stage 2 does
 * (hf_role_of() under the rules config_load() compiled from the file).
 *
 * Environment (set by meson): HF_CONFIG_DEFAULT = config/handoff.yaml. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "processors/account/resolve.h"

typedef struct title_role {
    const char *title;
    const char *role;
} title_role_t;

static const title_role_t titles[] = {
    /* decision makers */
    {"CTO", "decision_maker"},
    {"CEO", "decision_maker"},
    {"CFO", "decision_maker"},
    {"CISO", "decision_maker"},
    {"Chief Revenue Officer", "decision_maker"},
    {"Chief Marketing Officer", "decision_maker"},
    {"Chief Information Security Officer", "decision_maker"},
    {"Chief Data Officer", "decision_maker"},
    {"CHIEF TECHNOLOGY OFFICER", "decision_maker"},
    {"CEO & Co-Founder", "decision_maker"},
    {"Co-Founder", "decision_maker"},
    {"Founder and CEO", "decision_maker"},
    {"VP Finance", "decision_maker"},
    {"VP of Engineering", "decision_maker"},
    {"SVP Sales", "decision_maker"},
    {"EVP Operations", "decision_maker"},
    {"Vice President, Marketing", "decision_maker"},
    {"Senior Vice President of Sales", "decision_maker"},
    {"Head of Data Engineering", "decision_maker"},
    {"Head of Growth", "decision_maker"},
    {"Head of IT", "decision_maker"},
    {"Head of International Sales", "decision_maker"},
    {"President", "decision_maker"},
    {"President & CEO", "decision_maker"},
    {"Managing Director", "decision_maker"},
    {"General Manager", "decision_maker"},
    {"Owner", "decision_maker"},
    {"Business Owner", "decision_maker"},
    /* gatekeepers */
    {"Procurement Lead", "gatekeeper"},
    {"Procurement Specialist", "gatekeeper"},
    {"Purchasing Manager", "gatekeeper"},
    {"Strategic Sourcing Manager", "gatekeeper"},
    {"Vendor Manager", "gatekeeper"},
    {"General Counsel", "gatekeeper"},
    {"Legal Counsel", "gatekeeper"},
    {"Corporate Attorney", "gatekeeper"},
    {"Paralegal", "gatekeeper"},
    {"Contracts Manager", "gatekeeper"},
    {"Compliance Manager", "gatekeeper"},
    {"Data Protection Officer", "gatekeeper"},
    {"Finance Manager", "gatekeeper"},
    {"Director of Finance", "gatekeeper"},
    {"Financial Controller", "gatekeeper"},
    {"Accountant", "gatekeeper"},
    {"FP&A Analyst", "gatekeeper"},
    /* champions */
    {"Director of Sales Operations", "champion"},
    {"Sales Manager", "champion"},
    {"Regional Sales Director", "champion"},
    {"Team Lead, Sales Development", "champion"},
    {"Marketing Manager", "champion"},
    {"Director of Marketing", "champion"},
    {"Product Marketing Manager", "champion"},
    {"Marketing Operations Manager", "champion"},
    {"International Marketing Manager", "champion"},
    {"Demand Generation Manager", "champion"},
    {"Growth Marketing Lead", "champion"},
    {"Senior Manager, Revenue Operations", "champion"},
    {"Customer Success Manager", "champion"},
    {"Director, Customer Success", "champion"},
    {"Business Development Manager", "champion"},
    {"Partnerships Manager", "champion"},
    /* influencers */
    {"IT Manager", "influencer"},
    {"IT Director", "influencer"},
    {"Director of IT", "influencer"},
    {"Software Architect", "influencer"},
    {"Solutions Architect", "influencer"},
    {"Cloud Architect", "influencer"},
    {"Senior Developer", "influencer"},
    {"Full Stack Developer", "influencer"},
    {"Software Engineer", "influencer"},
    {"Principal Engineer", "influencer"},
    {"Security Engineer", "influencer"},
    {"Information Security Analyst", "influencer"},
    {"DevOps Engineer", "influencer"},
    {"Site Reliability Engineer", "influencer"},
    {"Platform Engineer", "influencer"},
    {"Network Engineer", "influencer"},
    {"QA Engineer", "influencer"},
    {"Engineering Manager", "influencer"},
    {"Director of Engineering", "influencer"},
    {"Tech Lead", "influencer"},
    {"Systems Administrator", "influencer"},
    {"Database Administrator", "influencer"},
    {"Data Scientist", "influencer"},
    {"Data Analyst", "influencer"},
    {"Data Engineer", "influencer"},
    {"Business Intelligence Analyst", "influencer"},
    {"Marketing Operations Specialist", "influencer"},
    {"Revenue Operations Analyst", "influencer"},
    {"Sales Operations Analyst", "influencer"},
    {"Operations Manager", "influencer"},
    {"Product Manager", "influencer"},
    {"Product Owner", "influencer"},
    /* users */
    {"Intern", "user"},
    {"Marketing Intern", "user"},
    {"Software Engineering Intern", "user"},
    {"Student", "user"},
    {"Working Student, Marketing", "user"},
    {"Executive Assistant", "user"},
    {"Executive Assistant to the CEO", "user"},
    {"Account Executive", "user"},
    {"Sales Development Representative", "user"},
    {"Marketing Coordinator", "user"},
    {"Content Writer", "user"},
    {"Graphic Designer", "user"},
    {"Recruiter", "user"},
    {"HR Business Partner", "user"},
    {"Office Manager", "user"},
    {"Customer Support Agent", "user"},
    {"Receptionist", "user"},
    {"Teacher", "user"},
    {"Freelance Consultant", "user"},
};

static const hf_rules_t *shipped_rules(hf_config_t **cfg)
{
    const char *path = getenv("HF_CONFIG_DEFAULT");
    assert_non_null(path);
    hf_buf_t errors = HF_BUF_INIT;
    int r = config_load(cfg, path, &errors);
    if (r != 0)
        print_error("%s\n", errors.data ? (char *)errors.data : "");
    hf_buf_free(&errors);
    assert_int_equal(r, 0);
    return (*cfg)->rules;
}

/* Every title of the table gets its role, from the title alone. */
static void test_titles_alone(void **state)
{
    (void)state;
    hf_config_t *cfg = NULL;
    const hf_rules_t *rules = shipped_rules(&cfg);
    size_t n = sizeof titles / sizeof titles[0], failed = 0;
    for (size_t i = 0; i < n; i++) {
        hf_traits_t t = {0};
        t.title = titles[i].title;
        const char *role = hf_role_of(rules, &t, NULL);
        if (strcmp(role, titles[i].role) != 0) {
            print_message("  %-40s got %-15s want %s\n", titles[i].title, role, titles[i].role);
            failed++;
        }
    }
    print_message("%zu of %zu titles placed as the table says\n", n - failed, n);
    config_free(cfg);
    assert_int_equal(failed, 0);
}

/* Feeds that carry a department as well: where the title alone names a function, it
 * decides; where it is generic (Analyst, Manager, Specialist), the department does. */
static void test_titles_with_department(void **state)
{
    (void)state;
    hf_config_t *cfg = NULL;
    const hf_rules_t *rules = shipped_rules(&cfg);
    static const struct {
        const char *title, *department, *role;
    } people[] = {
        {"Analyst", "Finance", "gatekeeper"},
        {"Operations Analyst", "Finance", "gatekeeper"},
        {"Data Analyst", "Procurement", "gatekeeper"},
        {"Manager", "Procurement", "gatekeeper"},
        {"Manager", "Marketing", "champion"},
        {"Director", "Sales", "champion"},
        {"Team Lead", "Customer Success", "champion"},
        {"Specialist", "IT", "influencer"},
        {"Analyst", "Engineering", "influencer"},
        {"Account Executive", "Sales", "user"},
        {"Coordinator", "Marketing", "user"},
        {"VP Sales", "Sales", "decision_maker"},
        {"Software Engineer", "Sales", "influencer"},
        {"Marketing Manager", "Finance", "champion"},
        {"Procurement Manager", "Marketing", "gatekeeper"},
        {"Marketing Intern", "Marketing", "user"},
    };
    size_t n = sizeof people / sizeof people[0], failed = 0;
    for (size_t i = 0; i < n; i++) {
        hf_traits_t t = {0};
        t.title = people[i].title;
        t.department = people[i].department;
        const char *role = hf_role_of(rules, &t, NULL);
        if (strcmp(role, people[i].role) != 0) {
            print_message("  %-20s %-18s got %-15s want %s\n", people[i].title,
                          people[i].department, role, people[i].role);
            failed++;
        }
    }
    print_message("%zu of %zu title and department pairs placed as the table says\n", n - failed,
                  n);
    config_free(cfg);
    assert_int_equal(failed, 0);
}

/* What a member's placement says under the shipped rules (the examples of
 * docs/CONTRACTS.md): the rule's number in the file, and the patterns. */
static void test_placements(void **state)
{
    (void)state;
    hf_config_t *cfg = NULL;
    const hf_rules_t *rules = shipped_rules(&cfg);
    static const struct {
        const char *title, *department, *placement;
    } people[] = {
        {"VP Finance", NULL, "role rule 2 (decision_maker): title \"VP Finance\" matched \"*vp*\""},
        {"Director", "Sales",
         "role rule 7 (champion): title \"Director\" matched \"*director*\", department "
         "\"Sales\" matched \"*sales*\""},
        {"Marketing Intern", "Marketing",
         "role rule 1 (user): title \"Marketing Intern\" matched \"* intern\""},
        {"Analyst", NULL, "role rule 9 (influencer): title \"Analyst\" matched \"*analyst*\""},
        {"Receptionist", NULL, "default role (user)"},
    };
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
        hf_traits_t t = {0};
        t.title = people[i].title;
        t.department = people[i].department;
        hf_buf_t b = HF_BUF_INIT;
        assert_int_equal(hf_role_placement(rules, &t, &b), 0);
        assert_int_equal(hf_buf_append(&b, "", 1), 0);
        assert_string_equal((char *)b.data, people[i].placement);
        hf_buf_free(&b);
    }
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_titles_alone),
        cmocka_unit_test(test_titles_with_department),
        cmocka_unit_test(test_placements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
