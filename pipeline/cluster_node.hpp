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
// The first aggregator in the config leads the fleet. Each run of its
// pipeline from a checkpoint is a session with a fresh random id (the
// epoch); it tells every agent and every other aggregator to join it
// (resume), with where each agent reads from: the agent's parts of the
// leader's last complete checkpoint. Agents keep no state of their own:
// their read positions (and dedup filters) are parts of the leader's
// checkpoints, written in the same atomic batch as its windows. Every other
// aggregator (a follower) stores its own windows, rules, alerts and sink
// lengths for each checkpoint in its own store and tells the leader, whose
// checkpoint is complete only once every follower's part is in.
//
// Keys: each aggregator keeps the groups of keyed windows that hash to it,
// and the leader the whole-stream windows (window/partition.hpp). Agents
// send every batch to every aggregator, each with its share.
//
// Exactly once: when an aggregator restarts or was unreachable, an agent
// restarts, or a batch goes missing, the leader rolls back to its last
// complete checkpoint (sinks cut back, windows restored) and starts a new
// session; each follower loads exactly that checkpoint, and every agent
// rebuilds its pipeline from its parts of it. The fleet then replays, at
// most, what came after it.

struct cluster_run_options {
  /// Agents read their sources to the end and say so; the aggregators then
  /// close every window, the leader tells the others, and every node exits.
  bool once = false;
  /// Heartbeats: how often, and the silence after which a peer is down.
  std::chrono::milliseconds heartbeat{500};
  std::chrono::milliseconds down_after{3000};
};

/// Runs agent `cfg.node.name` (the node's view of the cluster config)
/// until SIGINT/SIGTERM (blocked by the caller), or the leader's done.
/// Returns an exit code (0, 1 runtime, 2 config).
int run_agent(const vigil_config& cfg, const cluster_run_options& opts);

/// Runs aggregator `cfg.node.name`, leading or following; `agents` are the
/// views of every agent node (their sources).
int run_aggregator(const vigil_config& cfg, const std::vector<vigil_config>& agents, const cluster_run_options& opts);

/// The link of node `self`, with `peers` (names) of `cluster`. Throws
/// `std::runtime_error` (key file, bind) with what failed.
std::shared_ptr<node_link> open_node_link(const cluster_config& cluster, const std::string& self,
                                          const std::vector<std::string>& peers);

/// A random, non-zero id (sessions, agent processes).
uint64_t random_id();

} // namespace vigil
