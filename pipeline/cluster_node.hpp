#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "settings/config.hpp"
#include "transport/node_link.hpp"

namespace vigil {

// vigil run on a node of a cluster config.
//
// The aggregator drives the fleet. Each run of its pipeline from a
// checkpoint is a session with a fresh random id (the epoch); it tells every
// agent to join it (resume), with where the agent reads from: the agent's
// parts of the aggregator's last complete checkpoint. Agents keep no state
// of their own: their read positions (and dedup filters) are parts of the
// aggregator's checkpoints, written in the same atomic batch as its windows,
// so a checkpoint is complete only once every node's part is in.
//
// Exactly once: when the aggregator restarts, or an agent restarts, or a
// batch goes missing, the aggregator rolls back to its last complete
// checkpoint (sinks cut back, windows restored) and starts a new session;
// every agent rebuilds its pipeline from its parts of that checkpoint. The
// fleet then replays, at most, what came after it.

struct cluster_run_options {
  /// Agents read their sources to the end and say so; the aggregator then
  /// closes every window, tells the agents, and every node exits.
  bool once = false;
  /// Heartbeats: how often, and the silence after which a peer is down.
  std::chrono::milliseconds heartbeat{500};
  std::chrono::milliseconds down_after{3000};
};

/// Runs agent `cfg.node.name` (the node's view of the cluster config)
/// until SIGINT/SIGTERM (blocked by the caller), or the aggregator's done.
/// Returns an exit code (0, 1 runtime, 2 config).
int run_agent(const vigil_config& cfg, const cluster_run_options& opts);

/// Runs aggregator `cfg.node.name`; `agents` are the views of every agent
/// node (their sources).
int run_aggregator(const vigil_config& cfg, const std::vector<vigil_config>& agents, const cluster_run_options& opts);

/// The link of node `self`, with `peers` (names) of `cluster`. Throws
/// `std::runtime_error` (key file, bind) with what failed.
std::shared_ptr<node_link> open_node_link(const cluster_config& cluster, const std::string& self,
                                          const std::vector<std::string>& peers);

/// A random, non-zero id (sessions, agent processes).
uint64_t random_id();

} // namespace vigil
