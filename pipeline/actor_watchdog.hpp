#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

namespace vigil {

/// Watches a node's actors. One that stops for any reason but a shutdown
/// (an exception escaped its handler: a thread that could not be started,
/// a library that threw) ends the process with exit 1 and says which,
/// instead of leaving the others waiting for it for ever. Nothing is lost:
/// the node's state is its last checkpoint, and a restart resumes there.
/// The watchdog lives while its handle does (an actor no handle refers to
/// is let go by CAF): keep it until the pipeline stops.
[[nodiscard]] caf::actor watch_actors(caf::actor_system& sys, std::vector<caf::actor> actors, std::string node);

} // namespace vigil
