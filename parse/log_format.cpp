#include "parse/log_format.hpp"

#include <array>
#include <cstring>

#include "parse/clf_parser.hpp"

namespace vigil {

namespace {
constexpr std::array<std::pair<std::string_view, log_format>, 5> names = {{
  {"auto", log_format::auto_detect},
  {"common", log_format::common},
  {"combined", log_format::combined},
  {"combined_rt", log_format::combined_rt},
  {"json", log_format::json},
}};
} // namespace

std::string_view to_string(log_format f) noexcept {
  for (auto& [name, fmt] : names)
    if (fmt == f) return name;
  return "unknown";
}

std::optional<log_format> log_format_from_string(std::string_view name) noexcept {
  for (auto& [n, fmt] : names)
    if (n == name) return fmt;
  if (name == "nginx" || name == "apache") return log_format::combined;
  return std::nullopt;
}

log_format sniff_log_format(std::string_view sample) {
  size_t votes[5] = {};
  clf_options opts;
  clf_time_cache times;
  size_t seen = 0;
  while (!sample.empty() && seen < 64) {
    auto nl = sample.find('\n');
    std::string_view line = sample.substr(0, nl);
    sample.remove_prefix(nl == std::string_view::npos ? sample.size() : nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    ++seen;
    if (line.front() == '{') {
      ++votes[static_cast<int>(log_format::json)];
      continue;
    }
    log_event ev;
    if (parse_clf_line(line, 0, opts, times, ev) != parse_error::none) continue;
    bool has_agent = !ev.has(event_flags::referer_missing) || !ev.has(event_flags::agent_missing)
                     || line.back() == '"';
    if (has_agent && ev.has(event_flags::has_request_time))
      ++votes[static_cast<int>(log_format::combined_rt)];
    else if (has_agent)
      ++votes[static_cast<int>(log_format::combined)];
    else
      ++votes[static_cast<int>(log_format::common)];
  }
  log_format best = log_format::combined;
  size_t best_votes = 0;
  for (auto f : {log_format::combined, log_format::combined_rt, log_format::common,
                 log_format::json}) {
    if (votes[static_cast<int>(f)] > best_votes) {
      best = f;
      best_votes = votes[static_cast<int>(f)];
    }
  }
  return best;
}

} // namespace vigil
