#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "parse/timestamp.hpp"
#include "report/report_writers.hpp"

namespace vigil {

namespace {

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control bytes from hostile requests would garble the page.
        if (static_cast<unsigned char>(c) < 0x20) out += "\xEF\xBF\xBD";
        else out += c;
    }
  }
  return out;
}

std::string num(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

/// A vertical bar chart of labelled values, stacked where `parts` has more
/// than one series. Labels are drawn for at most ~24 bars.
std::string bar_chart(const std::vector<std::string>& labels,
                      const std::vector<std::vector<uint64_t>>& parts,
                      const std::vector<std::string>& colors, const std::vector<std::string>& names,
                      int width = 900, int height = 220) {
  const int left = 60, bottom = 40, top = 10;
  const size_t n = labels.size();
  uint64_t max = 1;
  for (size_t i = 0; i < n; ++i) {
    uint64_t sum = 0;
    for (const auto& p : parts) sum += p[i];
    max = std::max(max, sum);
  }
  std::ostringstream svg;
  svg << "<svg viewBox='0 0 " << width << ' ' << height + 20 << "' class='chart' role='img'>";
  const double plot_h = height - bottom - top;
  const double bw = n ? static_cast<double>(width - left - 10) / static_cast<double>(n) : 0;
  for (int g = 0; g <= 4; ++g) {
    double y = top + plot_h - plot_h * g / 4;
    svg << "<line x1='" << left << "' x2='" << width - 10 << "' y1='" << y << "' y2='" << y
        << "' class='grid'/><text x='" << left - 6 << "' y='" << y + 4 << "' class='axis' text-anchor='end'>"
        << num(max * static_cast<uint64_t>(g) / 4) << "</text>";
  }
  // Labels at least ~64 px apart so they never overlap.
  const size_t label_every = std::max<size_t>(1, static_cast<size_t>(std::ceil(64.0 / std::max(bw, 1.0))));
  for (size_t i = 0; i < n; ++i) {
    double x = left + bw * static_cast<double>(i);
    double y = top + plot_h;
    std::string tip = labels[i];
    for (size_t p = 0; p < parts.size(); ++p) {
      double h = plot_h * static_cast<double>(parts[p][i]) / static_cast<double>(max);
      y -= h;
      svg << "<rect x='" << x + bw * 0.1 << "' y='" << y << "' width='" << std::max(bw * 0.8, 1.0)
          << "' height='" << h << "' fill='" << colors[p] << "'><title>" << esc(labels[i]) << " "
          << esc(names[p]) << ": " << num(parts[p][i]) << "</title></rect>";
    }
    if (i % label_every == 0)
      svg << "<text x='" << x + bw / 2 << "' y='" << top + plot_h + 16
          << "' class='axis' text-anchor='middle'>" << esc(labels[i]) << "</text>";
  }
  double lx = left;
  for (size_t p = 0; p < names.size() && names.size() > 1; ++p) {
    svg << "<rect x='" << lx << "' y='" << height + 4 << "' width='10' height='10' fill='" << colors[p]
        << "'/><text x='" << lx + 14 << "' y='" << height + 13 << "' class='axis'>" << esc(names[p])
        << "</text>";
    lx += 30 + 7.0 * static_cast<double>(names[p].size());
  }
  svg << "</svg>";
  return svg.str();
}

std::string item_table(const char* title, const std::vector<ranked_item>& items, bool bytes = true) {
  std::ostringstream t;
  t << "<section><h2>" << title << "</h2>";
  if (items.empty()) {
    t << "<p class='none'>none</p></section>";
    return t.str();
  }
  t << "<table><tr><th class='n'>hits</th>" << (bytes ? "<th class='n'>bytes</th>" : "")
    << "<th>value</th></tr>";
  for (const auto& i : items) {
    t << "<tr><td class='n'>" << num(i.hits) << "</td>";
    if (bytes) t << "<td class='n'>" << esc(human_bytes(i.bytes)) << "</td>";
    t << "<td class='v'>" << esc(i.value) << "</td></tr>";
  }
  t << "</table></section>";
  return t.str();
}

} // namespace

