#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "parse/line_parser.hpp"
#include "signature/signature_matcher.hpp"

namespace vigil {

struct parse_stage_config {
  parser_options parser;
  std::shared_ptr<const signature_matcher> signatures;
  window_stage_actor next;
};

/// Spawns the stage that parses a source's chunks, tags each event with its
/// signature classes, and hands the batch on (see `parse_stage_actor`).
parse_stage_actor spawn_parse_stage(caf::actor_system& sys, const parse_stage_config& cfg);

} // namespace vigil
