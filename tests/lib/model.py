"""An independent model of the journey semantics (docs/ARCHITECTURE.md "Semantics",
processors/journey/score.h) for the rules of tests/fixtures/handoff-test.yaml, written from
the documents, not from the C code, so the tests can compare the daemon's numbers
with it.  The numbers, patterns and rules are read from that file when this module is
imported (tests/lib/model_fixture.py, which also says why it does not use the daemon's
loader); what the model does not implement (business calendars, member updates at
commit, ...) is refused there with the key that asks for it.

Score (processors/journey/score.h): with d(x) = 2^(-x / half_life), each matching rule in
rule order awards p for an event at t:
    t >= t_ref (or no t_ref):  S = S * d(t - t_ref); t_ref = t; S = clamp(S + p)
    t <  t_ref (late):         S = clamp(S + p * d(t_ref - t))
A rule with a cap is capped for an event at t when cap_count of its awards lie in
(t - period, t]; a capped match awards nothing (but counts as a match).  The score
reported at T is S * d(T - t_ref), rounded half away from zero.

Accounts (docs/ARCHITECTURE.md and the headers processors/model/output.h,
processors/account/account.h, processors/account/account_priv.h): with accounts.member_updates:
every_event (as the fixture sets it), every applied contact fold that has an account
sends the contact's summary (a member update, version = per-contact counter) to
stage 3, which applies it last-writer-wins; the account score at T is
min(max, sum of member score * d(T - score_at) * role weight); a member is engaged
when its decayed score reaches engaged_member.score and it was active within
engaged_member.within of the account's newest activity.  The records between the
stages are handled in one FIFO after each input record, as the daemon's mailbox
does with one instance (PipelineModel.queue).
"""

import collections
import copy
import fnmatch
import math
import os
import struct

import hftest
import model_fixture

from hftest import DAY, HOUR, iso

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


class Interests:
    """A contact's interests (processors/journey/interests.h): per topic a weight W at a
    reference time; an award w at t: W = W * d(t - t_ref) + w (t >= t_ref), else
    W + w * d(t_ref - t); at most INTERESTS_TRACKED topics, a new one evicting the
    weakest at the newest reference time (ties: the least recently added to, then the
    greatest name), possibly itself."""

    def __init__(self):
        self.items = []  # [topic, W, t_ref] in order of first appearance

    @staticmethod
    def weight_at(it, t):
        return it[1] if t <= it[2] else it[1] * interest_decay(t - it[2])

    def add(self, topic, w, t):
        for it in self.items:
            if it[0] == topic:
                if t >= it[2]:
                    it[1] = it[1] * interest_decay(t - it[2]) + w
                    it[2] = t
                else:
                    it[1] += w * interest_decay(it[2] - t)
                return
        cand = [topic, w, t]
        if len(self.items) >= INTERESTS_TRACKED:
            newest = max([t] + [it[2] for it in self.items])

            def weaker(a, b):
                wa, wb = self.weight_at(a, newest), self.weight_at(b, newest)
                if wa != wb:
                    return wa < wb
                if a[2] != b[2]:
                    return a[2] < b[2]
                return a[0] > b[0]
            weakest = cand
            for it in self.items:
                if weaker(it, weakest):
                    weakest = it
            if weakest is cand:
                return
            self.items.remove(weakest)
        self.items.append(cand)

    def fold(self, kind, d):
        for topic, w, match in INTEREST_RULES:
            if match(kind, d):
                self.add(topic, w, d["occurred_at"])

    def top(self, t, n):
        """[(topic, weight at t)] strongest first (ties: topic), positive only."""
        ws = [(it[0], self.weight_at(it, t)) for it in self.items]
        ws = [x for x in ws if x[1] > 0]
        ws.sort(key=lambda x: (-x[1], x[0]))
        return ws[:n]

    def merge(self, other):
        for topic, w, t in other.items:
            self.add(topic, w, t)

    def copy(self):
        c = Interests()
        c.items = [list(it) for it in self.items]
        return c


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


class RuleStat:
    def __init__(self):
        self.awards = []  # award times, all of them
        self.contribution = 0.0
        self.contribution_at = None
        self.capped = 0
        self.last_matched = None


