#include "alerting/alertmanager_format.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "parse/timestamp.hpp"

namespace vigil {

std::string label_name(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out.insert(out.begin(), '_');
  return out;
}

std::string alertmanager_body(const std::vector<std::string>& alert_lines, int64_t now_ms,
                              const alertmanager_format& f) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& line : alert_lines) {
    const auto a = nlohmann::json::parse(line, nullptr, false);
    if (!a.is_object() || !a.contains("rule") || !a.contains("status")) continue;
    nlohmann::json labels = {{"alertname", a.value("rule", "")},
                             {"severity", a.value("severity", "")},
                             {"node", a.value("node", "")}};
    if (a.contains("key") && a["key"].is_object())
      for (const auto& [k, v] : a["key"].items()) labels[label_name(k)] = v.is_string() ? v.get<std::string>() : v.dump();
    std::string window;
    if (a.contains("window") && a["window"].is_object())
      window = a["window"].value("start", "") + "/" + a["window"].value("end", "");
    const bool firing = a.value("status", "") == "firing";
    const std::string ends =
      firing ? format_rfc3339_utc(now_ms + 4 * f.resend_interval_ms) : a.value("emitted_at", format_rfc3339_utc(now_ms));
    nlohmann::json am = {
      {"labels", labels},
      {"annotations",
       {{"summary", a.value("summary", "")},
        {"value", a.contains("value") ? a["value"].dump() : ""},
        {"threshold", a.contains("threshold") ? a["threshold"].dump() : ""},
        {"window", window},
        {"vigil_id", a.value("id", "")}}},
      {"startsAt", a.value("first_seen", format_rfc3339_utc(now_ms))},
      {"endsAt", ends},
    };
    if (!f.generator_url.empty()) am["generatorURL"] = f.generator_url;
    out.push_back(std::move(am));
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace vigil
