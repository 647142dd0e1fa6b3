#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/line_sink.hpp"
#include "actors/window_stage.hpp"
#include "alerting/alert_router.hpp"
#include "clean/duplicate_filter.hpp"
#include "rules/rule_engine.hpp"
#include "settings/config.hpp"
#include "tail/file_follower.hpp"

namespace vigil {

class state_store;

/// The parts a complete checkpoint of this node holds: `source:NAME` for
/// each source, `windows`, `detect`, `alerts`, and `sink:NAME` for each file
/// sink of alerts or window results.
std::vector<std::string> checkpoint_participants(const vigil_config& cfg);

/// What of the config the state depends on (windows, rules, sources,
/// sinks), one line each: stored with the state, compared on start.
std::vector<std::string> state_config_lines(const vigil_config& cfg);

/// The state a node starts from.
struct recovered_state {
  uint64_t checkpoint = 0;  ///< 0: none, a fresh start
  std::map<std::string, std::vector<tail_position>> sources;  ///< by source name
  std::map<std::string, std::shared_ptr<duplicate_filter>> dedup;  ///< by source name, with a dedup_horizon
  /// An aggregator's parts of agent sources (type zmq), by participant
  /// ("source:AGENT/SOURCE", "dedup:AGENT/SOURCE"): handed back to the agent.
  std::map<std::string, std::string> remote_parts;
  std::shared_ptr<std::vector<window_engine>> windows;
  std::shared_ptr<std::vector<detector_bank>> detectors;  ///< with `windows`
  std::shared_ptr<rule_engine> detect;   ///< null: the detect stage makes a fresh one
  std::shared_ptr<alert_router> alerts;  ///< null: the alert stage makes a fresh one
  /// By file sink name: the checkpoint's file positions, or with no
  /// checkpoint yet, the positions the files had when the store was first used.
  std::map<std::string, sink_position> sink_positions;
};

/// Decodes a source's part ("source:NAME" read positions, "dedup:NAME"
/// filter) into `r`; parts of agent sources (type zmq) are kept as they
/// are in `r.remote_parts`. False when `part` is not a source's. Throws
/// `state_decode_error` on bytes that do not decode.
bool restore_source_part(const vigil_config& cfg, const state_part& part, recovered_state& r);

/// Checks that `store` was made with this config (or records it on a
/// fresh store), then loads the newest complete checkpoint that decodes,
/// falling back to older ones with a warning. False with `error` (a
/// message for the operator that says what changed and how to start
/// fresh) when the node must not start.
bool recover(state_store& store, const vigil_config& cfg, const window_stage_config& windows,
             const std::vector<alert_output>& alert_outputs, recovered_state& out, std::string& error);

/// An aggregator that follows the fleet's leader: loads exactly checkpoint
/// `id` (0: none, a fresh start), the one the leader completed, and drops
/// any newer one of its own. False with `error` when it cannot.
bool recover_at(state_store& store, const vigil_config& cfg, const window_stage_config& windows,
                const std::vector<alert_output>& alert_outputs, uint64_t id, recovered_state& out,
                std::string& error);

} // namespace vigil
