#pragma once

#include <atomic>

#include <functional>
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/window_stage.hpp"
#include "alerting/alert_router.hpp"
#include "messages/interfaces.hpp"
#include "pipeline/recovery.hpp"
#include "settings/config.hpp"
#include "signature/signature_matcher.hpp"

namespace vigil {

class dimension_tables;
class lookup_table;
template <class Table>
class watched_tables;
using lookup_tables = watched_tables<lookup_table>;
struct node_counters;
class stage_tallies;
class source_tallies;
class state_store;

/// What of the config the window stage and the alert stage need before
/// anything runs: recovery checks a checkpoint against it.
struct stage_plan {
  window_stage_config windows;
  std::vector<alert_output> alert_outputs;
};
stage_plan plan_stages(const vigil_config& cfg);

/// The stages after the sources, spawned.
struct node_stages {
  checkpoint_coordinator_actor coordinator;
  window_stage_actor windows;
  bool has_quarantine = false;
  bool has_attack_sinks = false;  ///< the enrich stages write attack lines
  /// The lines the record sinks take, in the window stage's order: what
  /// the node's parse stages format for them (source_inputs).
  std::vector<record_line_format> record_formats;
  std::vector<caf::actor> all;  ///< to stop at the end
};

/// How the checkpoint coordinator runs (checkpoint_coordinator_config):
/// on a timer, or following the fleet's leading aggregator.
struct stage_options {
  bool follows = false;
  std::function<void(uint64_t id)> stored;
  /// The state store keeps failing to write checkpoints (see
  /// checkpoint_coordinator_config::store_failed).
  std::function<void(const std::string& error)> store_failed;
  /// Where the stages count, for the node's HTTP port (null: nowhere).
  std::shared_ptr<const node_counters> counters;
  /// Set while checkpoints cannot be written for want of space: the
  /// sources read nothing until one is (null: no such pause).
  std::shared_ptr<std::atomic<bool>> intake_paused;
};

/// Spawns the checkpoint coordinator, the sinks (cut back to the
/// checkpoint), and the alert, detect and window stages, from `recovered`.
/// The window stage aligns barriers over `cfg.sources`.
node_stages spawn_node_stages(caf::actor_system& sys, const vigil_config& cfg, stage_plan plan,
                              const std::shared_ptr<state_store>& store, const recovered_state& recovered,
                              const stage_options& options = {});

/// What a source's parse-and-enrich chains hand their batches to, and
/// where it resumes.
struct source_inputs {
  std::shared_ptr<const signature_matcher> signatures;
  std::shared_ptr<dimension_tables> dimensions;  ///< the node's, loaded once
  window_stage_actor next;       ///< the window stage, or an agent's uplink
  bool quarantine = false;       ///< malformed lines ride in the batches
  checkpoint_coordinator_actor coordinator;
  const recovered_state& recovered;
  std::shared_ptr<source_tallies> tallies = nullptr;  ///< null: each source counts alone
  /// The ETL job: the config (schemas, transforms, lookups) and the node's
  /// lookup tables, loaded once.
  const vigil_config* config = nullptr;
  std::shared_ptr<lookup_tables> lookups = nullptr;
  /// An http or zmq source was spawned: the node starts its server or socket.
  std::function<void(const source_config&, const push_source_actor&)> on_push = nullptr;
  /// The node's record sinks (node_stages::record_formats): the parse
  /// stages format the records' lines for them. None on an agent: its
  /// aggregator formats what it writes.
  std::vector<record_line_format> record_formats = {};
  /// Where the parse and enrich stages count (null: nowhere).
  std::shared_ptr<stage_tallies> stages = nullptr;
  /// The node has attacks sinks: the enrich stages write attack lines.
  bool attacks = false;
  /// Set while the state store is full: file sources read nothing and push
  /// sources answer "unavailable" (null: never).
  std::shared_ptr<const std::atomic<bool>> intake_paused = nullptr;
};

/// Spawns one [[source]] (file, stdin, http or zmq) with its parse and enrich
/// stages; every actor spawned is added to `all`.
source_actor spawn_source(caf::actor_system& sys, const source_config& s, const source_inputs& in,
                          std::vector<caf::actor>& all);

} // namespace vigil
