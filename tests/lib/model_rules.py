"""The rules of tests/fixtures/handoff-test.yaml as tests/lib/model.py uses them: the
numbers, the conditions of every rule as matchers, and the small functions of the
semantics that contacts and accounts share (decay, rounding, accounts, roles, tiers,
routing).  Everything is read from the fixture when this module is imported
(tests/lib/model_fixture.py); what the model does not implement is refused there
with the key that asks for it."""

import fnmatch
import math
import os
import struct

import hftest
import model_fixture

from hftest import DAY, HOUR

FIXTURE_PATH = os.path.join(hftest.FIXTURES, "handoff-test.yaml")
FIXTURE = model_fixture.Fixture(FIXTURE_PATH)
_get, _ms, _list = FIXTURE.get, lambda key: model_fixture.duration_ms(FIXTURE.get(key)), model_fixture.as_list


def _requires(condition, what):
    """The model implements the fixture's choices only: anything else must fail here,
    not give a silently different answer."""
    if not condition:
        raise model_fixture.FixtureError("%s: %s is not modelled (tests/lib/model.py)" % (FIXTURE_PATH, what))


HALF_LIFE_MS = _ms("scoring.half_life")
MAX_SCORE = _get("scoring.max")
MIN_SCORE = _get("scoring.min")
ENGAGED_SCORE = _get("lifecycle.engaged_score")
GRACE_MS = _ms("qualify.grace")
STITCH_MAX_EVENTS = _get("stitching.max_events")
STITCH_MAX_AGE_MS = _ms("stitching.max_age")
DEDUPE_WINDOW_MS = _ms("dedupe.window")
DEDUPE_MAX_IDS = _get("dedupe.max_ids")
# every clock 24x7 in UTC: a deadline is the handoff's emitted_at + within
_requires(not FIXTURE.has("calendars") and not FIXTURE.has("sla.calendar"), "a business calendar")
SLA_ACCEPT_MS = _ms("sla.accept.within")
SLA_FIRST_TOUCH_MS = _ms("sla.first_touch.within")
JOURNEY_RECENT = _get("journey.recent")
JOURNEY_TOP_PAGES = _get("journey.top_pages")
JOURNEY_DOWNLOADS = _get("journey.downloads")
JOURNEY_WEBINARS = _get("journey.webinars")
HAND_RAISER_FORMS = tuple(_list(_get("qualify.hand_raisers.forms")))
HAND_RAISER_RULE = _get("qualify.hand_raisers.rule")
_requires(_get("qualify.hand_raisers.respect_exclusions") is True, "hand_raisers.respect_exclusions: false")

KIND = {
    "WebVisit": "web_visit",
    "FormSubmission": "form",
    "IdentityEvent": "identity",
    "ContentDownload": "download",
    "WebinarEvent": "webinar",
    "EmailEngagement": "email",
    "SalesActivity": "sales",
}


def glob(patterns, value):
    if value is None:
        return False
    if isinstance(patterns, str):
        patterns = [patterns]
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)


# ---- conditions of the rule file (docs/CONFIG.md "when") ------------------------------

# when.<key> of scoring and interest rules that are patterns on the datum's field of
# the same name, and those that name a title (by event kind)
_EVENT_GLOB_FIELDS = ("url", "referrer", "utm_source", "utm_medium", "utm_campaign", "form_id", "asset_id",
                      "asset_type", "webinar_id", "campaign", "link_url", "source")
_TITLE_FIELDS = {"web_visit": "title", "download": "asset_title", "webinar": "webinar_title"}
# when.<key> that list symbols of an enum, and the datum's field
_EVENT_ENUM_FIELDS = {"form_type": "form_type", "webinar_action": "action", "email_action": "action"}


