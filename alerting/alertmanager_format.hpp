#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

/// How vigil's alerts are posted to Prometheus Alertmanager.
struct alertmanager_format {
  /// A firing alert is sent again this often, and says it ends 4 intervals
  /// from now (as Prometheus does), so Alertmanager never resolves a live
  /// alert by timeout.
  int64_t resend_interval_ms = 60000;
  std::string generator_url;  ///< the node's page; "" for none
};

/// The body of `POST /api/v2/alerts` for vigil alerts given as their JSON
/// lines (PRODUCT.md's alert schema): one Alertmanager alert each, with
/// labels `alertname` (the rule), `severity`, `node` and the group's key
/// fields (names made valid label names); annotations `summary`, `value`,
/// `threshold`, `window`, `vigil_id`; `startsAt` the first line seen;
/// `endsAt` now + 4 x the resend interval while firing, the resolve time
/// once resolved. Lines that are not alerts are left out.
std::string alertmanager_body(const std::vector<std::string>& alert_lines, int64_t now_ms,
                              const alertmanager_format& f);

/// `name` as a Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*.
std::string label_name(const std::string& name);

} // namespace vigil
