#include "metrics/dashboard_page.hpp"

namespace vigil {

std::string dashboard_page(const std::string& initial_status) {
  static const std::string page = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vigil</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#263040; --text:#d8dee9; --dim:#8592a6; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--text); font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
  header { display:flex; align-items:baseline; gap:16px; padding:14px 24px; border-bottom:1px solid var(--line); }
  header h1 { margin:0; font-size:18px; letter-spacing:.5px; }
  header .node { color:var(--dim); }
  #ready { margin-left:auto; padding:3px 10px; border-radius:12px; font-weight:600; font-size:12px; }
  #ready.ok { background:rgba(63,185,80,.15); color:var(--ok); }
  #ready.bad { background:rgba(248,81,73,.15); color:var(--bad); }
  #ready.lost { background:rgba(210,153,34,.15); color:var(--warn); }
  main { padding:18px 24px; display:grid; gap:18px; }
  .tiles { display:grid; grid-template-columns:repeat(auto-fit,minmax(170px,1fr)); gap:12px; }
  .tile { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
  .tile .label { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.6px; }
  .tile .value { font-size:26px; font-weight:600; margin-top:4px; font-variant-numeric:tabular-nums; }
  .tile .sub { color:var(--dim); font-size:12px; margin-top:2px; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
  .panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:14px; }
  .panel h2 { margin:0 0 10px; font-size:13px; color:var(--dim); text-transform:uppercase; letter-spacing:.6px; font-weight:600; }
  svg { width:100%; height:140px; display:block; }
  table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
  th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  td.num, th.num { text-align:right; }
  td.when { white-space:nowrap; color:var(--dim); }
  .sev-critical { color:var(--bad); font-weight:600; }
  .sev-warning { color:var(--warn); font-weight:600; }
  .sev-info { color:var(--accent); }
  .empty { color:var(--dim); padding:8px; }
  .cols { display:grid; grid-template-columns:2fr 1fr; gap:18px; }
  .flow { display:flex; flex-wrap:wrap; align-items:stretch; gap:6px; }
  .stage { flex:1 1 120px; min-width:120px; max-width:220px; background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:8px 10px; position:relative; }
  .stage .name { font-size:12px; color:var(--dim); white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
  .stage .rate { font-size:17px; font-weight:600; font-variant-numeric:tabular-nums; }
  .stage .bar { height:4px; background:var(--line); border-radius:2px; margin-top:6px; overflow:hidden; }
  .stage .bar i { display:block; height:100%; background:var(--ok); }
  .stage.hot .bar i { background:var(--warn); }
  .stage.full .bar i { background:var(--bad); }
  .stage .busy { font-size:11px; color:var(--dim); margin-top:3px; }
  .arrow { align-self:center; color:var(--dim); }
  .up { color:var(--ok); font-weight:600; }
  .minis { display:grid; grid-template-columns:repeat(auto-fill,minmax(200px,1fr)); gap:10px; margin-bottom:12px; }
  .mini { background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:8px 10px; }
  .mini .name { font-size:12px; color:var(--dim); }
  .mini .last { font-size:17px; font-weight:600; font-variant-numeric:tabular-nums; }
  .mini svg { height:36px; margin-top:4px; }
  select.rank { background:var(--panel); color:var(--text); border:1px solid var(--line); border-radius:4px; font:inherit; padding:1px 4px; }
  .tops { display:grid; grid-template-columns:repeat(auto-fill,minmax(320px,1fr)); gap:12px; }
  h3 { margin:4px 0 8px; font-size:13px; font-weight:600; }
  .down { color:var(--bad); font-weight:600; }
  @media (max-width:900px) { .cols { grid-template-columns:1fr; } }
</style></head>
<body>
<header><h1>vigil</h1><span class="node" id="node">connecting…</span><span id="ready" class="lost">connecting</span></header>
<main>
  <section class="tiles">
    <div class="tile"><div class="label" id="rate-label">Events / s</div><div class="value" id="rate">–</div><div class="sub" id="out">–</div></div>
    <div class="tile"><div class="label" id="events-label">Events</div><div class="value" id="events">–</div><div class="sub" id="uptime">–</div></div>
    <div class="tile"><div class="label">Lag</div><div class="value" id="lag">–</div><div class="sub" id="lag-bytes">–</div></div>
    <div class="tile"><div class="label">Quarantined / s</div><div class="value" id="quarantined">–</div><div class="sub">malformed or invalid</div></div>
    <div class="tile"><div class="label">Firing alerts</div><div class="value" id="firing">–</div><div class="sub" id="ready-sub">–</div></div>
    <div class="tile"><div class="label">Last checkpoint</div><div class="value" id="checkpoint">–</div><div class="sub" id="checkpoint-took">–</div></div>
  </section>
  <section class="panel" id="fleet-panel" hidden><h2>Fleet</h2><table><thead><tr><th>Peer</th><th>State</th><th class="num">Events / s</th><th class="num">MB / s</th><th class="num">Events</th><th class="num">Lag MB</th><th class="num">Behind</th><th class="num">Last batch</th></tr></thead><tbody id="fleet"></tbody></table></section>
  <section class="panel"><h2>Pipeline: items per second, and how busy each stage is</h2><div class="flow" id="stages"></div></section>
  <section class="panel"><h2 id="chart-label">Events per second, last 15 minutes</h2><svg id="chart" viewBox="0 0 900 140" preserveAspectRatio="none"></svg></section>
  <section class="panel" id="results-panel" hidden><h2>Closed windows: their metrics, and the top keys of the keyed ones</h2><div id="results"></div></section>
  <div class="cols">
    <section class="panel"><h2>Firing alerts</h2><table><thead><tr><th>Severity</th><th>Rule</th><th>Key</th><th>Why</th><th>Since (UTC)</th></tr></thead><tbody id="alerts"></tbody></table></section>
    <section class="panel" id="sources-panel"><h2>Sources</h2><table><thead><tr><th>Source</th><th class="num">Events</th><th class="num">MB</th><th class="num">Lag MB</th><th class="num">Malformed</th></tr></thead><tbody id="sources"></tbody></table></section>
  </div>
  <div class="cols">
    <section class="panel"><h2>Windows</h2><table><thead><tr><th>Window</th><th class="num">Open groups</th><th>Watermark (UTC)</th><th class="num">Late</th><th class="num">Groups over max</th></tr></thead><tbody id="windows"></tbody></table></section>
    <section class="panel"><h2>Sinks that deliver</h2><table><thead><tr><th>Sink</th><th class="num">Written</th><th class="num">/ s</th><th class="num">Refused</th><th class="num">Waiting</th><th class="num">Retries</th></tr></thead><tbody id="sinks"></tbody></table></section>
  </div>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const fmt = (n) => n >= 1e9 ? (n / 1e9).toFixed(2) + "G" : n >= 1e6 ? (n / 1e6).toFixed(2) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : String(Math.round(n));
const ago = (s) => s < 0 ? "none yet" : s < 90 ? s.toFixed(1) + " s ago" : (s / 60).toFixed(0) + " min ago";
const text = (tag, value, cls) => { const e = document.createElement(tag); e.textContent = value; if (cls) e.className = cls; return e; };
function row(cells) { const tr = document.createElement("tr"); for (const c of cells) tr.appendChild(c); return tr; }
// A table's one row when it has nothing to list, across its columns.
const none = (message, columns) => { const td = text("td", message, "empty"); td.colSpan = columns; return row([td]); };
function chart(series) {
  const svg = $("chart");
  const max = Math.max(1, ...series.map((p) => p[1]));
  const x = (i) => 900 - (series.length - 1 - i);
  const y = (v) => 135 - (v / max) * 125;
  let line = "", area = "";
  series.forEach((p, i) => { line += (i ? "L" : "M") + x(i) + "," + y(p[1]).toFixed(1); });
  if (series.length) area = line + "L" + x(series.length - 1) + ",135L" + x(0) + ",135Z";
  svg.innerHTML = '<path d="' + area + '" fill="rgba(88,166,255,.15)"/>' +
    '<path d="' + line + '" fill="none" stroke="#58a6ff" stroke-width="1.5"/>' +
    '<text x="4" y="14" fill="#8592a6" font-size="11">' + fmt(max) + "/s</text>";
}
// Stages in pipeline order; busy is handler seconds per second (per stage,
// summed over its workers): the one near 1 holds the others back.
function stages(list) {
  const flow = $("stages");
  flow.replaceChildren();
  if (!list.length) { flow.appendChild(text("div", "no stages counted", "empty")); return; }
  list.forEach((st, i) => {
    if (i) flow.appendChild(text("span", "›", "arrow"));
    const box = document.createElement("div");
    const busy = Math.min(st.busy, 1);
    box.className = "stage" + (busy > 0.9 ? " full" : busy > 0.6 ? " hot" : "");
    box.appendChild(text("div", st.name, "name"));
    box.appendChild(text("div", fmt(st.in_per_s) + "/s", "rate"));
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("i");
    fill.style.width = (busy * 100).toFixed(0) + "%";
    bar.appendChild(fill);
    box.appendChild(bar);
    box.appendChild(text("div", (st.busy * 100).toFixed(0) + "% busy" + (st.mailbox ? " · " + st.mailbox + " queued" : ""), "busy"));
    box.title = st.name + ": in " + fmt(st.in_per_s) + "/s, out " + fmt(st.out_per_s) + "/s";
    flow.appendChild(box);
  });
}
// A metric over its window's closed instances, as a small line.
function spark(values) {
  const shown = values.filter((v) => v !== null && isFinite(v));
  const max = Math.max(...shown, 0), min = Math.min(...shown, 0), span = max - min || 1;
  let d = "";
  values.forEach((v, i) => {
    if (v === null || !isFinite(v)) return;
    const x = values.length < 2 ? 100 : (i / (values.length - 1)) * 200, y = 34 - ((v - min) / span) * 30;
    d += (d ? "L" : "M") + x.toFixed(1) + "," + y.toFixed(1);
  });
  return '<svg viewBox="0 0 200 36" preserveAspectRatio="none"><path d="' + d + '" fill="none" stroke="#58a6ff" stroke-width="1.5"/></svg>';
}
const value = (v) => v === null || !isFinite(v) ? "–" : Math.abs(v) >= 1000 ? fmt(v) : Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(3).replace(/\.?0+$/, "");
// By window name: the metric its top keys are ranked by, as chosen in its
// picker and kept in the address (#rank=ip_minute:probes,...) so that a link
// or a reload shows the same ranking.
const rankBy = {};
for (const pair of (new URLSearchParams(location.hash.slice(1)).get("rank") || "").split(",")) {
  const at = pair.lastIndexOf(":");
  if (at > 0) rankBy[pair.slice(0, at)] = pair.slice(at + 1);
}
const keepRanking = () => history.replaceState(null, "", "#rank=" + Object.entries(rankBy).map(([w, m]) => w + ":" + m).join(","));
let last = null;
function results(windows) {
  // Not while a picker is open: rebuilding it would close it under the pointer.
  if (document.activeElement && document.activeElement.classList.contains("rank")) return;
  const at = $("results");
  at.replaceChildren();
  const shown = windows.filter((w) => w.points.length || (w.tops || []).some((t) => t.length));
  $("results-panel").hidden = !shown.length;
  const tops = document.createElement("div");
  tops.className = "tops";
  for (const w of shown) {
    if (!w.keyed) {
      at.appendChild(text("h3", w.name + " · last closed " + w.last_closed.slice(11, 19)));
      const minis = document.createElement("div");
      minis.className = "minis";
      w.metrics.forEach((m, k) => {
        const series = w.points.map((p) => p[k + 1]);
        const box = document.createElement("div");
        box.className = "mini";
        box.appendChild(text("div", m, "name"));
        box.appendChild(text("div", value(series[series.length - 1]), "last"));
        box.insertAdjacentHTML("beforeend", spark(series));
        minis.appendChild(box);
      });
      at.appendChild(minis);
      continue;
    }
    // Ranked by the metric chosen in its picker (the first one until then);
    // metrics without numbers (top(), for one) have no ranking to offer.
    const ranked = w.metrics.map((m, k) => k).filter((k) => (w.tops[k] || []).length);
    const chosen = ranked.find((m) => w.metrics[m] === rankBy[w.name]);
    const k = chosen !== undefined ? chosen : ranked.length ? ranked[0] : 0;
    const box = document.createElement("div");
    const title = text("h3", w.name + ": top by ");
    const pick = document.createElement("select");
    pick.className = "rank";
    pick.dataset.window = w.name;
    for (const m of ranked) {
      const o = text("option", w.metrics[m]);
      o.value = m;
      o.selected = m === k;
      pick.appendChild(o);
    }
    pick.onchange = () => { rankBy[w.name] = w.metrics[Number(pick.value)]; keepRanking(); pick.blur(); if (last) show(last); };
    title.appendChild(pick);
    title.appendChild(document.createTextNode(" · " + w.last_closed.slice(11, 19)));
    box.appendChild(title);
    const table = document.createElement("table");
    table.appendChild(row([text("th", "Key"), text("th", w.metrics[k], "num")]));
    for (const [key, v] of w.tops[k] || []) table.appendChild(row([text("td", key), text("td", value(v), "num")]));
    box.appendChild(table);
    tops.appendChild(box);
  }
  at.appendChild(tops);
}
function show(s) {
  last = s;
  $("node").textContent = s.node + " · " + s.role;
  const ready = $("ready");
  ready.textContent = s.ready ? "ready" : "not ready: " + s.not_ready_reason;
  ready.className = s.ready ? "ok" : "bad";
  // An aggregator parses nothing: its figures are the events its agents' batches stand for.
  const aggregator = s.role === "aggregator" && !!s.fleet;
  $("rate-label").textContent = aggregator ? "Agents' events / s" : "Events / s";
  $("events-label").textContent = aggregator ? "Agents' events" : "Events";
  $("chart-label").textContent = (aggregator ? "Agents' events" : "Events") + " per second, last 15 minutes";
  $("sources-panel").hidden = aggregator;
  $("rate").textContent = fmt(s.events_per_s);
  $("events").textContent = fmt(aggregator ? s.fleet.reduce((a, m) => a + m.events, 0)
                                           : s.sources.reduce((a, x) => a + x.events, 0));
  $("out").textContent = "out " + fmt(s.out_per_s || 0) + "/s to sinks";
  $("quarantined").textContent = fmt(s.quarantined_per_s);
  $("lag").textContent = s.event_lag_s < 0 ? "–" : s.event_lag_s < 90 ? s.event_lag_s.toFixed(1) + " s" : s.event_lag_s < 5400 ? (s.event_lag_s / 60).toFixed(0) + " min" : (s.event_lag_s / 3600).toFixed(0) + " h";
  $("lag-bytes").textContent = (s.lag_bytes / 1e6).toFixed(1) + " MB unread";
  $("firing").textContent = s.alerts.length;
  $("ready-sub").textContent = s.ready ? "node ready" : "not ready";
  $("checkpoint").textContent = ago(s.checkpoints.last_age_s);
  $("checkpoint-took").textContent = s.checkpoints.written ? "took " + (s.checkpoints.last_duration_s * 1000).toFixed(0) + " ms · " + (s.checkpoints.size_bytes / 1e6).toFixed(1) + " MB" : "none yet";
  $("uptime").textContent = "up " + (s.uptime_s < 3600 ? (s.uptime_s / 60).toFixed(1) + " min" : (s.uptime_s / 3600).toFixed(1) + " h");
  chart(s.series);
  const alerts = $("alerts");
  alerts.replaceChildren();
  if (!s.alerts.length) alerts.appendChild(none("nothing firing", 5));
  for (const a of s.alerts) {
    const key = Object.entries(a.key).map(([k, v]) => k + "=" + v).join(" ") || "(all traffic)";
    // The summary says the comparison with its unit: "latency_p99 612 ms (threshold 500 ms; when ...)".
    const why = a.summary.split(": ").slice(1).join(": ").replace(/; when .*\)$/, ")");
    alerts.appendChild(row([text("td", a.severity, "sev-" + a.severity), text("td", a.rule), text("td", key),
      text("td", why), text("td", a.first_seen.slice(11, 19), "when")]));
  }
  stages(s.stages || []);
  results(s.windows || []);
  // A cluster node: its peers, up or down; on an aggregator, what each agent
  // sends and how far behind its input it reads (from its heartbeats).
  $("fleet-panel").hidden = !s.fleet;
  const fleet = $("fleet");
  fleet.replaceChildren();
  const behind = (sec) => sec === null ? "–" : sec < 0 ? "no events" : sec < 90 ? sec.toFixed(1) + " s" : (sec / 60).toFixed(0) + " min";
  for (const m of s.fleet || [])
    fleet.appendChild(row([text("td", m.name), text("td", m.up ? "up" : "down", m.up ? "up" : "down"),
      text("td", fmt(m.events_per_s), "num"), text("td", (m.bytes_per_s / 1e6).toFixed(2), "num"),
      text("td", fmt(m.events), "num"), text("td", m.lag_bytes === null ? "–" : (m.lag_bytes / 1e6).toFixed(1), "num"),
      text("td", behind(m.event_lag_s), m.event_lag_s > 60 ? "num sev-critical" : "num"),
      text("td", m.last_batch_age_s < 0 ? "–" : ago(m.last_batch_age_s), "num")]));
  const windows = $("windows");
  windows.replaceChildren();
  if (!(s.windows || []).length) windows.appendChild(none("no windows", 5));
  for (const w of s.windows || [])
    windows.appendChild(row([text("td", w.name), text("td", fmt(w.open_groups), "num"), text("td", w.watermark.slice(0, 19).replace("T", " "), "when"),
      text("td", fmt(w.late), "num"), text("td", fmt(w.dropped_groups), "num")]));
  const sinks = $("sinks");
  sinks.replaceChildren();
  if (!(s.sinks || []).length) sinks.appendChild(none("none: the node writes files and the console only", 6));
  for (const k of s.sinks || [])
    sinks.appendChild(row([text("td", k.name), text("td", fmt(k.written), "num"), text("td", k.kind === "database" ? fmt(k.per_s) : "–", "num"),
      text("td", fmt(k.rejected), "num"), text("td", k.waiting_s > 0 ? k.waiting_s.toFixed(0) + " s" : (k.pending ? fmt(k.pending) + " held" : "–"), k.waiting_s > 5 ? "num sev-critical" : "num"),
      text("td", fmt(k.retries), "num")]));
  const sources = $("sources");
  sources.replaceChildren();
  for (const x of s.sources)
    sources.appendChild(row([text("td", x.problem ? x.name + " (" + x.problem + ")" : x.name), text("td", fmt(x.events), "num"),
      text("td", (x.bytes / 1e6).toFixed(1), "num"), text("td", (x.lag_bytes / 1e6).toFixed(1), "num"), text("td", fmt(x.malformed), "num")]));
}
function follow() {
  const events = new EventSource("/api/v1/events");
  events.onmessage = (m) => show(JSON.parse(m.data));
  events.onerror = () => { const r = $("ready"); r.textContent = "reconnecting…"; r.className = "lost"; };
}
// The status as it was when the page was served, so the first paint has
// the figures; the event stream keeps them current.
const initial = /*INITIAL_STATUS*/null;
if (initial) show(initial);
follow();
</script>
</body></html>
)HTML";
  // Inside a <script>: "</" would end it.
  std::string json;
  for (size_t i = 0; i < initial_status.size(); ++i) {
    if (initial_status[i] == '<' && i + 1 < initial_status.size() && initial_status[i + 1] == '/') json += "<\\";
    else json += initial_status[i];
  }
  std::string out = page;
  const std::string marker = "/*INITIAL_STATUS*/null";
  out.replace(out.find(marker), marker.size(), json.empty() ? "null" : json);
  return out;
}

} // namespace vigil
