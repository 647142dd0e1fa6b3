#pragma once

#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "metrics/stage_tally.hpp"
#include "settings/config.hpp"
#include "signature/signature_matcher.hpp"

namespace vigil {

class dimension_tables;

struct enrich_stage_config {
  std::string source;  ///< for log lines
  std::shared_ptr<const signature_matcher> signatures;
  std::shared_ptr<dimension_tables> dimensions;  ///< the node's, shared by every enrich stage
  window_stage_actor next;
  std::shared_ptr<stage_tally> stage;  ///< shared by the source's enrich stages (null: not counted)
  /// The node has attacks sinks: each attack request becomes a JSON line
  /// in its batch's `attack_lines`.
  bool attack_lines = false;
};

/// The dimension fields an enrich stage labels events with, in order.
std::vector<std::string> dimension_fields(const std::vector<dimension_config>& dims);

/// Spawns the stage that tags events (see `enrich_stage_actor`). The
/// node's dimension tables (a table that failed to load leaves its fields
/// empty) are checked every second and reload within a second of their
/// file changing; a reload that fails keeps the table in use.
enrich_stage_actor spawn_enrich_stage(caf::actor_system& sys, const enrich_stage_config& cfg);

} // namespace vigil
