"""An independent model of the journey semantics (DESIGN §3, processors/score.h)
for the rules of tests/fixtures/handoff-test.yaml, written from the documents, not
from the C code, so the tests can compare the daemon's numbers with it.

Score (processors/score.h): with d(x) = 2^(-x / half_life), each matching rule in
rule order awards p for an event at t:
    t >= t_ref (or no t_ref):  S = S * d(t - t_ref); t_ref = t; S = clamp(S + p)
    t <  t_ref (late):         S = clamp(S + p * d(t_ref - t))
A rule with a cap is capped for an event at t when cap_count of its awards lie in
(t - period, t]; a capped match awards nothing (but counts as a match).  The score
reported at T is S * d(T - t_ref), rounded half away from zero.
"""

import fnmatch
import math

import hftest

from hftest import DAY, HOUR, iso

HALF_LIFE_MS = 7 * DAY
MAX_SCORE = 1000
MIN_SCORE = 0
ENGAGED_SCORE = 30
GRACE_MS = 1 * HOUR
STITCH_MAX_EVENTS = 5
STITCH_MAX_AGE_MS = 30 * DAY
DEDUPE_WINDOW_MS = 7 * DAY
DEDUPE_MAX_IDS = 256
SLA_ACCEPT_MS = 4 * HOUR
SLA_FIRST_TOUCH_MS = 24 * HOUR
JOURNEY_RECENT = 8
JOURNEY_TOP_PAGES = 3
JOURNEY_DOWNLOADS = 5
JOURNEY_WEBINARS = 5
HAND_RAISER_FORMS = ("demo_request", "contact_sales")
HAND_RAISER_RULE = "hand_raiser"

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


class ScoreRule:
    def __init__(self, name, points, match, cap=None):
        self.name, self.points, self.match = name, points, match
        self.cap_count, self.cap_period_ms = cap if cap else (0, 0)


SCORE_RULES = [
    ScoreRule("page_view", 1, lambda k, d: k == "web_visit", cap=(10, DAY)),
    ScoreRule("pricing_page", 10, lambda k, d: k == "web_visit" and glob("*/pricing*", d["url"]), cap=(2, DAY)),
    ScoreRule("careers_page", -15, lambda k, d: k == "web_visit" and glob("*/careers*", d["url"])),
    ScoreRule("form_fill", 15, lambda k, d: k == "form"),
    ScoreRule("whitepaper", 20, lambda k, d: k == "download" and d["asset_type"] in ("whitepaper", "ebook")),
    ScoreRule("case_study", 10, lambda k, d: k == "download" and d["asset_type"] == "case_study"),
    ScoreRule("webinar_attended", 25, lambda k, d: k == "webinar" and d["action"] in ("attended", "watched_recording")
              and d["minutes_attended"] >= 20),
    ScoreRule("email_click", 5, lambda k, d: k == "email" and d["action"] == "clicked", cap=(3, 7 * DAY)),
    ScoreRule("email_open", 1, lambda k, d: k == "email" and d["action"] == "opened"),
    ScoreRule("unsubscribe", -20, lambda k, d: k == "email" and d["action"] in ("unsubscribed", "spam_reported")),
]

GRADES = [("A", 60), ("B", 40), ("C", 20), ("F", 0)]

FIT_RULES = [
    ("senior_title", 40, lambda t: glob(["*vp*", "*head of*", "*director*", "chief *"], t.get("title"))),
    ("target_size", 20, lambda t: t.get("employees") is not None and 100 <= t["employees"] <= 5000),
]

EXCLUSIONS = [
    ("competitor", lambda t: glob("rival.example", t.get("email_domain"))),
    ("student", lambda t: glob("*student*", t.get("title"))),
]

# name, min_score, min_grade (None = any), requires, within_ms
CONTACT_RULES = [
    ("high_intent", 100, "B", ["pricing_page"], 30 * DAY),
    ("product_intent", 150, None, ["pricing_page"], 7 * DAY),
]


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
        """Folds one event (record name, datum).  Returns False for a duplicate."""
        eid, t = d["event_id"], d["occurred_at"]
        if eid in self.seen_ids:
            return False
        self.seen_ids[eid] = t
        if len(self.seen_ids) > DEDUPE_MAX_IDS:
            raise AssertionError("model: dedupe eviction not modelled; keep tests under %d ids" % DEDUPE_MAX_IDS)
        kind = KIND[record]
        self.folded += 1
        if kind == "sales":
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
        score = lround(self.score_at(self.last_event))
        if self.stage == "known" and score >= ENGAGED_SCORE:
            self._change("known", "engaged", t, "score %d >= engaged_score %d" % (score, ENGAGED_SCORE))
        self._qualify(kind, d)
        return True

    def _change(self, from_stage, to_stage, t, cause):
        self.lifecycle.append({"entity_type": "contact", "entity_id": self.contact_id, "from_stage": from_stage,
                               "to_stage": to_stage, "at": t, "cause": cause})
        self.stage = to_stage

    def _qualify(self, kind, d):
        t = d["occurred_at"]
        if self.handed_off or self.stage not in ("known", "engaged") or t < self.last_event - GRACE_MS:
            return
        rule = None
        if kind == "form" and d["form_type"] in HAND_RAISER_FORMS and not self.excluded():
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
        """The reasons a handoff for @rule on event @d carries (DESIGN §4 Reason):
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
        return {
            "handoff_id": hftest.handoff_id(self.contact_id, self.cycle),
            "entity_type": "contact",
            "entity_id": self.contact_id,
            "account_id": tv.get("account_id"),
            "rule": rule,
            "qualified_at": d["occurred_at"],
            "score": lround(self.score_at(self.last_event)),
            "fit_grade": self.grade,
            "stage_before": self.stage,
            "reasons": self.reasons(rule, kind, d),
            "journey": self.journey.payload(self.first_seen, self.known_since),
            "interests": [],
            "buying_group": [],
            "roles_covered": [],
            "routing": {"team": None, "region": tv.get("region")},
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


class PipelineModel:
    """Stage 1 and stage 2 over a stream of (record, datum), folded in the order
    given (for the tests: each contact's events in event-time order per path)."""

    def __init__(self):
        self.anon = {}
        self.contacts = {}

    def contact(self, cid):
        if cid not in self.contacts:
            self.contacts[cid] = ContactModel(cid)
        return self.contacts[cid]

    def fold(self, record, d):
        if record in ("WebVisit", "FormSubmission"):
            a = self.anon.setdefault(d["anonymous_id"], Stage1Model())
            for cid, r, dd in a.fold(record, d):
                self.contact(cid).fold(r, dd)
            return
        if record == "IdentityEvent" and d.get("anonymous_id") and not blocked(d["anonymous_id"]):
            a = self.anon.setdefault(d["anonymous_id"], Stage1Model())
            for cid, r, dd in a.fold(record, d):
                self.contact(cid).fold(r, dd)
            return
        cid = d.get("contact_id") if record != "SalesActivity" else d["entity_id"]
        self.contact(cid).fold(record, d)


def duration_text(ms):
    for unit_ms, unit in ((DAY, "d"), (HOUR, "h"), (60000, "m"), (1000, "s")):
        if ms and ms % unit_ms == 0:
            return "%d%s" % (ms // unit_ms, unit)
    return "%dms" % ms


FIT_DESCRIBE = {
    "senior_title": lambda t: "title %s" % t["title"],
    "target_size": lambda t: "employees %d" % t["employees"],
}


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
    """What a handoff's journey shows (DESIGN §4 Journey)."""

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
