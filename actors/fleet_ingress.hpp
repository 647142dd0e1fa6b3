#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/event_codec.hpp"
#include "messages/interfaces.hpp"

namespace vigil {

class node_link;
class fleet_tally;

struct fleet_ingress_config {
  std::shared_ptr<node_link> link;
  uint64_t epoch = 0;
  window_stage_actor windows;
  /// Every agent stream ("AGENT/SOURCE") the windows align barriers over.
  std::vector<std::string> streams;
  decode_limits limits;
  /// Called (from the actor's thread) when a stream can no longer be
  /// trusted in this session: a batch missing, or one that does not
  /// decode. The node rolls back to its last complete checkpoint.
  std::function<void(const std::string& why)> lost;
  /// Called once every stream sent its last batch (`--once`).
  std::function<void()> all_ended;
  /// Where each agent's batches are counted (null: nowhere).
  std::shared_ptr<fleet_tally> fleet;
};

/// Spawns the aggregator's ingress (see `fleet_ingress_actor`).
fleet_ingress_actor spawn_fleet_ingress(caf::actor_system& sys, const fleet_ingress_config& cfg);

} // namespace vigil
