"""What a contact's journey and interests look like in tests/lib/model.py: the
timeline, pages, downloads, webinars and e-mail a handoff shows, and the decaying
interest topics (processors/journey/journey.h, processors/journey/interests.h)."""

from model_rules import (INTEREST_RULES, INTERESTS_TRACKED, JOURNEY_DOWNLOADS, JOURNEY_RECENT, JOURNEY_TOP_PAGES,
                         JOURNEY_WEBINARS, interest_decay)


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
