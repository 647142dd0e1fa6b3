#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

/// The metrics of a window result, in the order results list them.
enum class window_metric : uint8_t {
  requests, page_views, bytes, visitors, status_2xx, status_3xx, status_4xx, status_5xx,
  status_401, status_403, status_404, error_rate, client_error_rate, latency_p50, latency_p90,
  latency_p95, latency_p99, latency_max, probes, bots, distinct_paths, auth_failures,
};
constexpr size_t window_metric_count = static_cast<size_t>(window_metric::auth_failures) + 1;

/// The PRODUCT.md name of a metric ("error_rate").
std::string_view name_of(window_metric m);
/// The metric called `name`; nullopt when there is none.
std::optional<window_metric> window_metric_of(std::string_view name);

/// The metrics of a window result, and the variables a rule may use
/// (PRODUCT.md, "Config": metric names).
const std::vector<std::string>& window_metric_names();

} // namespace vigil
