#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace vigil {

class node_link;

struct checkpoint_relay_config {
  std::shared_ptr<node_link> link;
  std::string aggregator;
  uint64_t epoch = 0;
  /// The names of the sources `run_atom` hands over, in that order.
  std::vector<std::string> sources;
};

/// Spawns an agent's checkpoint relay (see `checkpoint_relay_actor`): the
/// agent keeps no checkpoints of its own; its parts are stored by the
/// aggregator, in the same atomic write as the aggregator's own.
checkpoint_relay_actor spawn_checkpoint_relay(caf::actor_system& sys, const checkpoint_relay_config& cfg);

} // namespace vigil
