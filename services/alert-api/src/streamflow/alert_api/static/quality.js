// The console's quality dashboard (issue #21 item 5, ADR 0102): detection quality per rule and
// day (the warehouse's mart), time to verdict (the API's tables) and the scorer's live rate and
// latency (Prometheus), drawn with the vendored uPlot. Loaded from this origin (CSP 'self');
// every server value reaches the page through textContent or as a number given to uPlot.
"use strict";
(() => {
  const { $, apiKey, text, row, pct } = StreamflowDom;  // dom.js
  const COLORS = ["#1d2330", "#3b6ee8", "#b00020", "#2e7d32", "#b26b00", "#7b1fa2", "#00838f", "#6d4c41"];
  const TOP_RULES = 6;  // ALL plus the rules with the most alerts; the table lists every rule
  const charts = {};    // panel id -> uPlot instance, destroyed before a redraw
  let timer = null;

  async function api(path) {
    const response = await fetch(path, { headers: { "X-API-Key": apiKey() } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || body.title || ("HTTP " + response.status));
    return body;
  }

  function num(v, digits) { return v === null || v === undefined ? "—" : Number(v).toFixed(digits); }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 120) return seconds.toFixed(0) + " s";
    if (seconds < 7200) return (seconds / 60).toFixed(1) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }
  function dayTime(day) { return Date.parse(day + "T00:00:00Z") / 1000; }

  function draw(panel, opts, data) {
    if (charts[panel]) charts[panel].destroy();
    const target = $(panel);
    target.replaceChildren();
    const width = Math.max(320, Math.floor(target.clientWidth || 600));
    charts[panel] = new uPlot(Object.assign({ width, height: 220, legend: { live: false } }, opts), data, target);
  }

  // --- detection quality per rule and day -------------------------------------------------------
  async function loadRules(days) {
    const q = await api("/v1/quality/rules?" + new URLSearchParams({ days: String(days) }));
    $("q-rules-status").textContent = q.available
      ? `from ${q.source}, ${q.since} to ${q.until}` + (q.detail ? ` · ${q.detail}` : "") + (q.truncated ? " · truncated" : "")
      : `not available: ${q.detail}`;
    const x = q.days.map(dayTime);
    const shown = q.rules.slice(0, TOP_RULES);
    draw("q-volume-chart", {
      title: "Alerts per day",
      series: [{}].concat(shown.map((r, i) => ({ label: r.rule_id, stroke: COLORS[i % COLORS.length], width: r.rule_id === "ALL" ? 2.5 : 1.5, points: { show: true } }))),
      axes: [{}, { label: "alerts" }],
      scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    }, [x].concat(shown.map((r) => r.daily.alerts)));
    const all = q.rules.find((r) => r.rule_id === "ALL");
    draw("q-precision-chart", {
      title: "Precision and recall per day (all alerts)",
      series: [{},
        { label: "precision", stroke: COLORS[1], width: 2, points: { show: true } },
        { label: "recall", stroke: COLORS[2], width: 2, points: { show: true } }],
      axes: [{}, { label: "share", values: (u, ticks) => ticks.map((t) => (t * 100).toFixed(0) + "%") }],
      scales: { y: { range: [0, 1] } },
    }, [x, all ? all.daily.precision : x.map(() => null), all ? all.daily.recall : x.map(() => null)]);
    $("q-rules-rows").replaceChildren(...q.rules.map((r) => {
      const tr = row([r.rule_id, String(r.alerts), String(r.confirmed_fraud), String(r.false_positives),
        String(r.unlabelled), pct(r.precision), pct(r.recall)]);
      tr.dataset.ruleId = r.rule_id;
      return tr;
    }));
    if (!q.rules.length) $("q-rules-rows").append(row(["no alerts in the mart for this period", "", "", "", "", "", ""]));
  }

  // --- time to verdict --------------------------------------------------------------------------
  async function loadVerdicts(days) {
    const v = await api("/v1/quality/verdict-time?" + new URLSearchParams({ days: String(days) }));
    const o = v.overall;
    $("q-verdict-summary").textContent =
      `${o.judged} of ${o.alerts} alerts judged · median ${duration(o.p50_seconds)} · p90 ${duration(o.p90_seconds)}` +
      ` · ${o.pending} waiting, oldest ${duration(o.oldest_pending_seconds)}`;
    const minutes = (values) => values.map((s) => (s === null ? null : s / 60));
    draw("q-verdict-chart", {
      title: "Time to first verdict (alerts by day detected)",
      series: [{},
        { label: "median (min)", stroke: COLORS[1], width: 2, scale: "min", points: { show: true } },
        { label: "p90 (min)", stroke: COLORS[4], width: 2, scale: "min", points: { show: true } },
        { label: "pending alerts", stroke: COLORS[2], width: 1, dash: [4, 4], scale: "n", points: { show: true } }],
      axes: [{}, { scale: "min", label: "minutes" }, { scale: "n", side: 1, label: "alerts", grid: { show: false } }],
      scales: { min: { range: (u, min, max) => [0, Math.max(1, max)] }, n: { range: (u, min, max) => [0, Math.max(1, max)] } },
    }, [v.days.map((d) => dayTime(d.day)), minutes(v.days.map((d) => d.p50_seconds)),
      minutes(v.days.map((d) => d.p90_seconds)), v.days.map((d) => d.pending)]);
  }

  // --- the scorer, live -------------------------------------------------------------------------
  // A scorer (or Prometheus) that started minutes ago has samples only at the end of the window:
  // draw from its first sample so they are not squeezed against the right edge.
  function fromFirstSample([t, ...ys]) {
    const first = t.findIndex((_, i) => ys.some((y) => y[i] !== null));
    const from = first < 0 ? 0 : Math.min(first, Math.max(0, t.length - 2));
    return [t.slice(from), ...ys.map((y) => y.slice(from))];
  }

  async function loadScorer() {
    const s = await api("/v1/quality/scorer?minutes=15");
    $("q-scorer-summary").textContent = s.available
      ? `${num(s.rate_per_second, 1)} transactions/s · latency ${num(s.latency_seconds, 3)} s` + (s.detail ? ` · ${s.detail}` : "")
      : `Prometheus not available: ${s.detail}`;
    $("q-scorer-summary").dataset.available = String(s.available);
    draw("q-scorer-chart", {
      title: `Scorer, up to the last ${s.minutes} minutes (Prometheus)`,
      series: [{},
        { label: "transactions/s", stroke: COLORS[1], width: 2, scale: "rate", points: { show: true, size: 4 } },
        { label: "latency (s)", stroke: COLORS[2], width: 2, scale: "s", points: { show: true, size: 4 } }],
      axes: [{}, { scale: "rate", label: "per second" }, { scale: "s", side: 1, label: "seconds", grid: { show: false } }],
      // Different headroom, so that a steady rate and a steady latency do not draw one line.
      scales: { rate: { range: (u, min, max) => [0, Math.max(1, max * 1.25)] }, s: { range: (u, min, max) => [0, Math.max(0.1, max * 2)] } },
    }, fromFirstSample([s.series.t, s.series.rate_per_second, s.series.latency_seconds]));
  }

  async function refresh() {
    const days = Number($("q-days").value);
    const jobs = [loadRules(days), loadVerdicts(days), loadScorer()];
    const failed = (await Promise.allSettled(jobs)).filter((r) => r.status === "rejected");
    $("q-error").textContent = failed.map((r) => String(r.reason.message || r.reason)).join("; ");
    $("q-updated").textContent = "updated " + new Date().toLocaleTimeString();
  }

  function setView(on) {
    $("quality").hidden = !on;
    $("show-quality").setAttribute("aria-pressed", String(on));
    const query = new URLSearchParams(location.search);
    if (on) query.set("view", "quality"); else query.delete("view");
    const search = query.toString();
    history.replaceState(null, "", location.pathname + (search ? "?" + search : ""));
    clearInterval(timer);
    timer = null;
    if (on) {
      refresh();
      // The scorer's numbers are live: refresh them while the dashboard is shown.
      timer = setInterval(() => { if (document.visibilityState === "visible") loadScorer().catch(() => {}); }, 15000);
    }
  }

  $("show-quality").addEventListener("click", () => setView($("quality").hidden));
  $("q-refresh").addEventListener("click", refresh);
  $("q-days").addEventListener("change", refresh);
  $("save-key").addEventListener("click", () => { if (!$("quality").hidden) refresh(); });
  if (new URLSearchParams(location.search).get("view") === "quality") setView(true);
})();