class ContactModel:
    """One contact's journey, folded event by event in the order given."""

    def __init__(self, contact_id):
        self.contact_id = contact_id
        self.S = 0.0
        self.t_ref = None
        self.stats = {}
        self.seen_ids = {}  # event_id -> event time
        self.last_event = None
        self.first_seen = None
        self.traits = {}  # name -> (value, event time)
        self.stage = "known"
        self.started = False
        self.cycle = 1
        self.handed_off = False
        self.handoffs = []  # expected ConversationReady payloads (see handoff_payload)
        self.lifecycle = []  # expected LifecycleChange records
        self.clamped = False  # a clamp changed S at some award (order then matters)
        self.folded = 0
        self.known_since = None
        self.journey = Journey()
        # interests, account and roster
        self.interests = Interests()
        self.account_id = None
        self.member_version = 0
        self.roster = None  # the last roster applied: dict(account_id, version, members, roles_covered)
        self.redirect_to = None
        self.outbox = []  # member updates sent by the last fold, for PipelineModel

    # -- score ----------------------------------------------------------------
    def _apply(self, points, t):
        if self.t_ref is None or t >= self.t_ref:
            v = self.S * (decay(t - self.t_ref) if self.t_ref is not None else 1.0)
            self.t_ref = t
            v += points
        else:
            v = self.S + points * decay(self.t_ref - t)
        c = clamp(v)
        if c != v:
            self.clamped = True
        self.S = c

    def _score_fold(self, kind, d):
        t = d["occurred_at"]
        for rule in SCORE_RULES:
            if not rule.match(kind, d):
                continue
            st = self.stats.setdefault(rule.name, RuleStat())
            if st.last_matched is None or t > st.last_matched:
                st.last_matched = t
            if rule.cap_count:
                in_window = sum(1 for a in st.awards if a <= t and t - a < rule.cap_period_ms)
                if in_window >= rule.cap_count:
                    st.capped += 1
                    continue
            st.awards.append(t)
            self._apply(rule.points, t)
            if st.contribution_at is None or t >= st.contribution_at:
                base = st.contribution * (decay(t - st.contribution_at) if st.contribution_at is not None else 1.0)
                st.contribution = base + rule.points
                st.contribution_at = t
            else:
                st.contribution += rule.points * decay(st.contribution_at - t)

    def score_at(self, t):
        if self.t_ref is None:
            return 0.0
        if t <= self.t_ref:
            return self.S
        return self.S * decay(t - self.t_ref)

    @property
    def score(self):
        """What `handoffctl dump contacts` reports: decayed to the newest event."""
        return lround(self.score_at(self.last_event)) if self.last_event is not None else 0

    # -- fit ------------------------------------------------------------------
    def _traits_fold(self, d):
        tr = d.get("traits")
        if not tr:
            return
        t = d["occurred_at"]
        values = dict(tr)
        email = values.pop("email", None)
        if email is not None:
            values["email_domain"] = email.rsplit("@", 1)[1].lower() if "@" in email else None
        for k, v in values.items():
            if v is None:
                continue
            old = self.traits.get(k)
            if old is None or t >= old[1]:
                self.traits[k] = (v, t)

    def trait_values(self):
        return {k: v for k, (v, _) in self.traits.items()}

    def fit_points(self):
        tv = self.trait_values()
        return sum(p for _, p, m in FIT_RULES if m(tv))

    def excluded(self):
        tv = self.trait_values()
        return any(m(tv) for _, m in EXCLUSIONS)

    @property
    def grade(self):
        if self.excluded():
            return GRADES[-1][0]
        pts = self.fit_points()
        for letter, mn in GRADES:
            if mn <= pts:
                return letter
        return GRADES[-1][0]

    # -- folding --------------------------------------------------------------
    def fold(self, record, d):
        """Folds one event (record name, datum).  Returns False for a duplicate,
        "redirect" when this id was merged away (the event belongs to the survivor).
        Member updates it sends are left in self.outbox."""
        eid, t = d["event_id"], d["occurred_at"]
        if self.redirect_to is not None:
            return "redirect"
        if eid in self.seen_ids:
            return False
        self.seen_ids[eid] = t
        if len(self.seen_ids) > DEDUPE_MAX_IDS:
            raise AssertionError("model: dedupe eviction not modelled; keep tests under %d ids" % DEDUPE_MAX_IDS)
        kind = KIND[record]
        self.folded += 1
        if kind == "sales":
            if forward_feedback(self, d):
                self._send_summary(t)
            return True
        if not self.started:
            self.started = True
            self._change("anonymous", "known", t, "first seen: %s" % kind)
        self.first_seen = t if self.first_seen is None else min(self.first_seen, t)
        self.last_event = t if self.last_event is None else max(self.last_event, t)
        carries_contact = not blocked(d.get("contact_id"))
        before_known = not carries_contact and (self.known_since is None or t < self.known_since)
        if carries_contact and (self.known_since is None or t < self.known_since):
            self.known_since = t
        self._traits_fold(d)
        self._score_fold(kind, d)
        self.journey.fold(kind, d, before_known)
        self.interests.fold(kind, d)
        self._update_account(t)
        self._advance(t)
        self._qualify(kind, d)
        self._send_summary(t)
        return True

    def _advance(self, t):
        score = lround(self.score_at(self.last_event))
        if self.stage == "known" and score >= ENGAGED_SCORE:
            self._change("known", "engaged", t, "score %d >= engaged_score %d" % (score, ENGAGED_SCORE))

    # -- the account side of stage 2 -------------------------------------------
    @property
    def known(self):
        return self.known_since is not None

    @property
    def role(self):
        return role_of(self.trait_values())[0]

    def _update_account(self, t):
        tv = self.trait_values()
        now = account_of(tv.get("account_id"), tv.get("email_domain"))
        if now == self.account_id:
            return
        old, self.account_id = self.account_id, now
        self.roster = None
        if old is not None:
            self.member_version += 1
            self.outbox.append(self.member_update(old, True, self.member_version, t))

    def _send_summary(self, t):
        if self.account_id is None:
            return
        self.member_version += 1
        self.outbox.append(self.member_update(self.account_id, False, self.member_version, t))

    def member_update(self, account_id, leave, version, at):
        """The summary stage 2 sends to stage 3 (processors/model/output.h hf_member_update_t)."""
        ref = self.last_event if self.last_event is not None else at
        tv = self.trait_values()
        contrib = []
        for name, st in self.stats.items():
            pts = st.contribution
            if st.contribution_at is not None and ref > st.contribution_at:
                pts *= decay(ref - st.contribution_at)
            matches = len(st.awards) + st.capped
            detail = "%d match%s" % (matches, "" if matches == 1 else "es")
            if st.capped:
                detail += ", %d over cap" % st.capped
            contrib.append({"rule": name, "points": lround(pts) if st.awards else 0, "count": len(st.awards),
                            "detail": detail})
        contrib.sort(key=lambda r: (-abs(r["points"]), r["rule"]))
        return {
            "contact_id": self.contact_id, "account_id": account_id, "leave": leave, "version": version,
            "at": at, "score": self.score_at(ref), "score_at": ref, "role": self.role, "stage": self.stage,
            "fit_grade": self.grade, "first_seen": self.first_seen if self.first_seen is not None else at,
            "last_active": ref, "company_name": tv.get("company_name"), "industry": tv.get("industry"),
            "employees": tv.get("employees"), "country": tv.get("country"), "region": tv.get("region"),
            "interests": self.interests.top(ref, INTERESTS_TRACKED), "contributions": contrib,
            "touches": [dict(x) for x in self.journey.recent[:MEMBER_JOURNEY]],
            "downloads": [dict(x) for x in self.journey.downloads[:MEMBER_JOURNEY]],
            "webinars": [dict(x) for x in self.journey.webinars[:MEMBER_JOURNEY]],
            "sessions": len(self.journey.sessions), "page_views": self.journey.page_views,
            "email_opens": self.journey.opens, "email_clicks": self.journey.clicks,
        }

    def apply_roster(self, roster):
        """A roster from stage 3: kept when it is of the contact's account and newer."""
        if self.redirect_to is not None or roster["account_id"] != self.account_id:
            return
        if self.roster is not None and self.roster["account_id"] == roster["account_id"] and \
                roster["version"] <= self.roster["version"]:
            return
        self.roster = copy.deepcopy(roster)

    # -- merges ---------------------------------------------------------------
    def merge_from(self, loser, at):
        """contact_merge(): @loser's journey folds into this one at event time @at."""
        for eid, t in loser.seen_ids.items():
            self.seen_ids.setdefault(eid, t)
        if loser.redirect_to is None:
            for k, (v, t) in loser.traits.items():
                old = self.traits.get(k)
                if old is None or t > old[1]:
                    self.traits[k] = (v, t)
            self._score_merge(loser)
            self.journey.merge(loser.journey)
            self.interests.merge(loser.interests)
            if loser.last_event is not None:
                self.first_seen = loser.first_seen if self.first_seen is None else min(self.first_seen,
                                                                                      loser.first_seen)
                self.last_event = loser.last_event if self.last_event is None else max(self.last_event,
                                                                                      loser.last_event)
                self.started = True
            if loser.known_since is not None and (self.known_since is None or loser.known_since < self.known_since):
                self.known_since = loser.known_since
            if loser.handed_off:
                self.handed_off = True
            if self.stage in STAGES and loser.stage in STAGES and STAGES.index(loser.stage) > STAGES.index(self.stage):
                self._change(self.stage, loser.stage, at, "merged with %s" % loser.contact_id)
            if loser.account_id is not None:
                self.outbox.append(loser.member_update(loser.account_id, True, loser.member_version + 1, at))
        self._update_account(at)
        if self.last_event is not None:
            self._advance(at)
            self._qualify("identity", {"occurred_at": at, "event_id": None})
        self._send_summary(at)

    def _score_merge(self, loser):
        for name, src in loser.stats.items():
            st = self.stats.setdefault(name, RuleStat())
            if src.awards and st.awards:
                ref = max(st.contribution_at, src.contribution_at)
                st.contribution = st.contribution * decay(ref - st.contribution_at) + \
                    src.contribution * decay(ref - src.contribution_at)
                st.contribution_at = ref
            elif src.awards:
                st.contribution, st.contribution_at = src.contribution, src.contribution_at
            st.awards = sorted(st.awards + src.awards)
            st.capped += src.capped
            if src.last_matched is not None and (st.last_matched is None or src.last_matched > st.last_matched):
                st.last_matched = src.last_matched
        if loser.t_ref is not None:
            if self.t_ref is not None:
                ref = max(self.t_ref, loser.t_ref)
                v = self.S * decay(ref - self.t_ref) + loser.S * decay(ref - loser.t_ref)
                c = clamp(v)
                if c != v:
                    self.clamped = True
                self.S, self.t_ref = c, ref
            else:
                self.S, self.t_ref = loser.S, loser.t_ref

    def make_redirect(self, survivor_id):
        """contact_state_make_redirect(): only the id, the survivor and the dedupe
        memory are left."""
        version = self.member_version + (1 if self.account_id is not None else 0)
        keep = ContactModel(self.contact_id)
        keep.seen_ids = self.seen_ids
        keep.member_version = version
        keep.folded = self.folded  # what this id folded stays counted (metrics)
        keep.redirect_to = survivor_id
        keep.handoffs = self.handoffs  # what it emitted before stays emitted
        keep.lifecycle = self.lifecycle
        self.__dict__.update(keep.__dict__)

    def _change(self, from_stage, to_stage, t, cause):
        self.lifecycle.append({"entity_type": "contact", "entity_id": self.contact_id, "from_stage": from_stage,
                               "to_stage": to_stage, "at": t, "cause": cause})
        self.stage = to_stage

    def _qualify(self, kind, d):
        t = d["occurred_at"]
        if self.handed_off or self.stage not in ("known", "engaged") or t < self.last_event - GRACE_MS:
            return
        rule = None
        if kind == "form" and d.get("form_type") in HAND_RAISER_FORMS and not self.excluded():
            rule = HAND_RAISER_RULE
        else:
            grade_idx = [g for g, _ in GRADES].index(self.grade)
            score = lround(self.score_at(self.last_event))
            for name, min_score, min_grade, requires, within in CONTACT_RULES:
                if min_score and score < min_score:
                    continue
                if min_grade is not None and grade_idx > [g for g, _ in GRADES].index(min_grade):
                    continue
                if self.excluded():
                    continue
                ok = True
                for req in requires:
                    st = self.stats.get(req)
                    if st is None or st.last_matched is None or t - st.last_matched > within:
                        ok = False
                if ok:
                    rule = name
                    break
        if rule is None:
            return
        self.handed_off = True
        self.handoffs.append(self.handoff_payload(rule, kind, d))
        self._change(self.stage, "conversation_ready", t, "rule %s" % rule)

    # -- the handoff ----------------------------------------------------------
    def reasons(self, rule, kind, d):
        """The reasons a handoff for @rule on event @d carries (ConversationReady.reasons,
        docs/CONTRACTS.md):
        the rule's conditions (no points), every scoring rule's contribution
        (largest first), then the fit rules that matched."""
        out = []
        if rule == HAND_RAISER_RULE:
            out.append({"rule": rule, "points": 0, "count": 0, "detail": "%s form" % d["form_type"]})
        else:
            spec = [c for c in CONTACT_RULES if c[0] == rule][0]
            _, min_score, min_grade, requires, within = spec
            if min_score:
                out.append({"rule": rule, "points": 0, "count": 0,
                            "detail": "score %d >= %d" % (lround(self.score_at(self.last_event)), min_score)})
            if min_grade is not None:
                out.append({"rule": rule, "points": 0, "count": 0,
                            "detail": "fit grade %s (>= %s)" % (self.grade, min_grade)})
            for req in requires:
                out.append({"rule": rule, "points": 0, "count": 0,
                            "detail": "%s within %s" % (req, duration_text(within))})
        contrib = []
        for name, st in self.stats.items():
            pts = st.contribution
            if st.contribution_at is not None and self.last_event > st.contribution_at:
                pts *= decay(self.last_event - st.contribution_at)
            pts = lround(pts) if st.awards else 0
            matches = len(st.awards) + st.capped
            detail = "%d match%s" % (matches, "" if matches == 1 else "es")
            if st.capped:
                detail += ", %d over cap" % st.capped
            if st.last_matched is not None:
                detail += ", last %s" % iso(st.last_matched)
            contrib.append({"rule": name, "points": pts, "count": len(st.awards), "detail": detail})
        contrib.sort(key=lambda r: (-abs(r["points"]), r["rule"]))
        out += contrib
        tv = self.trait_values()
        for name, pts, m in FIT_RULES:
            if m(tv):
                out.append({"rule": "fit:" + name, "points": pts, "count": 1, "detail": FIT_DESCRIBE[name](tv)})
        return out

    def handoff_payload(self, rule, kind, d):
        """The ConversationReady fields the model knows (all but emitted_at and the
        SLA deadlines, which follow wall time)."""
        tv = self.trait_values()
        members, roles = [], []
        ro = self.roster if self.roster is not None and self.roster["account_id"] == self.account_id else None
        if ro is not None:
            members = [dict(x) for x in ro["members"] if x["contact_id"] != self.contact_id][:BUYING_GROUP_MAX]
            roles = list(ro["roles_covered"])
        tier = tier_of(self.account_id)[0]
        team, note = route(tv.get("country"), tv.get("region"), tier)
        return {
            "handoff_id": hftest.handoff_id(self.contact_id, self.cycle),
            "entity_type": "contact",
            "entity_id": self.contact_id,
            "account_id": self.account_id,
            "rule": rule,
            "qualified_at": d["occurred_at"],
            "score": lround(self.score_at(self.last_event)),
            "fit_grade": self.grade,
            "stage_before": self.stage,
            "reasons": self.reasons(rule, kind, d),
            "journey": self.journey.payload(self.first_seen, self.known_since),
            "interests": [{"topic": tp, "weight": f32(w)} for tp, w in self.interests.top(self.last_event,
                                                                                           INTERESTS_TOP)],
            "buying_group": members,
            "roles_covered": roles,
            "routing": routing_payload(team, tv.get("region"), note),
        }


