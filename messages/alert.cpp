#include "messages/alert.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "parse/timestamp.hpp"

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

std::string to_text(const alert& a) {
  std::string key;
  for (const auto& [k, v] : a.key) key += " " + k + "=" + v;
  char buf[160];
  std::snprintf(buf, sizeof(buf), " value=%g threshold=%g window=%s", a.value, a.threshold,
                format_rfc3339_utc(a.window_start_ms).c_str());
  return "[" + a.status + "] " + a.severity + " " + a.rule + key + buf;
}

} // namespace vigil
