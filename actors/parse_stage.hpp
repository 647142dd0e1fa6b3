#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "clean/duplicate_filter.hpp"
#include "parse/line_parser.hpp"

namespace vigil {

/// What the parse stages of one source dropped, added up over all of
/// them (a source has several): the totals are logged once per source,
/// when the last stage lets go of them.
struct dropped_lines {
  explicit dropped_lines(std::string source_name) : source(std::move(source_name)) {}
  ~dropped_lines();
  std::string source;
  std::atomic<uint64_t> malformed{0};
  std::atomic<uint64_t> duplicates{0};
};

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
  /// Shared by the source's parse stages (null: one of this stage's own).
  std::shared_ptr<dropped_lines> dropped;
};

/// Spawns the stage that parses a source's chunks, cleans the events
/// (method and protocol upper-cased, duplicates within the horizon
/// dropped), turns malformed lines into quarantine records with their
/// reason, and hands the batch on (see `parse_stage_actor`).
parse_stage_actor spawn_parse_stage(caf::actor_system& sys, const parse_stage_config& cfg);

} // namespace vigil