class Stage1Model:
    """Stitching of one anonymous id: buffer until known, then replay the newest
    STITCH_MAX_EVENTS (within STITCH_MAX_AGE_MS of the newest) in event-time order."""

    def __init__(self):
        self.contact = None
        self.buffer = []  # (record, datum) in arrival order
        self.evicted = 0

    def fold(self, record, d):
        """Returns [(contact_id, record, datum)] forwarded to stage 2."""
        cid = d.get("contact_id")
        if cid is not None and not blocked(cid):
            out = []
            if self.contact is None:
                for r, bd in sorted(self.buffer, key=lambda x: x[1]["occurred_at"]):
                    out.append((cid, r, bd))
                self.buffer = []
            self.contact = cid
            out.append((cid, record, d))
            return out
        if self.contact is not None:
            return [(self.contact, record, d)]
        self.buffer.append((record, d))
        newest = max(x[1]["occurred_at"] for x in self.buffer)
        kept = [x for x in self.buffer if x[1]["occurred_at"] >= newest - STITCH_MAX_AGE_MS]
        kept.sort(key=lambda x: x[1]["occurred_at"])
        if len(kept) > STITCH_MAX_EVENTS:
            kept = kept[-STITCH_MAX_EVENTS:]
        self.evicted += len(self.buffer) - len(kept)
        keep_ids = {id(x) for x in kept}
        self.buffer = [x for x in self.buffer if id(x) in keep_ids]
        return []


