// The console's rule what-if (issue #21 item 6, ADR 0104): edit the rule set in force (thresholds,
// weights, enabled flags, blacklists), compare it with the rules in force on stored transactions
// (a background run with progress), then publish it to fraud.rules. Loaded from this origin (CSP
// 'self'); every server value reaches the page through textContent or an input's value.
"use strict";
(() => {
  const { $, apiKey, text, row, pct } = StreamflowDom;  // dom.js
  const PARTS = [
    ["high_value", "FR-001 high value"], ["velocity", "FR-002 velocity"],
    ["impossible_travel", "FR-003 impossible travel"], ["time_of_day", "FR-004 time of day"],
    ["blacklist", "FR-005 blacklist"], ["ml", "anomaly model"], ["merchant_risk", "merchant risk"],
  ];
  let inForce = null;   // the rule set in force (GET /v1/rules)
  let lastRun = null;   // the latest finished what-if
  let poller = null;

  async function api(path, options) {
    const headers = { "X-API-Key": apiKey() };
    if (options && options.body) headers["Content-Type"] = "application/json";
    const response = await fetch(path, Object.assign({ headers }, options || {}));
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.detail || body.title || ("HTTP " + response.status));
      error.fields = body.errors || [];
      throw error;
    }
    return { body, location: response.headers.get("Location") };
  }

  function showErrors(error) {
    const items = (error.fields && error.fields.length)
      ? error.fields.map((f) => text("li", `${f.field}: ${f.message}`))
      : [text("li", String(error.message || error))];
    $("rw-errors").replaceChildren(...items);
  }

  // --- the form: one fieldset per rule, built from the rule set in force ------------------------
  function input(id, value) {
    if (typeof value === "boolean") {
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = value;
      box.id = id;
      return box;
    }
    if (Array.isArray(value)) {
      const area = document.createElement("textarea");
      area.id = id;
      area.value = value.join("\n");
      area.placeholder = "one id per line";
      return area;
    }
    const field = document.createElement("input");
    field.type = "number";
    field.step = "any";
    field.className = "narrow";
    field.id = id;
    field.value = String(value);
    return field;
  }

  function fill(rules) {
    $("rw-alert_threshold").value = String(rules.alert_threshold);
    $("rw-version").value = String(rules.version + 1);
    $("rw-parts").replaceChildren(...PARTS.map(([part, title]) => {
      const set = document.createElement("fieldset");
      set.append(text("legend", title));
      for (const [name, value] of Object.entries(rules[part])) {
        if (name === "schema_version") continue;  // the contract's, not a setting
        const label = text("label", name.replace(/_/g, " "));
        label.append(input(`rw-${part}-${name}`, value));
        set.append(label);
      }
      return set;
    }));
  }

  function draft() {
    const rules = JSON.parse(JSON.stringify(inForce));
    delete rules.created_at;  // stamped by the API when it publishes
    rules.alert_threshold = Number($("rw-alert_threshold").value);
    rules.version = Number($("rw-version").value);
    for (const [part] of PARTS) {
      for (const [name, value] of Object.entries(rules[part])) {
        const el = $(`rw-${part}-${name}`);
        if (!el) continue;
        if (typeof value === "boolean") rules[part][name] = el.checked;
        else if (Array.isArray(value)) rules[part][name] = el.value.split(/[\s,]+/).filter(Boolean);
        else rules[part][name] = Number(el.value);
      }
    }
    return rules;
  }

  async function loadRules() {
    const { body } = await api("/v1/rules");
    inForce = body.rules;
    $("rw-source").textContent = `· version ${inForce.version} in force, from ${body.source} (${body.topic})`;
    fill(inForce);
  }

  // --- a run: start, poll its progress, show its result --------------------------------------
  function showRun(run) {
    const done = run.rows_done.toLocaleString();
    const total = run.rows_total === null ? "?" : run.rows_total.toLocaleString();
    $("rw-status").textContent = `What-if ${run.whatif_id}: ${run.status} · ${done} of ${total} transactions` +
      (run.error ? ` · ${run.error}` : "");
    $("rw-status").dataset.status = run.status;
    $("rw-progress").hidden = run.status === "done" || run.status === "failed";
    $("rw-progress").value = run.progress || 0;
    if (run.status === "done") showResult(run);
    $("rw-publish").disabled = run.status !== "done";
  }

  function showResult(run) {
    const r = run.result;
    lastRun = run;
    $("rw-status").textContent += ` · window ${r.window_start.slice(0, 16)} to ${r.window_end.slice(0, 16)} UTC` +
      ` · ${r.rows.toLocaleString()} counted, ${r.warmup_rows.toLocaleString()} warm-up` +
      ` · ${r.labels.fraud} confirmed fraud, ${r.labels.legit} legit, ${r.labels.unlabelled} unlabelled` +
      (r.capped ? " · capped to the newest rows" : "") +
      ` · ${r.rows_per_second === null ? "—" : Math.round(r.rows_per_second).toLocaleString()} rows/s`;
    $("rw-changes").replaceChildren(...(r.changes.length ? r.changes : ["(no setting changed)"]).map((c) => text("li", c)));
    const side = (name, s) => row([name, String(s.alerts), String(s.caught), pct(s.precision), pct(s.recall), s.alerts_per_1000.toFixed(2)], true);
    $("rw-summary").replaceChildren(side(`before (v${r.before.rules_version})`, r.before), side("after (candidate)", r.after));
    $("rw-delta").textContent = `${r.alerts_added} alerts added (${r.frauds_added} confirmed fraud), ` +
      `${r.alerts_removed} removed (${r.frauds_removed} confirmed fraud)`;
    $("rw-per-rule").replaceChildren(...r.per_rule.map((p) => {
      const tr = row([p.rule_id, String(p.before.fired), String(p.after.fired), pct(p.before.precision),
        pct(p.after.precision), pct(p.before.recall), pct(p.after.recall)], true);
      if (p.before.fired !== p.after.fired) tr.className = "changed";
      return tr;
    }));
    $("rw-examples").replaceChildren(...r.examples.map((e) => {
      const tr = row([e.change, e.transaction_id, e.customer_id, e.merchant_id, e.amount.toFixed(2),
        e.event_time.slice(0, 19), e.label, `${e.score_before.toFixed(3)} → ${e.score_after.toFixed(3)}`,
        e.rules_after.join(", ")]);
      tr.dataset.transactionId = e.transaction_id;
      return tr;
    }));
    if (!r.examples.length) $("rw-examples").append(row(["no alert changes", "", "", "", "", "", "", "", ""]));
  }

  async function poll(location) {
    clearTimeout(poller);
    try {
      const { body } = await api(location);
      showRun(body);
      if (body.status === "queued" || body.status === "running") poller = setTimeout(() => poll(location), 500);
    } catch (error) {
      showErrors(error);
    }
  }

  async function run(event) {
    event.preventDefault();
    $("rw-errors").replaceChildren();
    $("rw-published").textContent = "";
    $("rw-publish").disabled = true;
    try {
      if (!inForce) await loadRules();
      const query = new URLSearchParams({ days: $("rw-days").value, warmup_days: $("rw-warmup").value });
      const { body, location } = await api("/v1/rules/whatif?" + query, { method: "POST", body: JSON.stringify(draft()) });
      showRun(body);
      poll(location || `/v1/rules/whatif/${body.whatif_id}`);
    } catch (error) {
      showErrors(error);
    }
  }

  async function publish() {
    $("rw-errors").replaceChildren();
    try {
      const { body } = await api("/v1/rules/publish", { method: "POST", body: JSON.stringify(draft()) });
      $("rw-published").textContent = `Published rule set ${body.rule_set_id} version ${body.version} to ${body.topic}` +
        ` at ${body.published_at.slice(0, 19)} UTC: the scorer applies it to the next transactions.`;
      $("rw-published").dataset.version = String(body.version);
      $("rw-publish").disabled = true;
      await loadRules();
    } catch (error) {
      showErrors(error);
    }
  }

  function setView(on) {
    $("rules").hidden = !on;
    $("show-rules").setAttribute("aria-pressed", String(on));
    const query = new URLSearchParams(location.search);
    if (on) query.set("view", "rules"); else if (query.get("view") === "rules") query.delete("view");
    const search = query.toString();
    history.replaceState(null, "", location.pathname + (search ? "?" + search : ""));
    if (on) loadRules().catch(showErrors);
  }

  $("show-rules").addEventListener("click", () => setView($("rules").hidden));
  $("rw-form").addEventListener("submit", run);
  $("rw-reset").addEventListener("click", () => { if (inForce) fill(inForce); });
  $("rw-publish").addEventListener("click", publish);
  $("save-key").addEventListener("click", () => { if (!$("rules").hidden) loadRules().catch(showErrors); });
  if (new URLSearchParams(location.search).get("view") === "rules") setView(true);
})();
