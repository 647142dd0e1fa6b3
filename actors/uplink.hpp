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
  /// The peers every batch goes to, each with its partition of the keyed
  /// windows (window/partition.hpp); the first leads and also gets the
  /// quarantine records.
  std::vector<std::string> aggregators;
  uint64_t epoch = 0;      ///< the fleet's session this agent joined
  /// Pre-aggregation: each batch's tumbling and sliding windows go as
  /// partial groups (window/window_partials), each group to the aggregator
  /// that owns it; the events only when a session window needs them. Off:
  /// every event goes. Events go to every aggregator, which keeps its own
  /// groups of them.
  bool pre_aggregate = false;
  std::vector<window_config> windows;
  std::vector<std::string> label_names;  ///< the enrich stages' dimension fields
};

/// Spawns an agent's uplink (see `uplink_actor`).
uplink_actor spawn_uplink(caf::actor_system& sys, const uplink_config& cfg);

} // namespace vigil
