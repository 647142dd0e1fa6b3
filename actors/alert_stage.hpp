#pragma once

#include <vector>

#include <caf/fwd.hpp>

#include "alerting/alert_router.hpp"
#include "messages/interfaces.hpp"

namespace vigil {

struct alert_stage_config {
  struct output {
    line_sink_actor sink;
    alert_output how;
  };
  std::vector<output> outputs;
  /// Checkpoints: where the stage's part goes (null: none), and the
  /// router state to start from (`alert_router::save`; empty: none).
  checkpoint_coordinator_actor coordinator;
  std::string restore;
};

/// Spawns the stage between detection and the alert sinks (see
/// `alert_router` for what it does to the alerts).
alert_stage_actor spawn_alert_stage(caf::actor_system& sys, const alert_stage_config& cfg);

} // namespace vigil
