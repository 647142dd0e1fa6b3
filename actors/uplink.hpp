#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "settings/config.hpp"

namespace vigil {

class node_link;

struct uplink_config {
  std::shared_ptr<node_link> link;
  std::string aggregator;  ///< the peer the batches go to
  uint64_t epoch = 0;      ///< the aggregator's session this agent joined
  /// Pre-aggregation: each batch's tumbling and sliding windows go as
  /// partial groups (window/window_partials); the events only when a
  /// session window needs them. Off: every event goes.
  bool pre_aggregate = false;
  std::vector<window_config> windows;
  std::vector<std::string> label_names;  ///< the enrich stages' dimension fields
};

/// Spawns an agent's uplink (see `uplink_actor`).
uplink_actor spawn_uplink(caf::actor_system& sys, const uplink_config& cfg);

} // namespace vigil
