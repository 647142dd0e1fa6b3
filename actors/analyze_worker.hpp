#pragma once

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "parse/line_parser.hpp"
#include "report/batch_aggregate.hpp"

namespace vigil {

struct analyze_worker_config {
  parser_options parser;
  aggregate_options aggregate;
};

/// Spawns a worker that parses chunks and folds them into an exact partial
/// aggregate (see `analyze_worker_actor`).
analyze_worker_actor spawn_analyze_worker(caf::actor_system& sys, const analyze_worker_config& cfg);

} // namespace vigil
