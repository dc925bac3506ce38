/* fit: the fit grade, from a contact's traits (conditions of trait_match.c): the
 * grades, fit rules and exclusions; and min_grade, a grade named by qualify and
 * accounts rules. */
#include "section.h"

#include <stdlib.h>
#include <string.h>

#define RULES(field) offsetof(hf_rules_t, field)
#define GRADE(field) offsetof(hf_grade_t, field)
#define FIT(field) offsetof(hf_fit_rule_t, field)
#define EXCL(field) offsetof(hf_fit_exclusion_t, field)

static const char *valid_grade(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-'))
            return "expected a grade such as A, B+ or F (letters, digits, '+', '-')";
    }
    return n > 8 ? "expected a grade of at most 8 characters" : NULL;
}

static const cfgmap_entry_t grade_entries[] = {
    {.key = "grade",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = GRADE(letter),
     .valid = valid_grade,
     .doc_type = "grade name",
     .help = "The grade (`A`, `B+`, ...)."},
    {.key = "min",
     .type = CFGMAP_INT32,
     .flags = CFGMAP_REQUIRED,
     .min = -100000,
     .max = 100000,
     .offset = GRADE(min_points),
     .help = "Fit points from which it is given."},
};
static const cfgmap_table_t grade_table = CFGMAP_TABLE(grade_entries, NULL, NULL);

static const cfgmap_entry_t fit_rule_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = FIT(name),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "Unique name."},
    {.key = "points",
     .type = CFGMAP_INT32,
     .flags = CFGMAP_REQUIRED,
     .min = -1000,
     .max = 1000,
     .offset = FIT(points),
     .help = "Fit points when the traits match."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = FIT(match),
     .table = &config_trait_match_table,
     .help = "Conditions on the contact's traits, all of which must hold."},
};
static const cfgmap_table_t fit_rule_table = CFGMAP_TABLE(fit_rule_entries, NULL, NULL);

static const cfgmap_entry_t exclusion_entries[] = {
    {.key = "name",
     .type = CFGMAP_STRING,
     .flags = CFGMAP_REQUIRED,
     .offset = EXCL(name),
     .valid = config_section_valid_name,
     .doc_type = "name",
     .help = "Unique name."},
    {.key = "when",
     .type = CFGMAP_MAP,
     .flags = CFGMAP_REQUIRED,
     .offset = EXCL(match),
     .table = &config_trait_match_table,
     .help = "Conditions on the contact's traits, all of which must hold."},
};
static const cfgmap_table_t exclusion_table = CFGMAP_TABLE(exclusion_entries, NULL, NULL);

static const struct {
    const char *letter;
    int32_t min_points;
} default_grades[] = {{"A", 80}, {"B", 60}, {"C", 40}, {"D", 20}, {"F", 0}};

static int grade_cmp(const void *a, const void *b)
{
    const hf_grade_t *x = a, *y = b;
    return x->min_points > y->min_points ? -1 : x->min_points < y->min_points;
}

