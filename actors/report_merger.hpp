#pragma once

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "report/batch_aggregate.hpp"

namespace vigil {

struct report_merger_config {
  aggregate_options aggregate;  ///< for the empty result when nothing arrives
};

/// Spawns the actor that merges worker partials (see `report_merger_actor`).
report_merger_actor spawn_report_merger(caf::actor_system& sys, const report_merger_config& cfg);

} // namespace vigil