def event_condition(when, what):
    """match(kind, datum) for the `when` of a scoring or interest rule: every condition
    holds; a list of patterns matches if any does."""
    when = dict(when)
    _requires("event" in when, "%s without when.event" % what)
    kinds = _list(when.pop("event"))
    tests = []
    for key, value in when.items():
        if key in _EVENT_GLOB_FIELDS:
            tests.append(lambda k, d, f=key, p=_list(value): glob(p, d.get(f)))
        elif key == "title":
            tests.append(lambda k, d, p=_list(value): glob(p, d.get(_TITLE_FIELDS.get(k, ""))))
        elif key in _EVENT_ENUM_FIELDS:
            tests.append(lambda k, d, f=_EVENT_ENUM_FIELDS[key], s=_list(value): d.get(f) in s)
        elif key == "tags":
            tests.append(lambda k, d, p=_list(value): any(glob(p, t) for t in d.get("tags") or []))
        elif key == "min_minutes":
            tests.append(lambda k, d, n=value: (d.get("minutes_attended") or 0) >= n)
        elif key == "min_duration":
            tests.append(lambda k, d, n=model_fixture.duration_ms(value): (d.get("duration_ms") or 0) >= n)
        else:
            _requires(False, "%s: when.%s" % (what, key))
    return lambda k, d: k in kinds and all(t(k, d) for t in tests)


# when.<key> of fit, exclusion, role and account fit rules: patterns on a trait, in
# the order a reason's detail names them
_TRAIT_GLOBS = ("title", "seniority", "department", "industry", "company_name", "country", "region", "email_domain")
_EMPLOYEES_MAX = 2147483647


def _trait_conditions(when, what):
    globs, employees = [], None
    for key, value in when.items():
        if key in _TRAIT_GLOBS:
            globs.append((key, _list(value)))
        elif key == "employees":
            employees = (value.get("min", 0), value.get("max", _EMPLOYEES_MAX))
        else:
            _requires(False, "%s: when.%s" % (what, key))
    globs.sort(key=lambda g: _TRAIT_GLOBS.index(g[0]))
    return globs, employees


def trait_condition(when, what):
    """match(traits) for the `when` of a rule on a contact's or an account's traits."""
    globs, employees = _trait_conditions(when, what)

    def match(t):
        if not all(glob(p, t.get(name)) for name, p in globs):
            return False
        return employees is None or (t.get("employees") is not None and
                                     employees[0] <= t["employees"] <= employees[1])
    return match


def trait_describer(when, what):
    """describe(traits): a matching rule's reason detail ("title VP Sales, employees 300")."""
    globs, employees = _trait_conditions(when, what)

    def describe(t):
        parts = ["%s %s" % (name, t[name]) for name, _ in globs if t.get(name) is not None]
        if employees is not None and t.get("employees") is not None:
            parts.append("employees %d" % t["employees"])
        return ", ".join(parts) if parts else "any contact"
    return describe


def trait_explainer(when, what):
    """explain(traits): how traits that match a rule's `when` match it, a condition at a
    time with the first pattern its value matched (a role's placement: 'title "VP
    Sales" matched "*vp*", employees 300 in [200, 5000]')."""
    globs, employees = _trait_conditions(when, what)

    def explain(t):
        parts = []
        for name, patterns in globs:
            value = t.get(name)
            first = next((p for p in patterns if glob(p, value)), None)
            parts.append('%s "%s" matched "%s"' % (name, value, first) if first is not None
                         else "%s did not match" % name)
        if employees is not None:
            n = t.get("employees")
            if n is None or not employees[0] <= n <= employees[1]:
                parts.append("employees did not match")
            elif employees[1] == _EMPLOYEES_MAX:
                parts.append("employees %d >= %d" % (n, employees[0]))
            else:
                parts.append("employees %d in [%d, %d]" % (n, employees[0], employees[1]))
        return ", ".join(parts) if parts else "any contact"
    return explain


# ---- scoring, fit, qualification -----------------------------------------------------------

class ScoreRule:
    def __init__(self, name, points, match, cap=None):
        self.name, self.points, self.match = name, points, match
        self.cap_count, self.cap_period_ms = cap if cap else (0, 0)


def _score_rule(r):
    cap = None
    if r.get("max_per") is not None:
        cap = (r["max_per"]["count"], model_fixture.duration_ms(r["max_per"]["period"]))
    return ScoreRule(r["name"], r["points"], event_condition(r["when"], "scoring rule " + r["name"]), cap=cap)


