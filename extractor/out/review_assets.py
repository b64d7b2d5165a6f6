"""The review page's style sheet and script (inlined in the page: it loads nothing)."""

# ruff: noqa: E501 - JavaScript in a string: its lines are not Python's

from __future__ import annotations

from typing import Final

CSS: Final = """
body{font:14px/1.4 system-ui,"Noto Sans CJK SC",sans-serif;margin:0;color:#222}
header{display:flex;gap:1em;align-items:baseline;padding:.4em 1em;background:#234;color:#fff}
header h1{font-size:1.1em;margin:0}
#filters{padding:.4em 1em;background:#eef;display:flex;gap:1.2em;flex-wrap:wrap}
main{display:flex;height:calc(100vh - 5.5em)}
nav{width:26%;overflow:auto;border-right:1px solid #ccc}
#list{border-collapse:collapse;width:100%;font-size:12px}
#list td,#list th{padding:2px 4px;border-bottom:1px solid #eee;text-align:left}
#list tr.sel{background:#ffd}
#list tbody tr{cursor:pointer}
article{flex:1;overflow:auto;padding:.5em 1em}
.badge{padding:1px 6px;border-radius:3px;color:#fff;background:#777}
.b-verified{background:#2a7}.b-reviewed{background:#27a}.b-needs_review{background:#c80}
.b-source_inconsistent{background:#a4a}.b-error{background:#c33}
.cols{display:flex;gap:1em;align-items:flex-start}
#src{flex:1;max-height:75vh;overflow:auto;white-space:pre-wrap;background:#fafafa;border:1px solid #ddd;
padding:.5em;font-size:12px;position:sticky;top:0}
#src mark{background:#ff0;outline:2px solid #e90}
.tables{flex:1.3}
.tables table{border-collapse:collapse;margin-bottom:1em;font-size:12px}
.tables td,.tables th{border:1px solid #ccc;padding:1px 4px}
.tables td.v{text-align:right;min-width:3em}
td.unread{background:#eee;color:#888;font-style:italic}
td.fail{background:#fdd;outline:2px solid #c33}
td.marker{color:#555}
td.ev{cursor:crosshair}
td.lit{background:#ff0}
td input{width:5em;text-align:right;border:1px solid #bbb;font:inherit}
td.human{box-shadow:inset 0 0 0 2px #27a}
.findings li.error{color:#b00}.findings li.warning{color:#a60}.findings li.info{color:#555}
.note{color:#666}
#msg.bad{color:#b00}#msg.good{color:#070}
form.review{margin:1em 0;padding:.5em;border:1px solid #27a;background:#f4f8ff}
"""

