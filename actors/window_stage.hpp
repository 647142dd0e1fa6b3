#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "settings/config.hpp"

namespace vigil {

struct window_stage_config {
  std::string node;
  std::vector<window_config> windows;
  std::vector<rule_config> rules;
  struct output {
    line_sink_actor sink;
    bool readable = false;   ///< console: a line for people instead of JSON
  };
  std::vector<output> alert_sinks;
  /// Per window name, where its closed results go.
  std::vector<std::pair<std::string, output>> window_sinks;
};

/// Spawns the stage that keeps the node's windows and checks its rules
/// (see `window_stage_actor`).
window_stage_actor spawn_window_stage(caf::actor_system& sys, const window_stage_config& cfg);

} // namespace vigil
