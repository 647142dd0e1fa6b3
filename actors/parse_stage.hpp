#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "clean/duplicate_filter.hpp"
#include "parse/line_parser.hpp"

namespace vigil {

struct parse_stage_config {
  std::string source;        ///< the [[source]] name, for records and logs
  parser_options parser;
  int64_t dedup_horizon_ms = 0;  ///< 0: keep duplicate lines
  enrich_stage_actor next;
  /// Whether the node has a quarantine sink: malformed lines then ride in
  /// their batch as records (`event_batch::quarantined`); else they are
  /// only counted.
  bool quarantine = false;
  /// Checkpoints, with a dedup horizon: where the filter's state goes when
  /// a barrier passes (participant "dedup:SOURCE"), and the filter to start
  /// from (null: an empty one).
  checkpoint_coordinator_actor coordinator;
  std::shared_ptr<duplicate_filter> restored_filter;
};

/// Spawns the stage that parses a source's chunks, cleans the events
/// (method and protocol upper-cased, duplicates within the horizon
/// dropped), turns malformed lines into quarantine records with their
/// reason, and hands the batch on (see `parse_stage_actor`).
parse_stage_actor spawn_parse_stage(caf::actor_system& sys, const parse_stage_config& cfg);

} // namespace vigil
