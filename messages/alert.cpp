#include "messages/alert.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "parse/timestamp.hpp"
#include "state/state_codec.hpp"

namespace vigil {

std::string to_json(const alert& a) {
  nlohmann::ordered_json key = nlohmann::ordered_json::object();
  for (const auto& [k, v] : a.key) key[k] = v;
  nlohmann::ordered_json j = {
    {"id", a.id},
    {"rule", a.rule},
    {"severity", a.severity},
    {"status", a.status},
    {"key", key},
    {"value", a.value},
    {"threshold", a.threshold},
    {"window", {{"start", format_rfc3339_utc(a.window_start_ms)}, {"end", format_rfc3339_utc(a.window_end_ms)}}},
    {"first_seen", format_rfc3339_utc(a.first_seen_ms)},
    {"emitted_at", format_rfc3339_utc(a.emitted_at_ms)},
    {"node", a.node},
    {"summary", a.summary},
  };
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string to_text(const alert& a, bool repeat) {
  // The summary says the metric with its unit (latencies in ms, not the
  // microseconds `value` holds).
  std::string what = a.summary;
  if (what.empty()) {
    what = a.rule;
    for (const auto& [k, v] : a.key) what += " " + k + "=" + v;
  }
  return "[" + a.status + (repeat ? ", repeat" : "") + "] " + a.severity + " " + what + " window "
         + format_rfc3339_utc(a.window_start_ms);
}

void save(state_writer& w, const alert& a) {
  for (const std::string* s : {&a.id, &a.rule, &a.severity, &a.status}) w.str(*s);
  w.fields(a.key);
  w.f64(a.value);
  w.f64(a.threshold);
  for (int64_t v : {a.window_start_ms, a.window_end_ms, a.first_seen_ms, a.emitted_at_ms}) w.i64(v);
  w.str(a.node);
  w.str(a.summary);
}

alert restore_alert(state_reader& r) {
  alert a;
  for (std::string* s : {&a.id, &a.rule, &a.severity, &a.status}) *s = r.str();
  a.key = r.fields();
  a.value = r.f64();
  a.threshold = r.f64();
  for (int64_t* v : {&a.window_start_ms, &a.window_end_ms, &a.first_seen_ms, &a.emitted_at_ms}) *v = r.i64();
  a.node = r.str();
  a.summary = r.str();
  return a;
}

} // namespace vigil
