#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace vigil {

class node_link;

struct uplink_config {
  std::shared_ptr<node_link> link;
  std::string aggregator;  ///< the peer the batches go to
  uint64_t epoch = 0;      ///< the aggregator's session this agent joined
};

/// Spawns an agent's uplink (see `uplink_actor`).
uplink_actor spawn_uplink(caf::actor_system& sys, const uplink_config& cfg);

} // namespace vigil
