#pragma once

#include <chrono>
#include <string>

#include <caf/fwd.hpp>

#include "alerting/alertmanager_format.hpp"
#include "messages/interfaces.hpp"
#include "notify/webhook_sender.hpp"

namespace vigil {

struct alertmanager_sink_config {
  std::string name;     ///< the [[sink]]'s name, for logs
  webhook_options http; ///< url: Alertmanager's base URL (".../api/v2/alerts" is added)
  alertmanager_format format;
  /// A resolve is sent again every resend interval for this long, so an
  /// Alertmanager that missed it (restarted, unreachable) still learns it.
  std::chrono::milliseconds repeat_resolves_for{15 * 60 * 1000};
};

/// Spawns a sink that posts alerts to Prometheus Alertmanager (`POST
/// /api/v2/alerts`, alertmanager_format), through a `webhook_sender`
/// (retries, a bounded queue; the pipeline never waits). Firing alerts come
/// again from the alert stage every resend interval (its repeat interval);
/// resolves are repeated by the sink itself for `repeat_resolves_for`.
line_sink_actor spawn_alertmanager_sink(caf::actor_system& sys, const alertmanager_sink_config& cfg);

} // namespace vigil
