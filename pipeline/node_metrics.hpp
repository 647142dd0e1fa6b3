#pragma once

#include <memory>

namespace vigil {

class metrics_registry;
struct node_counters;

/// Which of a node's series it has: a single node all of them, an agent
/// its sources (and their parse stages and lookups), an aggregator its
/// pipeline (windows, alerts, checkpoints, sinks and their stages).
struct node_metric_parts {
  bool sources = true;
  bool pipeline = true;
};

/// Declares the node's series (`vigil_source_*`, `vigil_window_*`,
/// `vigil_stage_*`, `vigil_checkpoint_*`, `vigil_sink_*`, ...) with their
/// help, and sets them from `counters` before every render of `registry`.
void add_node_metrics(metrics_registry& registry, std::shared_ptr<const node_counters> counters,
                      node_metric_parts parts = {});

} // namespace vigil
