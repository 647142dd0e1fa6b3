#pragma once

#include <string>

#include "settings/config.hpp"

namespace vigil {

struct live_run_options {
  /// Read the sources to their end, close every window and return, instead
  /// of following the files until a signal.
  bool once = false;
};

/// Runs the node the config describes: file sources -> parse -> windows and
/// rules -> sinks. Without `once`, runs until SIGINT or SIGTERM (which the
/// caller must have blocked in every thread), then stops the sources,
/// drains and flushes. Returns an exit code (0, 1 runtime, 2 config).
int run_live(const vigil_config& cfg, const live_run_options& opts);

} // namespace vigil
