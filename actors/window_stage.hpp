#pragma once

#include <string>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "settings/config.hpp"

namespace vigil {

struct window_stage_config {
  std::vector<window_config> windows;
  /// Per window, the metrics its rules read (`watched_metrics`); windows
  /// without rules send no deltas.
  std::vector<std::vector<std::string>> watched;
  /// Dimension fields, in the order the enrich stage labels events.
  std::vector<std::string> label_names;
  detect_stage_actor detect;
  /// Per window name, where its closed results go (JSON lines).
  std::vector<std::pair<std::string, line_sink_actor>> window_sinks;
  /// Requests in flight (to the detect stage and sinks) before the stage
  /// holds back its senders' credit. Default: 8.
  size_t max_in_flight = 8;
};

/// Spawns the stage that keeps the node's windows (see `window_stage_actor`).
window_stage_actor spawn_window_stage(caf::actor_system& sys, const window_stage_config& cfg);

} // namespace vigil
