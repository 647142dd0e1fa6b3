#include "rules/metric_names.hpp"

namespace vigil {

namespace {

// In the order of `window_metric`.
constexpr std::string_view names[window_metric_count] = {
  "requests",   "page_views", "bytes",      "visitors",   "status_2xx",        "status_3xx",
  "status_4xx", "status_5xx", "status_401", "status_403", "status_404",        "error_rate",
  "client_error_rate", "latency_p50", "latency_p90", "latency_p95", "latency_p99",
  "latency_max", "probes",    "bots",       "distinct_paths", "auth_failures",
};

} // namespace

std::string_view name_of(window_metric m) { return names[static_cast<size_t>(m)]; }

std::optional<window_metric> window_metric_of(std::string_view name) {
  for (size_t i = 0; i < window_metric_count; ++i)
    if (names[i] == name) return static_cast<window_metric>(i);
  return std::nullopt;
}

const std::vector<std::string>& window_metric_names() {
  static const std::vector<std::string> all(std::begin(names), std::end(names));
  return all;
}

} // namespace vigil
