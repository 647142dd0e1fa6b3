#include <nlohmann/json.hpp>

#include "parse/timestamp.hpp"
#include "report/report_writers.hpp"

namespace vigil {

using json = nlohmann::ordered_json;

namespace {

json items(const std::vector<ranked_item>& v, bool with_bytes = true) {
  json a = json::array();
  for (const auto& i : v) {
    json o = {{"value", i.value}, {"hits", i.hits}};
    if (with_bytes) o["bytes"] = i.bytes;
    a.push_back(std::move(o));
  }
  return a;
}

json time_or_null(const std::optional<int64_t>& ms) {
  return ms ? json(format_rfc3339_utc(*ms)) : json(nullptr);
}

} // namespace

std::string render_json(const analysis_report& r, const report_inputs& in) {
  json j;
  json inputs = json::array();
  for (size_t i = 0; i < in.names.size(); ++i)
    inputs.push_back({{"name", in.names[i]},
                      {"format", i < in.formats.size() ? to_string(in.formats[i]) : "unknown"}});
  j["inputs"] = inputs;
  j["summary"] = {
    {"total_requests", r.total_requests},
    {"valid_requests", r.valid_requests},
    {"failed_requests", r.failed_requests},
    {"unique_visitors", r.unique_visitors},
    {"bandwidth", r.bandwidth},
    {"first", time_or_null(r.first_ms)},
    {"last", time_or_null(r.last_ms)},
    {"page_views", r.page_views},
    {"static_requests", r.static_requests},
    {"bot_requests", r.bot_requests},
    {"sessions", r.sessions},
    {"sessions_per_visitor", r.sessions_per_visitor},
    {"unique_paths", r.unique_paths},
    {"unique_hosts", r.unique_hosts},
    {"unique_referrers", r.unique_referrers},
    {"unique_user_agents", r.unique_user_agents},
    {"unique_not_found", r.unique_not_found},
    {"unique_404_paths", r.unique_404_paths},
    {"error_rate", r.error_rate},
    {"client_error_rate", r.client_error_rate},
  };
  json codes = json::object();
  for (auto [code, count] : r.status_codes) codes[std::to_string(code)] = count;
  j["status_codes"] = codes;
  json classes = json::object();
  for (size_t i = 0; i < r.status_classes.size(); ++i)
    classes[std::to_string(i + 1) + "xx"] = r.status_classes[i];
  j["status_classes"] = classes;
  j["top_paths"] = items(r.top_paths);
  j["top_404"] = items(r.top_404);
  j["top_5xx"] = items(r.top_5xx);
  j["top_hosts"] = items(r.top_hosts);
  j["top_referrers"] = items(r.top_referrers);
  j["top_user_agents"] = items(r.top_user_agents, false);
  j["methods"] = items(r.methods, false);
  j["protocols"] = items(r.protocols, false);
  json series = json::array();
  for (const auto& h : r.series)
    series.push_back({{"hour", format_rfc3339_utc(h.hour_s * 1000)},
                      {"hits", h.stats.hits},
                      {"bytes", h.stats.bytes},
                      {"page_views", h.stats.page_views},
                      {"status_4xx", h.stats.status_4xx},
                      {"status_5xx", h.stats.status_5xx}});
  j["series"] = series;
  if (r.latency) {
    const auto& l = *r.latency;
    json slow = json::array();
    for (const auto& s : r.slow_paths)
      slow.push_back({{"value", s.path}, {"hits", s.hits}, {"mean_us", s.mean_us}, {"max_us", s.max_us}});
    j["latency"] = {{"unit", "us"}, {"count", l.count}, {"p50", l.p50}, {"p90", l.p90},
                    {"p95", l.p95}, {"p99", l.p99},     {"max", l.max},   {"mean", l.mean},
                    {"slow_paths", slow}};
  } else {
    j["latency"] = nullptr;
  }
  json findings = json::array();
  for (const auto& f : r.findings)
    findings.push_back({{"class", to_string(f.cls)},
                        {"hits", f.hits},
                        {"clients", f.clients},
                        {"top_clients", items(f.top_clients, false)},
                        {"top_paths", items(f.top_paths, false)}});
  json bursts = json::array();
  for (const auto& b : r.bursts)
    bursts.push_back({{"kind", b.kind},
                      {"client", b.client},
                      {"peak_per_minute", b.peak},
                      {"minutes", b.minutes},
                      {"first_minute", format_rfc3339_utc(b.first_minute_s * 1000)}});
  json blacklist = json::array();
  for (const auto& e : r.blacklist)
    blacklist.push_back({{"client", e.client},
                         {"reasons", e.reasons},
                         {"hits", e.hits},
                         {"first_seen", format_rfc3339_utc(e.first_ms)},
                         {"last_seen", format_rfc3339_utc(e.last_ms)},
                         {"expires", format_rfc3339_utc(e.expires_ms)}});
  j["security"] = {{"findings", findings}, {"bursts", bursts}, {"blacklist", blacklist}};
  json malformed = json::object();
  for (size_t i = 1; i < r.malformed.size(); ++i)
    malformed[std::string(to_string(static_cast<parse_error>(i)))] = r.malformed[i];
  j["data_quality"] = {
    {"lines_read", r.lines + r.empty_lines},
    {"empty_lines", r.empty_lines},
    {"parsed", r.valid_requests},
    {"malformed", r.failed_requests},
    {"malformed_by_reason", malformed},
    {"duplicates", r.duplicates},
    {"missing_fields",
     {{"bytes", r.missing_bytes},
      {"referer", r.missing_referer},
      {"user_agent", r.missing_user_agent},
      {"request", r.missing_request}}},
    {"truncated_user_agent", r.truncated_user_agent},
    {"late_events_dropped", 0},
  };
  // Replace invalid UTF-8 (hostile paths, agents) rather than fail the report.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace vigil
