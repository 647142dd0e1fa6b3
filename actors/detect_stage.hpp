#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "metrics/stage_tally.hpp"
#include "settings/config.hpp"

namespace vigil {

class rule_engine;

struct detect_stage_config {
  std::string node;
  std::vector<rule_config> rules;
  std::vector<detector_config> detectors;
  alert_stage_actor alerts;
  /// Checkpoints: where the stage's part goes (null: none), and the rule
  /// engine restored from the checkpoint being resumed (null: a fresh one).
  checkpoint_coordinator_actor coordinator;
  std::shared_ptr<rule_engine> restored;
  std::shared_ptr<stage_tally> stage;  ///< null: not counted
};

/// Spawns the stage that checks the rules against window deltas and hands
/// the alerts they raise or resolve to the alert stage.
detect_stage_actor spawn_detect_stage(caf::actor_system& sys, const detect_stage_config& cfg);

} // namespace vigil
