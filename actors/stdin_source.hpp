#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "parse/log_format.hpp"

namespace vigil {

struct stdin_source_config {
  std::string name;
  int fd = 0;  ///< standard input; tests pass a pipe
  log_format format = log_format::auto_detect;
  size_t max_line_bytes = 64 * 1024;
  size_t chunk_bytes = 1u << 20;
  /// The parse stages, chunk `sequence` to stage `sequence % size()`.
  std::vector<parse_stage_actor> next;
  size_t credit = 4;  ///< chunks in flight at most
};

/// Spawns a source on its own thread that reads lines from a file
/// descriptor (standard input) until it closes, handing them on as they
/// arrive: a read returns what the pipe holds, so a line piped in reaches
/// the pipeline at once, not when a chunk fills. A partial last line waits
/// for its newline (or the end); lines over the cap are cut and counted.
/// `run` replies once the input closed and everything went through.
source_actor spawn_stdin_source(caf::actor_system& sys, const stdin_source_config& cfg);

} // namespace vigil
