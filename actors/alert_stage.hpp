#pragma once

#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "alerting/alert_router.hpp"
#include "messages/interfaces.hpp"
#include "metrics/stage_tally.hpp"

namespace vigil {

class alert_board;

struct alert_stage_config {
  struct output {
    line_sink_actor sink;
    alert_output how;
  };
  std::vector<output> outputs;
  /// Checkpoints: where the stage's part goes (null: none), and the router
  /// restored from the checkpoint being resumed (null: a fresh one).
  checkpoint_coordinator_actor coordinator;
  std::shared_ptr<alert_router> restored;
  /// Where the alerts firing now are shown (null: nowhere).
  std::shared_ptr<alert_board> board;
  std::shared_ptr<stage_tally> stage;  ///< null: not counted
};

/// Spawns the stage between detection and the alert sinks (see
/// `alert_router` for what it does to the alerts).
alert_stage_actor spawn_alert_stage(caf::actor_system& sys, const alert_stage_config& cfg);

} // namespace vigil
