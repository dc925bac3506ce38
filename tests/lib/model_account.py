"""Stage 3 in tests/lib/model.py: one account's members, score, engaged members, fit,
rules, rosters and handoff (processors/account/account_priv.h states the semantics)."""

import hftest

from model_rules import (ACCOUNT_FIT_DESCRIBE, ACCOUNT_FIT_RULES, ACCOUNT_MAX_SCORE, ACCOUNT_RULES,
                         BUYING_GROUP_MAX, ENGAGED_MEMBER_SCORE, ENGAGED_MEMBER_WITHIN_MS, GRACE_MS, GRADES,
                         INTERESTS_TOP, JOURNEY_DOWNLOADS, JOURNEY_RECENT, JOURNEY_WEBINARS, MEMBERS_MAX, _desc,
                         decay, f32, fmt_g, interest_decay, lround, role_weight, route, routing_payload,
                         tier_of)


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
        """A member of a roster (RosterUpdate's Member)."""
        return {"contact_id": m["contact_id"], "role": m["role"], "score": lround(self.member_score_at(m, t)),
                "last_active": m["last_active"]}

    def buying_group_entry(self, m, t):
        """A member of an account handoff (ConversationReady's Member): a roster's, and
        how the member got its role."""
        return dict(self.member_entry(m, t), placement=m.get("placement"))

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
            "buying_group": [self.buying_group_entry(m, t) for m in engaged[:BUYING_GROUP_MAX]],
            "roles_covered": self.roles(engaged),
            "routing": routing_payload(team, tv.get("region"), note),
        }