BLOCKED = ("", "null", "undefined", "anonymous", "0", "-1")


def blocked(v):
    return v is None or v.strip().lower() in BLOCKED


# The known contact survives an anonymous one: "known" as it was before the merge
# record itself (which carries the named survivor's id) was folded.
MERGE_SURVIVOR_KNOWN_BEFORE = True


class PipelineModel:
    """Stage 1, stage 2 and stage 3 over a stream of (record, datum), folded in the
    order given (for the tests: each contact's events in event-time order per path).
    What one input record sets off inside the process (stitched history, member
    updates, rosters, merge requests and journeys) runs in one FIFO, as in the
    daemon's mailbox with one instance."""

    def __init__(self):
        self.anon = {}
        self.contacts = {}
        self.accounts = {}
        self.queue = collections.deque()
        self.merged = []  # (survivor, loser) of every merge carried out

    def contact(self, cid):
        if cid not in self.contacts:
            self.contacts[cid] = ContactModel(cid)
        return self.contacts[cid]

    def account(self, aid):
        if aid not in self.accounts:
            self.accounts[aid] = AccountModel(aid)
        return self.accounts[aid]

    def fold(self, record, d):
        if record in ("WebVisit", "FormSubmission") or \
                (record == "IdentityEvent" and d.get("anonymous_id") and not blocked(d["anonymous_id"])):
            a = self.anon.setdefault(d["anonymous_id"], Stage1Model())
            for cid, r, dd in a.fold(record, d):
                self.queue.append(("contact", cid, r, dd))
        elif record == "SalesActivity":
            if d["entity_type"] == "contact":
                self.queue.append(("contact", d["entity_id"], record, d))
            else:
                a = self.account(d["entity_id"])
                if d["event_id"] not in a.sales_seen:
                    a.sales_seen.add(d["event_id"])
                    forward_feedback(a, d)
        else:
            self.queue.append(("contact", d["contact_id"], record, d))
        self._drain()

    def fold_all(self, events):
        for ev in events:
            self.fold(ev.record, ev.datum)

    def _drain(self):
        for _ in range(1000000):
            if not self.queue:
                return
            item = self.queue.popleft()
            getattr(self, "_on_" + item[0])(*item[1:])
        raise AssertionError("model: the mailbox does not drain")

    def _flush(self, c):
        for u in c.outbox:
            self.queue.append(("member", u))
        c.outbox = []

    def _on_contact(self, cid, record, d):
        c = self.contact(cid)
        known_before = c.known
        r = c.fold(record, d)
        if r == "redirect":
            self.queue.append(("contact", c.redirect_to, record, d))
            return
        self._flush(c)
        if r is True and record == "IdentityEvent" and d["kind"] == "merge":
            loser = d.get("merged_contact_id")
            if loser is None or blocked(loser) or loser == cid:
                return
            known = known_before if MERGE_SURVIVOR_KNOWN_BEFORE else c.known
            self.queue.append(("merge_request", d["event_id"], d["occurred_at"], cid, loser, known, False))

    def _on_merge_request(self, eid, at, survivor, loser, survivor_known, bounced):
        lc = self.contact(loser)
        if lc.redirect_to is not None:
            return  # a repeat, or an earlier merge won
        if not bounced and not survivor_known and lc.known:
            self.queue.append(("merge_request", eid, at, loser, survivor, True, True))
            return
        snapshot = copy.deepcopy(lc)
        self.queue.append(("merge_state", eid, at, survivor, loser, snapshot))
        lc.make_redirect(survivor)

    def _on_merge_state(self, eid, at, survivor, loser, snapshot):
        sc = self.contact(survivor)
        assert sc.redirect_to is None, "model: merge into a merged-away survivor not modelled"
        sc.merge_from(snapshot, at)
        self._flush(sc)
        self.merged.append((survivor, loser))

    def _on_member(self, u):
        a = self.account(u["account_id"])
        for cid, roster in a.fold(u):
            self.queue.append(("roster", cid, roster))

    def _on_roster(self, cid, roster):
        c = self.contacts.get(cid)
        if c is not None:
            c.apply_roster(roster)

    # -- what the tests compare -------------------------------------------------
    def handoffs(self):
        """Every expected ConversationReady, contacts' and accounts'."""
        out = []
        for c in self.contacts.values():
            out += c.handoffs
        for a in self.accounts.values():
            out += a.handoffs
        return out