SCORE_RULES = [_score_rule(r) for r in _get("scoring.rules")]

GRADES = [(g["grade"], g["min"]) for g in _get("fit.grades")]

# name, points, match(traits)
FIT_RULES = [(r["name"], r["points"], trait_condition(r["when"], "fit rule " + r["name"]))
             for r in _get("fit.rules")]
# what a handoff's reason says about a fit rule's traits
FIT_DESCRIBE = {r["name"]: trait_describer(r["when"], "fit rule " + r["name"]) for r in _get("fit.rules")}

EXCLUSIONS = [(r["name"], trait_condition(r["when"], "exclusion " + r["name"])) for r in _get("fit.exclude")]


def _contact_rule(r):
    _requires(r.get("within"), "contact rule %s without within" % r["name"])
    return (r["name"], r.get("min_score", 0), r.get("min_grade"), _list(r.get("requires")),
            model_fixture.duration_ms(r["within"]))


# name, min_score, min_grade (None = any), requires, within_ms
CONTACT_RULES = [_contact_rule(r) for r in _get("qualify.contact_rules")]


# -- accounts, roles, interests, routing ---------------------------------------

INTEREST_HALF_LIFE_MS = _ms("interests.half_life")
INTERESTS_TRACKED = _get("interests.tracked")
INTERESTS_TOP = _get("interests.top")

# topic, weight, match(kind, datum)
INTEREST_RULES = [(r["topic"], float(r.get("weight", 1)), event_condition(r["when"], "interest rule " + r["topic"]))
                  for r in _get("interests.rules")]

# the daemon's shipped list (docs/CONFIG.md accounts.free_mail_domains), and the
# fixture's extra_free_mail_domains
_requires(not FIXTURE.has("accounts.free_mail_domains"), "accounts.free_mail_domains")
FREE_MAIL_DOMAINS = [
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "live.com",
    "msn.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com", "aol.com", "icloud.com", "me.com", "mac.com",
    "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "mail.com",
    "zoho.com", "yandex.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com", "naver.com", "hey.com",
    "fastmail.com", "tutanota.com", "mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com",
    "temp-mail.org", "trashmail.com", "sharklasers.com", "dispostable.com", "maildrop.cc", "getnada.com",
] + _list(_get("accounts.extra_free_mail_domains"))
DOMAIN_ACCOUNTS = dict(_get("accounts.domains"))
TARGETS = {t["account"]: (t["tier"], t.get("points", 0)) for t in _get("accounts.targets")}  # tier, points
ACCOUNT_MAX_SCORE = _get("accounts.max_score")
ENGAGED_MEMBER_SCORE = _get("accounts.engaged_member.score")
ENGAGED_MEMBER_WITHIN_MS = _ms("accounts.engaged_member.within")
MEMBERS_MAX = _get("accounts.members_max")
BUYING_GROUP_MAX = _get("accounts.buying_group_max")
MEMBER_JOURNEY = _get("accounts.member_journey")
_requires(_get("accounts.member_updates") == "every_event", "accounts.member_updates other than every_event")

DEFAULT_ROLE = (_get("buying_group.default_role.role"), float(_get("buying_group.default_role").get("weight", 1)))
# role, weight, match(traits)
ROLE_RULES = [(r["role"], float(r.get("weight", 1)), trait_condition(r["when"], "role " + r["role"]))
              for r in _get("buying_group.roles")]
# explain(traits) of each role rule, in the same order
ROLE_EXPLAIN = [trait_explainer(r["when"], "role " + r["role"]) for r in _get("buying_group.roles")]

ACCOUNT_FIT_RULES = [(r["name"], r["points"], trait_condition(r["when"], "account fit rule " + r["name"]))
                     for r in _get("accounts.fit")]
# what an account handoff's reason says about an account fit rule's traits
ACCOUNT_FIT_DESCRIBE = {r["name"]: trait_describer(r["when"], "account fit rule " + r["name"])
                        for r in _get("accounts.fit")}


