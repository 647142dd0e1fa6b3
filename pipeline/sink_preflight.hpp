#pragma once

#include <string>

#include "settings/config.hpp"

namespace vigil {

/// Opens every file sink of `cfg` for appending (creating its directory),
/// as the sink will, before any input is read: a sink that cannot open is
/// a start-up failure, not alerts lost while the run goes on. False, with
/// `error` naming the sink, the path and the reason, on the first failure.
bool sinks_can_open(const vigil_config& cfg, std::string& error);

} // namespace vigil
