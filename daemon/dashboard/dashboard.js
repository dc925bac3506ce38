/* The dashboard's refresh: every 5 s it fetches /v1/dashboard with the filter of the
 * form, and that of every other instance the answer names (peers), sums them and
 * renders the view again.  Without JavaScript the server's first view stays. */
"use strict";
(function () {
  var REFRESH_MS = 5000, CASES_MAX = 100, BREACHES_MAX = 20;
  var FUNNEL_LABELS = {known: "known", engaged: "engaged",
    conversation_ready: "conversation ready", accepted: "accepted", qualified: "qualified",
    opportunity: "opportunity", customer: "customer"};
  var LISTS = [["by_rule", "rule", "by rule"], ["by_source", "source", "by source"],
    ["by_first_campaign", "campaign", "by first-touch campaign"],
    ["by_last_campaign", "campaign", "by last-touch campaign"]];
  var form = document.getElementById("filter");
  var view = document.getElementById("view");
  var notice = document.getElementById("notice");
  var token = sessionStorage.getItem("handoffd-token") || "";

  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }
  function num(key, n) { return "<td class=\"n\" data-key=\"" + esc(key) + "\">" + n + "</td>"; }
  function pct(part, whole) {
    return "<td class=\"n\">" + (whole ? (100 * part / whole).toFixed(1) + "%" : "&ndash;") + "</td>";
  }
  function duration(ms) {
    var sign = ms < 0 ? "-" : "", s = Math.floor(Math.abs(ms) / 1000);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    if (s < 60) return sign + s + "s";
    if (s < 3600) return sign + Math.floor(s / 60) + "m " + two(s % 60) + "s";
    if (s < 86400) return sign + Math.floor(s / 3600) + "h " + two(Math.floor(s % 3600 / 60)) + "m";
    return sign + Math.floor(s / 86400) + "d " + two(Math.floor(s % 86400 / 3600)) + "h";
  }

  /* ---- summing the instances' answers ---- */

  function addBuckets(a, b) {
    var byLow = {};
    (a || []).concat(b || []).forEach(function (x) {
      var k = String(x[0]);
      if (byLow[k]) byLow[k][2] += x[2]; else byLow[k] = [x[0], x[1], x[2]];
    });
    return Object.keys(byLow).map(function (k) { return byLow[k]; })
      .sort(function (x, y) { return x[0] - y[0]; });
  }
  /* The middle of the bucket holding the median, as the server computes it. */
  function median(buckets) {
    var total = 0, seen = 0, i;
    for (i = 0; i < buckets.length; i++) total += buckets[i][2];
    if (!total) return null;
    var half = Math.floor((total + 1) / 2);
    for (i = 0; i < buckets.length; i++) {
      seen += buckets[i][2];
      if (seen >= half) return buckets[i][0] + (buckets[i][1] - buckets[i][0]) / 2;
    }
    return null;
  }
  /* Adds row @b into row @a: numbers add, objects recurse, bucket lists merge. */
  function addRow(a, b) {
    Object.keys(b).forEach(function (k) {
      if (/_buckets$/.test(k)) a[k] = addBuckets(a[k], b[k]);
      else if (typeof b[k] === "number" && !/^median_/.test(k)) a[k] = (a[k] || 0) + b[k];
      else if (b[k] && typeof b[k] === "object" && !Array.isArray(b[k]))
        a[k] = addRow(a[k] || {}, b[k]);
      else if (!(k in a)) a[k] = b[k];
    });
    return a;
  }
  function addList(a, b, key) {
    var out = (a || []).map(function (r) { return addRow({}, r); });
    (b || []).forEach(function (r) {
      var mine = out.filter(function (x) { return x[key] === r[key]; })[0];
      if (mine) addRow(mine, r); else out.push(addRow({}, r));
    });
    return out;
  }
  function fixMedians(row) {
    if (row && row.accept_buckets) {
      row.median_accept_seconds = median(row.accept_buckets);
      row.median_first_touch_seconds = median(row.first_touch_buckets || []);
    }
  }
  function merge(a, b) {
    a.funnel.forEach(function (s, i) {
      var t = b.funnel[i];
      s.count = s.count === null || t.count === null ? null : s.count + t.count;
    });
    a.funnel.forEach(function (s, i) {
      var prev = i ? a.funnel[i - 1].count : null;
      s.conversion = i && s.count !== null && prev ? s.count / prev : null;
    });
    addRow(a.exits, b.exits);
    var o = a.outcomes, p = b.outcomes;
    o.totals = o.totals && p.totals ? addRow(o.totals, p.totals) : (o.totals || p.totals);
    LISTS.forEach(function (l) { o[l[0]] = addList(o[l[0]], p[l[0]], l[1]); });
    o.sla_by_team = addList(o.sla_by_team, p.sla_by_team, "team");
    o.sla_by_owner = addList(o.sla_by_owner, p.sla_by_owner, "owner");
    if (o.totals) fixMedians(o.totals.sla);
    o.sla_by_team.forEach(fixMedians);
    o.sla_by_owner.forEach(fixMedians);
    a.waiting = a.waiting.concat(b.waiting);
    a.waiting_total += b.waiting_total;
    a.breaches = a.breaches.concat(b.breaches);
    a.instances.push(b.instance);
    return a;
  }
  function nextDue(c) {
    var next = Infinity;
    c.clocks.forEach(function (k) {
      if (k.state === "met") return;
      var at = Date.parse(k.next_due_at || k.due_at);
      if (at < next) next = at;
    });
    return next;
  }

  /* ---- rendering: the same markup the server renders for the first view ---- */

  function renderFunnel(d) {
    var top = 1, h = "<section id=\"funnel\"><h2>Funnel</h2>";
    d.funnel.forEach(function (s) { if (s.count > top) top = s.count; });
    h += "<svg class=\"chart\" viewBox=\"0 0 600 " + d.funnel.length * 26 +
      "\" role=\"img\" aria-label=\"funnel\">";
    d.funnel.forEach(function (s, i) {
      var w = 420 * (s.count || 0) / top;
      h += "<text x=\"0\" y=\"" + (i * 26 + 14) + "\" class=\"lbl\">" + esc(FUNNEL_LABELS[s.stage] || s.stage) +
        "</text><rect x=\"150\" y=\"" + (i * 26 + 1) + "\" width=\"" + w.toFixed(1) +
        "\" height=\"18\" class=\"bar\"/><text x=\"" + (156 + w).toFixed(1) + "\" y=\"" + (i * 26 + 14) +
        "\" class=\"val\">" + (s.count === null ? "&ndash;" : s.count) + "</text>";
    });
    h += "</svg><table><thead><tr><th>stage</th><th>count</th><th>from the stage before</th></tr>" +
      "</thead><tbody>";
    d.funnel.forEach(function (s) {
      h += "<tr><td>" + esc(FUNNEL_LABELS[s.stage] || s.stage) + "</td>" +
        (s.count === null ? "<td class=\"n\" title=\"counted for every team together\">&ndash;</td>"
          : num("funnel." + s.stage, s.count)) +
        "<td class=\"n\">" + (s.conversion === null ? "&ndash;" : (100 * s.conversion).toFixed(1) + "%") +
        "</td></tr>";
    });
    h += "</tbody></table><table class=\"exits\"><thead><tr><th>exit</th><th>count</th></tr></thead><tbody>";
    ["rejected", "recycled", "disqualified", "lost"].forEach(function (k) {
      h += "<tr><td>" + k + "</td>" + num("exits." + k, d.exits[k] || 0) + "</tr>";
    });
    return h + "</tbody></table></section>";
  }
  function renderClock(k, now) {
    var due = Date.parse(k.due_at), h = "<span class=\"clock " + esc(k.state) + "\">" + esc(k.sla) + ": ";
    if (k.state === "met") h += "met";
    else if (due >= now) h += duration(due - now);
    else h += "breached " + duration(now - due) + " ago";
    return h + "</span> ";
  }
  function renderWaiting(d, now) {
    var cases = d.waiting.slice().sort(function (a, b) { return nextDue(a) - nextDue(b); })
      .slice(0, CASES_MAX);
    var h = "<section id=\"waiting\"><h2>Waiting for sales <small data-key=\"waiting_total\">" +
      d.waiting_total + "</small></h2>";
    if (!cases.length) return h + "<p class=\"empty\">No handoff is waiting.</p></section>";
    h += "<table><thead><tr><th>who</th><th>rule</th><th>why</th><th>interests</th>" +
      "<th>team / owner</th><th>time left</th></tr></thead><tbody>";
    cases.forEach(function (c) {
      h += "<tr><td>" + esc(c.id) + (c.account ? "<br><small>" + esc(c.account) + "</small>" : "") +
        "</td><td>" + esc(c.rule) + "</td><td>" + esc(c.reason) + "</td><td>" +
        c.interests.map(esc).join(", ") + "</td><td>" + esc(c.team || "(no team)") + " / " +
        esc(c.owner || "(unassigned)") + "</td><td>" +
        c.clocks.map(function (k) { return renderClock(k, now); }).join("") + "</td></tr>";
    });
    return h + "</tbody></table></section>";
  }
  function compliance(r) {
    var met = 0, all = 0;
    ["accept", "first_touch", "follow_up"].forEach(function (k) {
      if (!r[k]) return;
      met += r[k].met;
      all += r[k].met + r[k].breached;
    });
    return all ? met / all : -1;
  }
  function medianCell(s) {
    return "<td class=\"n\">" + (s === null || s === undefined ? "&ndash;" : duration(s * 1000)) + "</td>";
  }
  function renderBoard(rows, dim, title) {
    var h = "<section id=\"sla-" + dim + "\"><h2>" + title + "</h2>";
    if (!rows.length) return h + "<p class=\"empty\">No SLA clock finished yet.</p></section>";
    rows = rows.slice().sort(function (a, b) {
      var x = compliance(a), y = compliance(b);
      return x !== y ? y - x : (a[dim] < b[dim] ? -1 : a[dim] > b[dim] ? 1 : 0);
    });
    h += "<table><thead><tr><th>" + dim + "</th><th>accept met</th><th>accept breached</th>" +
      "<th>first touch met</th><th>first touch breached</th><th>compliance</th>" +
      "<th>median to accept</th><th>median to first touch</th></tr></thead><tbody>";
    rows.forEach(function (r) {
      var key = "sla_by_" + dim + "." + r[dim] + ".", c = compliance(r);
      h += "<tr><td>" + esc(r[dim]) + "</td>" + num(key + "accept.met", r.accept.met) +
        num(key + "accept.breached", r.accept.breached) + num(key + "first_touch.met", r.first_touch.met) +
        num(key + "first_touch.breached", r.first_touch.breached) +
        "<td class=\"n\">" + (c < 0 ? "&ndash;" : (100 * c).toFixed(1) + "%") + "</td>" +
        medianCell(r.median_accept_seconds) + medianCell(r.median_first_touch_seconds) + "</tr>";
    });
    return h + "</tbody></table></section>";
  }
  function renderOutcomes(o) {
    var h = "<section id=\"outcomes\"><h2>Outcomes</h2>";
    LISTS.forEach(function (l) {
      var dim = l[0].replace(/^by_/, "");
      h += "<h3>" + l[2] + "</h3><table id=\"" + l[0] + "\"><thead><tr><th>" + dim +
        "</th><th>handoffs</th><th>accepted</th><th>acceptance</th><th>rejected</th><th>won</th>" +
        "<th>win rate</th><th>rejected because</th></tr></thead><tbody>";
      (o[l[0]] || []).forEach(function (r) {
        var key = l[0] + "." + r[l[1]] + ".";
        h += "<tr><td>" + esc(r[l[1]]) + "</td>" + num(key + "handoffs", r.handoffs) +
          num(key + "accepted", r.accepted) + pct(r.accepted, r.handoffs) +
          num(key + "rejected", r.rejected) + num(key + "won", r.won) + pct(r.won, r.handoffs) +
          "<td>" + Object.keys(r.rejected_because || {}).map(function (k) {
            return esc(k) + " " + r.rejected_because[k];
          }).join(", ") + "</td></tr>";
      });
      h += "</tbody></table>";
    });
    return h + "</section>";
  }
  function renderBreaches(d) {
    var list = d.breaches.slice().sort(function (a, b) { return Date.parse(b.due_at) - Date.parse(a.due_at); })
      .slice(0, BREACHES_MAX);
    var h = "<section id=\"breaches\"><h2>Recent breaches</h2>";
    if (!list.length) return h + "<p class=\"empty\">No open case is in breach.</p></section>";
    h += "<table><thead><tr><th>due</th><th>who</th><th>clock</th><th>level</th>" +
      "<th>team / owner</th><th>rule</th></tr></thead><tbody>";
    list.forEach(function (b) {
      h += "<tr><td>" + esc(b.due_at) + "</td><td>" + esc(b.id) + "</td><td>" + esc(b.sla) +
        "</td><td class=\"n\">" + b.level + "</td><td>" + esc(b.team || "(no team)") + " / " +
        esc(b.owner || "(unassigned)") + "</td><td>" + esc(b.rule) + "</td></tr>";
    });
    return h + "</tbody></table></section>";
  }
  function render(d, missing) {
    var now = Date.parse(d.now);
    var h = "<p class=\"meta\">instance" + (d.instances.length > 1 ? "s " : " ") +
      d.instances.map(esc).join(", ") + " &middot; days counted " + esc(d.days.first || "none") +
      " &ndash; " + esc(d.days.last || "none") + " &middot; as of <span id=\"as-of\">" + esc(d.as_of) +
      "</span>" + (missing.length ? " &middot; <strong id=\"missing\">not reached: " + missing.map(esc).join(", ") +
      "</strong>" : "") + "</p>";
    h += renderFunnel(d) + renderWaiting(d, now) +
      renderBoard(d.outcomes.sla_by_team, "team", "SLA by team") +
      renderBoard(d.outcomes.sla_by_owner, "owner", "SLA by owner") +
      renderOutcomes(d.outcomes) + renderBreaches(d);
    view.innerHTML = h;
    document.body.setAttribute("data-refreshed", d.as_of);
  }

  /* ---- fetching ---- */

  function query() {
    var q = [];
    ["team", "from", "to"].forEach(function (k) {
      var v = form.elements[k].value;
      if (v) q.push(k + "=" + encodeURIComponent(v));
    });
    return q.join("&");
  }
  function get(base) {
    var headers = token ? {"Authorization": "Bearer " + token} : {};
    return fetch(base + "/v1/dashboard?" + query(), {headers: headers, cache: "no-store"})
      .then(function (r) {
        if (r.status === 401) throw new Error("token");
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }
  function askToken() {
    notice.hidden = false;
    notice.innerHTML = "This server needs its bearer token (http.token_file). " +
      "<label>token <input id=\"token\" type=\"password\" autocomplete=\"off\"></label> " +
      "<button id=\"token-ok\" type=\"button\">use</button> (kept in this tab only)";
    document.getElementById("token-ok").onclick = function () {
      token = document.getElementById("token").value.trim();
      sessionStorage.setItem("handoffd-token", token);
      notice.hidden = true;
      refresh();
    };
  }
  function refresh() {
    get("").then(function (mine) {
      mine.instances = [mine.instance || location.host];
      var missing = [];
      return Promise.all((mine.peers || []).map(function (p) {
        return get("http://" + p).catch(function () { missing.push(p); return null; });
      })).then(function (others) {
        others.forEach(function (o) { if (o) merge(mine, o); });
        render(mine, missing);
      });
    }).catch(function (e) {
      if (e.message === "token") askToken();
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    history.replaceState(null, "", "/?" + query());
    refresh();
  });
  document.getElementById("refresh").textContent = "Refreshed every 5 s.";
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