JS: Final = r"""
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const L = D.layout;
let items = D.records;
let current = null;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));

async function api(path, opts) {
  const r = await fetch(path, Object.assign({credentials: "same-origin"}, opts || {}));
  return r;
}

function fillFilter(id, values) {
  const sel = $(id);
  const keep = sel.value;
  sel.innerHTML = '<option value="">all</option>' +
    [...new Set(values)].filter((v) => v !== null && v !== undefined && v !== "")
      .sort().map((v) => `<option>${esc(v)}</option>`).join("");
  sel.value = keep;
}

function fillFilters() {
  fillFilter("f-status", items.map((r) => r.status));
  fillFilter("f-agency", items.map((r) => r.agency));
  fillFilter("f-year", items.map((r) => r.year === null ? "" : String(r.year)));
  fillFilter("f-check", items.flatMap((r) => r.checks));
}

function shown() {
  const st = $("f-status").value, ag = $("f-agency").value, yr = $("f-year").value, ck = $("f-check").value;
  return items.filter((r) => (!st || r.status === st) && (!ag || r.agency === ag) &&
    (!yr || String(r.year) === yr) && (!ck || r.checks.includes(ck)));
}

function renderList() {
  const rows = shown();
  $("count").textContent = `${rows.length} of ${items.length} records`;
  $("list").tBodies[0].innerHTML = rows.map((r) =>
    `<tr data-id="${esc(r.id)}" class="${current === r.id ? "sel" : ""}"><td><span class="badge b-${esc(r.status)}">` +
    `${esc(r.status)}</span></td><td>${esc(r.agency || "?")}</td><td>${esc(r.year || "?")}</td>` +
    `<td>${esc(r.path)}</td><td>${esc(r.checks.join(" "))}</td></tr>`).join("");
}

async function openRecord(id) {
  current = id;
  renderList();
  let rec, src = null;
  if (D.served) {
    const r = await api(`/v1/records/${encodeURIComponent(id)}`);
    if (!r.ok) { $("detail").innerHTML = `<p class="bad">record ${esc(id)}: ${r.status}</p>`; return; }
    rec = await r.json();
    const s = await api(`/v1/records/${encodeURIComponent(id)}/source`);
    src = s.ok ? await s.text() : null;
  } else {
    const it = items.find((r) => r.id === id);
    if (!it) return;
    rec = it.record; src = it.source;
  }
  renderRecord(id, rec, src);
}

function failingCells(rec) {
  const cells = new Set(), rows = new Set(), tables = new Set();
  for (const f of rec.findings || []) {
    if (f.severity !== "error" || !f.table) continue;
    if (f.row && f.column) cells.add(`${f.table}|${f.row}|${f.column}`);
    else if (f.row) rows.add(`${f.table}|${f.row}`);
    else tables.add(f.table);
  }
  return (t, r, c) => cells.has(`${t}|${r}|${c}`) || rows.has(`${t}|${r}`);
}

function humanCells(rec) {
  const s = new Set();
  for (const rv of ((rec.meta || {}).reviews || [])) for (const c of rv.cells) s.add(`${c.table}|${c.row}|${c.column}`);
  return s;
}

function cellHtml(rec, t, r, c, fails, human) {
  const row = ((rec.tables || {})[t] || {})[r] || {};
  const has = Object.prototype.hasOwnProperty.call(row, c);
  const v = has ? row[c] : null;
  const ev = ((((rec.evidence || {})[t] || {})[r] || {})[c]) || null;
  const how = ((((rec.evidence_method || {})[t] || {})[r] || {})[c]) || "";
  const cls = ["v"];
  if (v === null) cls.push("unread");
  else if (typeof v === "string") cls.push("marker");
  if (fails(t, r, c)) cls.push("fail");
  if (ev) cls.push("ev");
  if (human.has(`${t}|${r}|${c}`)) cls.push("human");
  const title = [`${t}.${r}.${c}`, ev ? `source ${ev[0]}–${ev[1]}${how ? " (" + how + ")" : ""}` : "no evidence"];
  if (v === null) title.push("unread: the machine could not read this cell");
  const attrs = `class="${cls.join(" ")}" data-t="${esc(t)}" data-r="${esc(r)}" data-c="${esc(c)}"` +
    (ev ? ` data-s="${ev[0]}" data-e="${ev[1]}"` : "") + ` title="${esc(title.join("; "))}"`;
  const shownValue = v === null ? "" : String(v);
  if (D.served && !["error", "unsupported_template"].includes(rec.status)) {
    return `<td ${attrs}><input data-orig="${esc(shownValue)}" value="${esc(shownValue)}"` +
      ` placeholder="unread"></td>`;
  }
  return `<td ${attrs}>${v === null ? "unread" : esc(v)}</td>`;
}

// Table 三 as its reader chose its rows (the 2021 sub-rows, （六） as one row, or both): the rows
// the record holds, in order; the template's rows when it holds none.
function appRows(rec, tpl) {
  const held = Object.keys(rec.tables.applications || {});
  const known = new Map([...L.templates["2019"].applications, ...L.templates["2021"].applications]
    .map((r) => [r[0], r]));
  const rows = held.filter((k) => known.has(k)).map((k) => known.get(k));
  return rows.length ? rows : tpl.applications;
}

function tablesHtml(rec) {
  const tpl = L.templates[rec.template];
  if (!tpl) return '<p class="note">No tables of a known template.</p>';
  const fails = failingCells(rec), human = humanCells(rec);
  let out = "";
  for (const t of ["active_disclosure", "applications", "review_litigation"]) {
    const rows = t === "applications" ? appRows(rec, tpl) : tpl[t];
    const cols = [...new Set(rows.flatMap((x) => x[2]))];
    out += `<h3>${esc(L.tables[t])}</h3><table data-table="${t}"><tr><th></th>` +
      cols.map((c) => `<th>${esc(L.columns[c] || c)}</th>`).join("") + "</tr>";
    for (const [key, label, rcols] of rows) {
      out += `<tr><th>${esc(label)}</th>` + cols.map((c) => rcols.includes(c) ? cellHtml(rec, t, key, c, fails, human)
        : "<td></td>").join("") + "</tr>";
    }
    out += "</table>";
  }
  return out;
}

function findingsHtml(rec) {
  const fs = rec.findings || [];
  if (!fs.length) return '<p class="note">No findings.</p>';
  return '<ul class="findings">' + fs.map((f) => {
    const where = [f.table, f.row, f.column].filter(Boolean).join(" / ");
    const plain = L.checks[f.check] || L.checks[f.check.split(".")[0]] || "";
    return `<li class="${esc(f.severity)}"><b>${esc(f.check)}</b> ${esc(f.severity)}` +
      `${where ? " — " + esc(where) : ""}: ${esc(plain)} <span class="note">${esc(f.message)}</span></li>`;
  }).join("") + "</ul>";
}

function renderRecord(id, rec, src) {
  const hasEvidence = rec.evidence && Object.keys(rec.evidence).length > 0;
  const form = D.served && !["error", "unsupported_template"].includes(rec.status) ?
    `<form class="review" id="review-form"><b>Review</b> — correct the cells above (empty = unread), then
     <label>reviewer <input id="reviewer" required></label> <label>reason <input id="reason" size="40" required>
     </label> <button type="submit" id="submit">Submit review</button> <span id="msg"></span></form>` : "";
  $("detail").innerHTML =
    `<h2>${esc(rec.agency || "?")} ${esc(rec.year || "")} <span class="badge b-${esc(rec.status)}" id="status">` +
    `${esc(rec.status)}</span></h2><p class="note">${esc(rec.path)} · template ${esc(rec.template || "?")}` +
    ` · ${esc(rec.method || "")}${hasEvidence ? "" : " · <b>no evidence</b> (this record carries no evidence spans)"}` +
    `</p>${rec.error ? `<p class="bad">${esc(rec.error)}</p>` : ""}<h3>Findings</h3>${findingsHtml(rec)}${form}` +
    `<div class="cols"><pre id="src"></pre><div class="tables">${tablesHtml(rec)}</div></div>`;
  const pre = $("src");
  if (src === null || src === undefined) pre.textContent = "(source text not available)";
  else { pre.appendChild(document.createTextNode(src)); }
  for (const td of document.querySelectorAll("td.ev")) {
    td.addEventListener("mouseenter", () => light(src, +td.dataset.s, +td.dataset.e, td));
    td.addEventListener("mouseleave", () => light(src, -1, -1, td));
  }
  if (form) $("review-form").addEventListener("submit", (e) => { e.preventDefault(); submit(id, rec, src); });
}

function light(src, s, e, td) {
  const pre = $("src");
  if (src === null || src === undefined) return;
  pre.textContent = "";
  td.classList.toggle("lit", s >= 0);
  if (s < 0) { pre.appendChild(document.createTextNode(src)); return; }
  const mark = document.createElement("mark");
  mark.id = "hl";
  mark.textContent = src.slice(s, e);
  pre.append(document.createTextNode(src.slice(0, s)), mark, document.createTextNode(src.slice(e)));
  pre.scrollTop = mark.offsetTop - pre.clientHeight / 2;  // scroll the source only: the cell stays put
}

function parseValue(text) {
  const t = text.trim();
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

async function submit(id, rec, src) {
  const cells = [];
  for (const td of document.querySelectorAll(".tables td[data-t]")) {
    const inp = td.querySelector("input");
    const val = inp.value.trim();
    const changed = val !== inp.dataset.orig;
    const settle = td.classList.contains("fail") || td.classList.contains("unread");
    if (val !== "" && (changed || settle)) {
      cells.push({table: td.dataset.t, row: td.dataset.r, column: td.dataset.c, value: parseValue(val)});
    }
  }
  const msg = $("msg");
  if (!cells.length) { msg.className = "bad"; msg.textContent = "nothing to review: no cell changed"; return; }
  const body = {reviewer: $("reviewer").value, reason: $("reason").value, cells};
  const r = await api(`/v1/records/${encodeURIComponent(id)}/review`,
    {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const data = await r.json();
  if (!r.ok) {
    msg.className = "bad";
    const why = (data.findings || []).map((f) => `${f.check}: ${f.message}`).join("; ");
    msg.textContent = `refused: ${typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)}` +
      (why ? ` — ${why}` : "");
    return;
  }
  const it = items.find((x) => x.id === id);
  if (it) { it.status = data.status; it.checks = []; }
  renderRecord(id, data, src);
  fillFilters();
  renderList();
  $("msg").className = "good";
  $("msg").textContent = `accepted: status is now ${data.status}`;
}

async function init() {
  if (D.served) {
    const r = await api("/v1/records?limit=10000");
    items = r.ok ? await r.json() : [];
  }
  fillFilters();
  renderList();
  for (const id of ["f-status", "f-agency", "f-year", "f-check"]) $(id).addEventListener("change", renderList);
  $("list").addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-id]");
    if (tr) { location.hash = tr.dataset.id; openRecord(tr.dataset.id); }
  });
  if (location.hash.length > 1) openRecord(decodeURIComponent(location.hash.slice(1)));
}
init();
"""