std::string render_html(const analysis_report& r, const report_inputs& in) {
  std::ostringstream h;
  h << "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
       "<meta name='viewport' content='width=device-width, initial-scale=1'>"
       "<title>vigil report</title><style>"
       "body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em;color:#222}"
       "h1{font-size:1.5em}h2{font-size:1.1em;margin:1.5em 0 .4em;border-bottom:1px solid #ddd}"
       ".cards{display:flex;flex-wrap:wrap;gap:.6em}.card{background:#f4f6f8;border-radius:6px;padding:.5em .9em}"
       ".card b{display:block;font-size:1.3em}table{border-collapse:collapse;width:100%}"
       "td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee}td.n,th.n{text-align:right;white-space:nowrap;width:7em}"
       "td.v{word-break:break-all}.chart{width:100%;height:auto}.grid{stroke:#e5e5e5}"
       ".axis{font-size:10px;fill:#666}.none{color:#888}.grid2{display:grid;grid-template-columns:1fr 1fr;gap:1em}"
       "</style></head><body>";
  h << "<h1>vigil report</h1><p>";
  for (size_t i = 0; i < in.names.size(); ++i)
    h << (i ? ", " : "") << esc(in.names[i]) << " ("
      << (i < in.formats.size() ? to_string(in.formats[i]) : "?") << ")";
  if (r.first_ms)
    h << "<br>" << esc(format_rfc3339_utc(*r.first_ms)) << " &ndash; "
      << esc(format_rfc3339_utc(*r.last_ms));
  h << "</p><div class='cards'>";
  auto card = [&](const char* label, const std::string& value) {
    h << "<div class='card'><b>" << esc(value) << "</b>" << label << "</div>";
  };
  card("requests", num(r.total_requests));
  card("valid", num(r.valid_requests));
  card("failed", num(r.failed_requests));
  card("unique visitors", num(r.unique_visitors));
  card("page views", num(r.page_views));
  card("bandwidth", human_bytes(r.bandwidth));
  char pct[32];
  std::snprintf(pct, sizeof(pct), "%.2f%%", r.error_rate * 100);
  card("5xx rate", pct);
  std::snprintf(pct, sizeof(pct), "%.2f%%", r.client_error_rate * 100);
  card("4xx rate", pct);
  if (r.latency) card("p99 latency", format_micros(r.latency->p99));
  h << "</div>";

  // Hourly series: hits split into ok / 4xx / 5xx. Hours without traffic
  // are drawn as zero, so the axis is time, unless the span is too long
  // to draw hour by hour.
  std::vector<hour_point> hours;
  const bool fill = !r.series.empty()
                    && (r.series.back().hour_s - r.series.front().hour_s) / 3600 < 24 * 62;
  for (const auto& p : r.series) {
    while (fill && !hours.empty() && hours.back().hour_s + 3600 < p.hour_s)
      hours.push_back({hours.back().hour_s + 3600, hour_stats{}});
    hours.push_back(p);
  }
  std::vector<std::string> labels;
  std::vector<std::vector<uint64_t>> parts(3);
  for (const auto& p : hours) {
    std::string t = format_rfc3339_utc(p.hour_s * 1000);
    labels.push_back(t.substr(5, 5) + " " + t.substr(11, 2) + "h");
    parts[0].push_back(p.stats.hits - p.stats.status_4xx - p.stats.status_5xx);
    parts[1].push_back(p.stats.status_4xx);
    parts[2].push_back(p.stats.status_5xx);
  }
  h << "<section><h2>Requests per hour (UTC)</h2>"
    << bar_chart(labels, parts, {"#4c78a8", "#f2a03d", "#d9534f"}, {"other", "4xx", "5xx"})
    << "</section>";

  h << "<div class='grid2'><section><h2>Status classes</h2>";
  std::vector<std::string> class_labels;
  std::vector<std::vector<uint64_t>> class_parts(1);
  for (size_t i = 0; i < r.status_classes.size(); ++i) {
    class_labels.push_back(std::to_string(i + 1) + "xx");
    class_parts[0].push_back(r.status_classes[i]);
  }
  h << bar_chart(class_labels, class_parts, {"#4c78a8"}, {"requests"}, 440, 200) << "</section>";
  h << "<section><h2>Latency percentiles</h2>";
  if (r.latency) {
    const auto& l = *r.latency;
    h << bar_chart({"p50", "p90", "p95", "p99", "max"}, {{l.p50, l.p90, l.p95, l.p99, l.max}},
                   {"#54a24b"}, {"microseconds"}, 440, 200);
  } else {
    h << "<p class='none'>the log format has no request time</p>";
  }
  h << "</section></div>";

  h << "<section><h2>Status codes</h2><table><tr><th class='n'>requests</th><th>code</th></tr>";
  for (auto [code, count] : r.status_codes)
    h << "<tr><td class='n'>" << num(count) << "</td><td>" << code << "</td></tr>";
  h << "</table></section>";
  h << item_table("Top paths", r.top_paths) << item_table("Top 404 paths", r.top_404)
    << item_table("Top 5xx paths", r.top_5xx) << item_table("Top hosts", r.top_hosts)
    << item_table("Top referrers", r.top_referrers)
    << item_table("Top user agents", r.top_user_agents, false);

  h << "<section><h2>Security findings</h2>";
  if (r.findings.empty() && r.bursts.empty()) h << "<p class='none'>no findings</p>";
  if (!r.findings.empty()) {
    h << "<table><tr><th>class</th><th>requests</th><th>clients</th><th>top clients</th><th>top paths</th></tr>";
    for (const auto& f : r.findings) {
      h << "<tr><td>" << esc(to_string(f.cls)) << "</td><td class='n'>" << num(f.hits)
        << "</td><td class='n'>" << num(f.clients) << "</td><td class='v'>";
      for (size_t i = 0; i < f.top_clients.size() && i < 3; ++i)
        h << (i ? ", " : "") << esc(f.top_clients[i].value) << " (" << f.top_clients[i].hits << ")";
      h << "</td><td class='v'>";
      for (size_t i = 0; i < f.top_paths.size() && i < 3; ++i)
        h << (i ? "<br>" : "") << esc(f.top_paths[i].value);
      h << "</td></tr>";
    }
    h << "</table>";
  }
  if (!r.bursts.empty()) {
    h << "<h2>Bursts</h2><table><tr><th>kind</th><th>client</th><th>peak/min</th><th>minutes</th><th>first</th></tr>";
    for (const auto& b : r.bursts)
      h << "<tr><td>" << esc(b.kind) << "</td><td>" << esc(b.client) << "</td><td class='n'>"
        << b.peak << "</td><td class='n'>" << b.minutes << "</td><td>"
        << esc(format_rfc3339_utc(b.first_minute_s * 1000)) << "</td></tr>";
    h << "</table>";
  }
  h << "<h2>Blacklist</h2>";
  if (r.blacklist.empty()) h << "<p class='none'>empty</p>";
  else {
    h << "<table><tr><th>client</th><th>reasons</th><th>hits</th><th>expires</th></tr>";
    for (const auto& e : r.blacklist) {
      h << "<tr><td>" << esc(e.client) << "</td><td>";
      for (size_t i = 0; i < e.reasons.size(); ++i) h << (i ? ", " : "") << esc(e.reasons[i]);
      h << "</td><td class='n'>" << num(e.hits) << "</td><td>"
        << esc(format_rfc3339_utc(e.expires_ms)) << "</td></tr>";
    }
    h << "</table>";
  }
  h << "</section>";

  h << "<section><h2>Data quality</h2><table>";
  auto row = [&](const std::string& k, uint64_t v) {
    h << "<tr><td>" << esc(k) << "</td><td class='n'>" << num(v) << "</td></tr>";
  };
  row("lines read", r.lines + r.empty_lines);
  row("parsed", r.valid_requests);
  row("malformed", r.failed_requests);
  for (size_t i = 1; i < r.malformed.size(); ++i)
    if (r.malformed[i]) row("malformed: " + std::string(to_string(static_cast<parse_error>(i))), r.malformed[i]);
  row("duplicates", r.duplicates);
  row("empty lines", r.empty_lines);
  row("missing size", r.missing_bytes);
  row("missing referer", r.missing_referer);
  row("missing user agent", r.missing_user_agent);
  row("user agent cut short", r.truncated_user_agent);
  h << "</table></section><footer><p class='none'>generated by vigil</p></footer></body></html>\n";
  return h.str();
}

} // namespace vigil
