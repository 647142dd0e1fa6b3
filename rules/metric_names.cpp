#include "rules/metric_names.hpp"

namespace vigil {

const std::vector<std::string>& window_metric_names() {
  static const std::vector<std::string> names = {
    "requests",   "page_views",   "bytes",       "visitors",      "status_2xx",   "status_3xx",
    "status_4xx", "status_5xx",   "status_401",  "status_403",    "status_404",   "error_rate",
    "client_error_rate", "latency_p50", "latency_p90", "latency_p95", "latency_p99",
    "latency_max", "probes",      "bots",        "distinct_paths",
    "auth_failures",
  };
  return names;
}

} // namespace vigil
