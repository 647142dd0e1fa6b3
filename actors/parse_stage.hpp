#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "parse/line_parser.hpp"

namespace vigil {

struct parse_stage_config {
  std::string source;        ///< the [[source]] name, for records and logs
  parser_options parser;
  int64_t dedup_horizon_ms = 0;  ///< 0: keep duplicate lines
  enrich_stage_actor next;
  /// Where malformed lines go as JSON lines; may be null (then counted only).
  line_sink_actor quarantine;
};

/// Spawns the stage that parses a source's chunks, cleans the events
/// (method and protocol upper-cased, duplicates within the horizon
/// dropped), quarantines malformed lines with their reason, and hands the
/// batch on (see `parse_stage_actor`).
parse_stage_actor spawn_parse_stage(caf::actor_system& sys, const parse_stage_config& cfg);

} // namespace vigil
