#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace vigil {

struct line_sink_config {
  std::string name;  ///< the [[sink]]'s name, for errors
  std::string path;  ///< a file to append to; "" writes to stdout
};

/// Spawns a sink that appends lines to a file (created with its directory)
/// or stdout. Write errors are logged and counted, never fatal.
line_sink_actor spawn_line_sink(caf::actor_system& sys, const line_sink_config& cfg);

} // namespace vigil
