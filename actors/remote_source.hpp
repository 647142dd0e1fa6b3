#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace vigil {

class node_link;

struct remote_source_config {
  std::shared_ptr<node_link> link;
  std::string agent;   ///< the node that reads the source
  std::string source;  ///< its name on that node
  uint64_t epoch = 0;
};

/// The aggregator's stream name for an agent's source: "AGENT/SOURCE".
std::string stream_name(const std::string& agent, const std::string& source);

/// Spawns the stand-in of one agent source (see `remote_source_actor`).
remote_source_actor spawn_remote_source(caf::actor_system& sys, const remote_source_config& cfg);

} // namespace vigil