# Sales feedback that moves the lifecycle forward (processors/sla/sla.c), as far as the
# older tests use it: feedback naming no handoff, on an entity that was not handed
# off.  tests/unit/processors/test_sla.c and tests/integration/test_sla.py cover the
# rest (clocks, recycling, handoff ids).
STAGE_RANK = {"anonymous": 0, "known": 1, "engaged": 2, "recycled": 2, "lost": 2, "conversation_ready": 3,
              "accepted": 4, "qualified": 5, "opportunity": 6, "customer": 7, "disqualified": 8}
FORWARD_FEEDBACK = {"accepted": ("accepted", "accepted by %s"),
                    "contacted": ("accepted", "contacted by %s"),
                    "meeting_booked": ("qualified", "meeting booked by %s"),
                    "opportunity_created": ("opportunity", "opportunity created by %s"),
                    "won": ("customer", "won by %s")}


def forward_feedback(entity, d):
    """Applies @d (a SalesActivity datum) to @entity (a contact or account model);
    True when the stage moved."""
    if d.get("handoff_id") is not None or entity.handed_off:
        raise AssertionError("model: feedback on handoffs is not modelled here")
    if d["action"] not in FORWARD_FEEDBACK:
        raise AssertionError("model: %s feedback is not modelled here" % d["action"])
    to, cause = FORWARD_FEEDBACK[d["action"]]
    if STAGE_RANK[entity.stage] >= STAGE_RANK[to]:
        return False
    owner = d.get("owner_id") or "sales"
    if d["action"] == "contacted" and d.get("channel"):
        owner += " via " + d["channel"]
    entity._change(entity.stage, to, d["occurred_at"], cause % owner)
    return True


