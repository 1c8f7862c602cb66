// The console's shared DOM helpers, used by the page's inline script, quality.js and rules.js
// (each had its own copy). A classic script loaded first, before the inline one, from this origin
// (CSP 'self', ADR 0090): it defines one frozen global, StreamflowDom, and nothing else. Every
// server value reaches the page through textContent (text, row).
"use strict";
(() => {
  const KEY_STORE = "streamflow-api-key";  // sessionStorage entry holding the analyst's API key

  function $(id) { return document.getElementById(id); }

  function apiKey() { return sessionStorage.getItem(KEY_STORE) || ""; }

  // An element with the value as text (never parsed as HTML) and an optional class.
  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }

  // A table row of text cells; numeric: every cell but the first gets class "num".
  function row(cells, numeric) {
    const tr = document.createElement("tr");
    tr.append(...cells.map((c, i) => text("td", c, numeric && i > 0 ? "num" : "")));
    return tr;
  }

  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + " %"; }

  globalThis.StreamflowDom = Object.freeze({ KEY_STORE, $, apiKey, text, row, pct });
})();