def _account_rule(r):
    return dict(name=r["name"], min_engaged=r.get("min_engaged"), min_roles=r.get("min_roles"),
                roles_all=_list(r.get("roles_all")), roles_any=_list(r.get("roles_any")),
                min_score=r.get("min_score"), min_grade=r.get("min_grade"), tiers=_list(r.get("tiers")))


# in order; a condition that is None (or empty) is not set
ACCOUNT_RULES = [_account_rule(r) for r in _get("accounts.rules")]

# team, country globs, region globs, tiers ([] = any)
ROUTES = [(r["team"], _list(r.get("country")), _list(r.get("region")), _list(r.get("tiers")))
          for r in _get("routing")]

STAGES = ("anonymous", "known", "engaged", "conversation_ready", "accepted", "qualified", "opportunity", "customer")


def account_of(account_id_trait, email_domain):
    """The account a contact with these traits belongs to, or None."""
    if not blocked(account_id_trait):
        return account_id_trait
    if blocked(email_domain):
        return None
    if glob(FREE_MAIL_DOMAINS, email_domain):
        return None
    for dom, acct in DOMAIN_ACCOUNTS.items():
        if dom.lower() == email_domain.lower():
            return acct
    return email_domain


def role_of(traits):
    """(role, weight) of a contact with @traits (a dict of trait values)."""
    for role, w, match in ROLE_RULES:
        if match(traits):
            return role, w
    return DEFAULT_ROLE


def role_placement(traits):
    """How role_of() placed a contact with @traits: 'role rule N (role): ...' (N from 1,
    in the file's order) or 'default role (role)'."""
    for i, (role, _, match) in enumerate(ROLE_RULES):
        if match(traits):
            return "role rule %d (%s): %s" % (i + 1, role, ROLE_EXPLAIN[i](traits))
    return "default role (%s)" % DEFAULT_ROLE[0]


def role_weight(role):
    for r, w, _ in ROLE_RULES:
        if r == role:
            return w
    return DEFAULT_ROLE[1]


def tier_of(account_id):
    """(tier, points) of an account; (0, 0) when it is not a target."""
    return TARGETS.get(account_id, (0, 0)) if account_id is not None else (0, 0)


def route(country, region, tier):
    """(team, note) for a lead: the first route that matches, else None and why."""
    def covers(globs, value):
        return not globs or glob(globs, value)
    for team, countries, regions, tiers in ROUTES:
        if covers(countries, country) and covers(regions, region) and (not tiers or tier in tiers):
            return team, None
    if not ROUTES:
        return None, None
    tier_part = " (tier %d)" % tier if tier > 0 else ""
    if country:
        return None, "no team covers country %s%s" % (country, tier_part)
    if region:
        return None, "no team covers region %s%s" % (region, tier_part)
    return None, "no team covers leads without a country%s" % tier_part


def interest_decay(dt_ms):
    return 2.0 ** (-dt_ms / INTEREST_HALF_LIFE_MS)


def routing_payload(team, region, note):
    """The Routing record as python3-avro decodes it."""
    return {"team": team, "region": region, "note": note}


def f32(x):
    """@x as the single-precision float the daemon writes (Avro float)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def decay(dt_ms):
    return 2.0 ** (-dt_ms / HALF_LIFE_MS)


def clamp(v):
    v = max(v, MIN_SCORE)
    if MAX_SCORE > MIN_SCORE:
        v = min(v, MAX_SCORE)
    return v


def lround(v):
    """C's lround: halves away from zero."""
    return int(math.floor(v + 0.5)) if v >= 0 else -int(math.floor(-v + 0.5))


BLOCKED = ("", "null", "undefined", "anonymous", "0", "-1")


def blocked(v):
    return v is None or v.strip().lower() in BLOCKED


def fmt_g(x):
    """C's %g."""
    return "%g" % x


def _desc(text):
    """A sort key ordering strings descending."""
    return [-b for b in text.encode()] + [1]


def duration_text(ms):
    for unit_ms, unit in ((DAY, "d"), (HOUR, "h"), (60000, "m"), (1000, "s")):
        if ms and ms % unit_ms == 0:
            return "%d%s" % (ms // unit_ms, unit)
    return "%dms" % ms