class AccountModel:
    """Stage 3: one account's members (the last summary of each contact, applied
    last-writer-wins by version), score, engaged members, fit, rules, rosters."""

    def __init__(self, account_id):
        self.account_id = account_id
        self.members = {}  # contact id -> member update, in order of joining
        self.versions = {}  # contact id -> version of the last update applied (members and departed)
        self.stage = "known"
        self.started = False
        self.known_since = None
        self.cycle = 1
        self.handed_off = False
        self.sales_seen = set()
        self.updates = 0
        self.roster_version = 0
        self.roster_set = frozenset()  # (contact id, role) of the engaged members when the last roster went out
        self.roster_order = []  # their ids, ranked
        self.rosters_sent = 0
        self.handoffs = []
        self.lifecycle = []

    # -- views ------------------------------------------------------------------
    def newest_activity(self):
        return max((m["last_active"] for m in self.members.values()), default=None)

    @staticmethod
    def member_score_at(m, t):
        if t is None or t <= m["score_at"]:
            return m["score"]
        return m["score"] * decay(t - m["score_at"])

    def weighted(self, m, t):
        return self.member_score_at(m, t) * role_weight(m["role"])

    def score_at(self, t):
        return min(ACCOUNT_MAX_SCORE, sum(self.weighted(m, t) for m in self.members.values()))

    @property
    def score(self):
        """Rounded, at the newest activity (what a handoff and the dump report)."""
        return lround(self.score_at(self.newest_activity())) if self.members else 0

    def is_engaged(self, m, t):
        if lround(self.member_score_at(m, t)) < ENGAGED_MEMBER_SCORE:
            return False
        return not ENGAGED_MEMBER_WITHIN_MS or t - m["last_active"] <= ENGAGED_MEMBER_WITHIN_MS

    def ranked(self, t, engaged_only=True):
        """Members ranked by weighted score (ties: contact id)."""
        ms = [m for m in self.members.values() if not engaged_only or self.is_engaged(m, t)]
        return sorted(ms, key=lambda m: (-self.weighted(m, t), m["contact_id"]))

    def engaged(self):
        t = self.newest_activity()
        return self.ranked(t) if t is not None else []

    def roles(self, ranked):
        out = []
        for m in ranked:
            if m["role"] not in out:
                out.append(m["role"])
        return out

    def traits(self):
        """The account's traits: each the value of the most recently active member
        that has one (ties: the smaller contact id)."""
        out = {}
        by_activity = sorted(self.members.values(), key=lambda m: (-m["last_active"], m["contact_id"]))
        for k in ("company_name", "industry", "employees", "country", "region"):
            for m in by_activity:
                if m[k] is not None:
                    out[k] = m[k]
                    break
        return out

    @property
    def tier(self):
        return tier_of(self.account_id)[0]

    def fit_points(self):
        tv = self.traits()
        return sum(p for _, p, match in ACCOUNT_FIT_RULES if match(tv)) + tier_of(self.account_id)[1]

    @property
    def grade(self):
        pts = self.fit_points()
        for letter, mn in GRADES:
            if mn <= pts:
                return letter
        return GRADES[-1][0]

    # -- folding ----------------------------------------------------------------
    def fold(self, u):
        """Applies a member update; returns the rosters it sends: [(contact id, roster)]."""
        cid = u["contact_id"]
        if cid in self.versions and u["version"] <= self.versions[cid]:
            return []  # stale: a repeat or an older one
        self.versions[cid] = u["version"]
        self.updates += 1
        if u["leave"]:
            self.members.pop(cid, None)
        else:
            self.members[cid] = dict(u)
            self._bound()
        at = u["at"]
        if not self.started and not u["leave"]:
            self.started = True
            self.known_since = at
            self._change("anonymous", "known", at, "first member: %s" % cid)
        engaged = self.engaged()
        if self.stage == "known" and engaged:
            top = engaged[0]
            self._change("known", "engaged", at, "member %s engaged: score %d >= engaged_member_score %d"
                         % (top["contact_id"], lround(self.member_score_at(top, self.newest_activity())),
                            ENGAGED_MEMBER_SCORE))
        self._qualify(u, engaged)
        return self._rosters(engaged, cid if u["leave"] else None)

    def _bound(self):
        while len(self.members) > MEMBERS_MAX:
            t = self.newest_activity()
            # not engaged first, then the least recently active, then the greater id
            victim = min(self.members.values(), key=lambda m: (self.is_engaged(m, t), m["last_active"],
                                                               _desc(m["contact_id"])))
            del self.members[victim["contact_id"]]

    def _change(self, from_stage, to_stage, t, cause):
        self.lifecycle.append({"entity_type": "account", "entity_id": self.account_id, "from_stage": from_stage,
                               "to_stage": to_stage, "at": t, "cause": cause})
        self.stage = to_stage

    def _rosters(self, engaged, leaver):
        """When the set of (engaged member, role) changed: a new version to every
        engaged member and to every member of the previous roster no longer engaged
        (but not to one that just left), each listing the others, ranked, at most
        BUYING_GROUP_MAX."""
        now = frozenset((m["contact_id"], m["role"]) for m in engaged)
        if now == self.roster_set:
            return []
        before = list(self.roster_order)
        self.roster_set = now
        self.roster_order = [m["contact_id"] for m in engaged]
        self.roster_version += 1
        self.rosters_sent += 1
        t = self.newest_activity()
        roles = self.roles(engaged)
        recipients = [m["contact_id"] for m in engaged]
        recipients += [c for c in before if c not in recipients and c != leaver]
        out = []
        for r in recipients:
            out.append((r, {"account_id": self.account_id, "version": self.roster_version,
                            "members": [self.member_entry(m, t) for m in engaged
                                        if m["contact_id"] != r][:BUYING_GROUP_MAX],
                            "roles_covered": list(roles)}))
        return out

    def member_entry(self, m, t):
        return {"contact_id": m["contact_id"], "role": m["role"], "score": lround(self.member_score_at(m, t)),
                "last_active": m["last_active"]}

    def rule_holds(self, rule, engaged):
        roles = set(m["role"] for m in engaged)
        if rule["min_engaged"] and len(engaged) < rule["min_engaged"]:
            return False
        if rule["min_roles"] and len(roles) < rule["min_roles"]:
            return False
        if any(r not in roles for r in rule["roles_all"]):
            return False
        if rule["roles_any"] and not any(r in roles for r in rule["roles_any"]):
            return False
        if rule["min_score"] and self.score < rule["min_score"]:
            return False
        letters = [g for g, _ in GRADES]
        if rule["min_grade"] is not None and letters.index(self.grade) > letters.index(rule["min_grade"]):
            return False
        if rule["tiers"] and self.tier not in rule["tiers"]:
            return False
        return True

    def _qualify(self, u, engaged):
        if self.handed_off or self.stage not in ("known", "engaged") or not self.members:
            return
        if u["at"] < self.newest_activity() - GRACE_MS:
            return
        for rule in ACCOUNT_RULES:
            if self.rule_holds(rule, engaged):
                self.handed_off = True
                self.handoffs.append(self.handoff_payload(rule, u, engaged))
                self._change(self.stage, "conversation_ready", u["at"], "rule %s" % rule["name"])
                return

    # -- the handoff --------------------------------------------------------------
    def condition_reasons(self, rule, engaged):
        """The conditions that made @rule fire (points 0, count 0)."""
        name = rule["name"]
        roles = self.roles(engaged)
        out = []

        def add(detail):
            out.append({"rule": name, "points": 0, "count": 0, "detail": detail})
        if rule["min_engaged"]:
            add("engaged members %d >= %d" % (len(engaged), rule["min_engaged"]))
        if rule["min_roles"]:
            add("roles %d >= %d: %s" % (len(roles), rule["min_roles"], ", ".join(roles)))
        if rule["roles_all"]:
            add("all of roles covered: %s" % ", ".join(rule["roles_all"]))
        if rule["roles_any"]:
            add("any of roles covered: %s" % ", ".join(r for r in rule["roles_any"] if r in roles))
        if rule["min_score"]:
            add("account score %d >= %d" % (self.score, rule["min_score"]))
        if rule["min_grade"] is not None:
            add("fit grade %s (>= %s)" % (self.grade, rule["min_grade"]))
        if rule["tiers"]:
            add("tier %d in %s" % (self.tier, ", ".join(str(x) for x in rule["tiers"])))
        return out

    def member_reasons(self, t):
        """Every member's part of the account score, by weighted score."""
        out = []
        for m in self.ranked(t, engaged_only=False):
            w = role_weight(m["role"])
            out.append({"rule": "member:" + m["contact_id"], "points": lround(self.weighted(m, t)), "count": 1,
                        "detail": "%s, score %d x %s" % (m["role"], lround(self.member_score_at(m, t)), fmt_g(w))})
        return out

    def fit_reasons(self):
        """The account fit rules that match, then the target tier."""
        tv = self.traits()
        out = []
        for name, pts, match in ACCOUNT_FIT_RULES:
            if match(tv):
                out.append({"rule": "fit:" + name, "points": pts, "count": 1,
                            "detail": ACCOUNT_FIT_DESCRIBE[name](tv)})
        tier, pts = tier_of(self.account_id)
        if tier > 0:
            out.append({"rule": "target_account", "points": pts, "count": 1, "detail": "tier %d" % tier})
        return out

    def journey_payload(self, t):
        """The members' journeys merged: lists newest first (ties: the higher-ranked
        member, then the member's own order), each touch's detail naming its member."""
        ranked = self.ranked(t, engaged_only=False)

        def merged(key, limit):
            refs = []
            for rank, m in enumerate(ranked):
                for idx, x in enumerate(m[key]):
                    refs.append((-x["at"], rank, idx, m, x))
            refs.sort(key=lambda r: r[:3])
            return [(r[3], r[4]) for r in refs[:limit]]
        recent = []
        for m, x in merged("touches", JOURNEY_RECENT):
            y = dict(x)
            y["detail"] = m["contact_id"] if x["detail"] is None else "%s: %s" % (m["contact_id"], x["detail"])
            recent.append(y)
        return {
            "first_seen": min(m["first_seen"] for m in ranked),
            "known_since": self.known_since,
            "sessions": sum(m["sessions"] for m in ranked),
            "page_views": sum(m["page_views"] for m in ranked),
            "top_pages": [],
            "downloads": [dict(x) for _, x in merged("downloads", JOURNEY_DOWNLOADS)],
            "webinars": [dict(x) for _, x in merged("webinars", JOURNEY_WEBINARS)],
            "email": {"opens": sum(m["email_opens"] for m in ranked),
                      "clicks": sum(m["email_clicks"] for m in ranked), "last_campaign": None},
            "recent": recent,
        }

    def interests_at(self, t):
        """Members' interests summed by topic at @t, strongest first (ties: topic)."""
        tot = {}
        for m in self.members.values():
            for topic, w in m["interests"]:
                wt = w if t <= m["score_at"] else w * interest_decay(t - m["score_at"])
                tot[topic] = tot.get(topic, 0.0) + wt
        return sorted(((k, v) for k, v in tot.items() if v > 0), key=lambda x: (-x[1], x[0]))

    def handoff_payload(self, rule, u, engaged):
        t = self.newest_activity()
        tv = self.traits()
        team, note = route(tv.get("country"), tv.get("region"), self.tier)
        return {
            "handoff_id": hftest.handoff_id(self.account_id, self.cycle, entity_type="account"),
            "entity_type": "account",
            "entity_id": self.account_id,
            "account_id": self.account_id,
            "rule": rule["name"],
            "qualified_at": u["at"],
            "score": self.score,
            "fit_grade": self.grade,
            "stage_before": self.stage,
            "reasons": self.condition_reasons(rule, engaged) + self.member_reasons(t) + self.fit_reasons(),
            "journey": self.journey_payload(t),
            "interests": [{"topic": k, "weight": f32(v)} for k, v in self.interests_at(t)[:INTERESTS_TOP]],
            "buying_group": [self.member_entry(m, t) for m in engaged[:BUYING_GROUP_MAX]],
            "roles_covered": self.roles(engaged),
            "routing": routing_payload(team, tv.get("region"), note),
        }


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