static void fit_check(cfgmap_ctx_t *ctx, const yaml_node_t *map, const cfgmap_path_t *path,
                      void *base)
{
    hf_rules_t *r = base;
    const yaml_node_t *grades = cfgmap_lookup(ctx, map, "grades", NULL);
    cfgmap_path_t grades_path = {path, "grades", 0};
    if (!grades) {
        size_t n = sizeof(default_grades) / sizeof(default_grades[0]);
        hf_grade_t *g = cfgmap_calloc(ctx, n, sizeof(*g));
        if (!g)
            return;
        r->fit.grades = g;
        for (size_t i = 0; i < n; i++) {
            if (!(g[i].letter = cfgmap_strdup(ctx, default_grades[i].letter)))
                return;
            g[i].min_points = default_grades[i].min_points;
            r->fit.grade_count = i + 1;
        }
    } else if (r->fit.grade_count == 0 &&
               (grades->type == YAML_SEQUENCE_NODE || cfgmap_is_null(grades))) {
        cfgmap_error(ctx, grades, &grades_path, "expected at least one grade");
    }
    for (size_t j = 1; j < r->fit.grade_count && cfgmap_spend(ctx, j); j++) {
        for (size_t i = 0; i < j; i++) {
            const hf_grade_t *a = &r->fit.grades[i], *b = &r->fit.grades[j];
            cfgmap_path_t item = {&grades_path, NULL, j};
            const yaml_node_t *node = cfgmap_item(ctx, grades, j);
            if (a->letter && b->letter && strcmp(a->letter, b->letter) == 0) {
                cfgmap_path_t p = {&item, "grade", 0};
                cfgmap_error(ctx, cfgmap_lookup(ctx, node, "grade", NULL), &p,
                             "duplicate grade \"%s\" (also item [%zu])", b->letter, i);
                break;
            }
            if (a->min_points == b->min_points) {
                cfgmap_path_t p = {&item, "min", 0};
                cfgmap_error(ctx, cfgmap_lookup(ctx, node, "min", NULL), &p,
                             "grades %s and %s have the same min (%d)", a->letter ? a->letter : "?",
                             b->letter ? b->letter : "?", (int)b->min_points);
                break;
            }
        }
    }
    if (r->fit.grade_count > 1)
        qsort(r->fit.grades, r->fit.grade_count, sizeof(r->fit.grades[0]), grade_cmp);

    cfgmap_path_t rules_path = {path, "rules", 0};
    config_section_unique_names(ctx, cfgmap_lookup(ctx, map, "rules", NULL), &rules_path,
                                r->fit.rules, r->fit.rule_count, sizeof(hf_fit_rule_t), FIT(name));
    cfgmap_path_t excl_path = {path, "exclude", 0};
    config_section_unique_names(ctx, cfgmap_lookup(ctx, map, "exclude", NULL), &excl_path,
                                r->fit.exclusions, r->fit.exclusion_count,
                                sizeof(hf_fit_exclusion_t), EXCL(name));
}

static const cfgmap_entry_t fit_entries[] = {
    {.key = "grades",
     .type = CFGMAP_LIST,
     .offset = RULES(fit.grades),
     .count_offset = RULES(fit.grade_count),
     .elem_size = sizeof(hf_grade_t),
     .table = &grade_table,
     .help = "Grades by fit points; default A 80, B 60, C 40, D 20, F 0. Sorted by `min`, "
             "highest first; the lowest is the floor, also given to excluded contacts."},
    {.key = "rules",
     .type = CFGMAP_LIST,
     .offset = RULES(fit.rules),
     .count_offset = RULES(fit.rule_count),
     .elem_size = sizeof(hf_fit_rule_t),
     .table = &fit_rule_table,
     .help = "Fit rules; the points of every matching rule add up."},
    {.key = "exclude",
     .type = CFGMAP_LIST,
     .offset = RULES(fit.exclusions),
     .count_offset = RULES(fit.exclusion_count),
     .elem_size = sizeof(hf_fit_exclusion_t),
     .table = &exclusion_table,
     .help = "Exclusions (competitors, students, ...): a matching contact gets the lowest grade "
             "and never qualifies by contact rules."},
};

static const cfgmap_table_t fit_table = CFGMAP_TABLE(fit_entries, fit_check, NULL);

const cfgmap_entry_t config_fit_section =
    CONFIG_SECTION_RULES("fit", fit_table, "The fit grade, from a contact's traits.");

void config_fit_parse_min_grade(cfgmap_ctx_t *ctx, const cfgmap_entry_t *e, const yaml_node_t *node,
                                const cfgmap_path_t *path, void *field)
{
    int *min_grade = field;
    const hf_rules_t *r = config_section_rules(ctx);
    const char *s = cfgmap_scalar(node);
    if (!s || cfgmap_is_null(node)) {
        cfgmap_error_got(ctx, node, path, "expected a grade of fit.grades");
        return;
    }
    if (!cfgmap_spend(ctx, r->fit.grade_count))
        return;
    int i = hf_rules_grade_index(r, s);
    if (i >= 0) {
        *min_grade = i;
        return;
    }
    hf_buf_t msg = HF_BUF_INIT;
    hf_buf_append_str(&msg, "unknown grade ");
    cfgmap_quote(&msg, s, 16);
    hf_buf_append_str(&msg, "; fit.grades has ");
    for (size_t g = 0; g < r->fit.grade_count; g++)
        hf_buf_printf(&msg, "%s%s", g ? ", " : "",
                      r->fit.grades[g].letter ? r->fit.grades[g].letter : "?");
    cfgmap_error(ctx, node, path, "%s", msg.data ? (char *)msg.data : "");
    hf_buf_free(&msg);
}
