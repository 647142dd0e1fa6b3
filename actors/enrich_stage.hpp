#pragma once

#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "settings/config.hpp"
#include "signature/signature_matcher.hpp"

namespace vigil {

struct enrich_stage_config {
  std::string source;  ///< for log lines
  std::shared_ptr<const signature_matcher> signatures;
  std::vector<dimension_config> dimensions;
  window_stage_actor next;
};

/// The dimension fields an enrich stage labels events with, in order.
std::vector<std::string> dimension_fields(const std::vector<dimension_config>& dims);

/// Spawns the stage that tags events (see `enrich_stage_actor`). Dimension
/// tables load at start (a table that fails to load leaves its fields
/// empty, logged with file and line) and reload within a second of their
/// file changing; a reload that fails keeps the table in use.
enrich_stage_actor spawn_enrich_stage(caf::actor_system& sys, const enrich_stage_config& cfg);

} // namespace vigil