def _newest_first_insert(items, item, at, limit):
    """Inserts before the first item not newer than @at (a later fold of the same
    time counts as newer); drops the oldest beyond @limit."""
    pos = 0
    while pos < len(items) and items[pos]["at"] > at:
        pos += 1
    if pos >= limit:
        return
    items.insert(pos, item)
    del items[limit:]


class Journey:
    """What a handoff's journey shows (ConversationReady.journey, docs/CONTRACTS.md)."""

    def __init__(self):
        self.sessions = set()
        self.page_views = 0
        self.pages = {}  # url -> dict(title, title_at, views, last_at)
        self.downloads = []
        self.webinars = []
        self.opens = 0
        self.clicks = 0
        self.last_campaign = None
        self.last_campaign_at = None
        self.recent = []

    def fold(self, kind, d, before_known):
        t = d["occurred_at"]
        touch = None
        if kind == "web_visit":
            if d["session_id"]:
                self.sessions.add(d["session_id"])
            self.page_views += 1
            p = self.pages.get(d["url"])
            if p is None:
                p = self.pages[d["url"]] = {"title": None, "title_at": None, "views": 0, "last_at": t}
            p["views"] += 1
            p["last_at"] = max(p["last_at"], t)
            if d["title"] is not None and (p["title"] is None or t >= p["title_at"]):
                p["title"], p["title_at"] = d["title"], t
            touch = ("web_visit", d["title"] if d["title"] is not None else d["url"], d["url"])
        elif kind == "form":
            touch = ("form", d["form_id"], d["form_type"])
        elif kind == "download":
            _newest_first_insert(self.downloads, {"asset_id": d["asset_id"], "title": d["asset_title"],
                                                  "type": d["asset_type"], "at": t}, t, JOURNEY_DOWNLOADS)
            touch = ("download", d["asset_title"], d["asset_type"])
        elif kind == "webinar":
            _newest_first_insert(self.webinars, {"webinar_id": d["webinar_id"], "title": d["webinar_title"],
                                                 "action": d["action"], "minutes": d["minutes_attended"], "at": t},
                                 t, JOURNEY_WEBINARS)
            detail = d["action"] + (", %d min" % d["minutes_attended"] if d["minutes_attended"] > 0 else "")
            touch = ("webinar", d["webinar_title"], detail)
        elif kind == "email":
            if d["action"] == "opened":
                self.opens += 1
            elif d["action"] == "clicked":
                self.clicks += 1
            if d["action"] in ("opened", "clicked", "unsubscribed", "spam_reported"):
                if self.last_campaign is None or t >= self.last_campaign_at:
                    self.last_campaign, self.last_campaign_at = d["campaign"], t
                touch = ("email", d["campaign"], d["action"])
        if touch is None:
            return
        typ, title, detail = touch
        if before_known:
            detail = "before known"
        _newest_first_insert(self.recent, {"at": t, "type": typ, "title": title, "detail": detail}, t,
                             JOURNEY_RECENT)

    def merge(self, src):
        """journey_merge(): @src's items go in oldest first, each placed as a fold of
        its own time would place it."""
        self.sessions |= src.sessions
        for url, sp in src.pages.items():
            dp = self.pages.get(url)
            if dp is None:
                self.pages[url] = dict(sp)
                continue
            dp["views"] += sp["views"]
            dp["last_at"] = max(dp["last_at"], sp["last_at"])
            if sp["title"] is not None and (dp["title"] is None or sp["title_at"] >= dp["title_at"]):
                dp["title"], dp["title_at"] = sp["title"], sp["title_at"]
        for x in reversed(src.downloads):
            _newest_first_insert(self.downloads, dict(x), x["at"], JOURNEY_DOWNLOADS)
        for x in reversed(src.webinars):
            _newest_first_insert(self.webinars, dict(x), x["at"], JOURNEY_WEBINARS)
        for x in reversed(src.recent):
            _newest_first_insert(self.recent, dict(x), x["at"], JOURNEY_RECENT)
        self.page_views += src.page_views
        self.opens += src.opens
        self.clicks += src.clicks
        if src.last_campaign is not None and (self.last_campaign is None or
                                              src.last_campaign_at > self.last_campaign_at):
            self.last_campaign, self.last_campaign_at = src.last_campaign, src.last_campaign_at

    def top_pages(self):
        pages = sorted(self.pages.items(), key=lambda kv: (-kv[1]["views"], -kv[1]["last_at"], kv[0]))
        return [{"url": u, "title": p["title"], "views": p["views"]} for u, p in pages[:JOURNEY_TOP_PAGES]]

    def payload(self, first_seen, known_since):
        return {
            "first_seen": first_seen,
            "known_since": known_since,
            "sessions": len(self.sessions),
            "page_views": self.page_views,
            "top_pages": self.top_pages(),
            "downloads": [dict(x) for x in self.downloads],
            "webinars": [dict(x) for x in self.webinars],
            "email": {"opens": self.opens, "clicks": self.clicks, "last_campaign": self.last_campaign},
            "recent": [dict(x) for x in self.recent],
        }
