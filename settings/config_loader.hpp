#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "settings/config.hpp"

namespace vigil {

/// One problem in a config: where, which key, what is wrong.
struct config_error {
  std::string where;    ///< "FILE:LINE:COLUMN", or "environment VIGIL_..."
  std::string key;      ///< "window[minute].size"
  std::string message;
};

/// "FILE:LINE:COLUMN: KEY: MESSAGE"
std::string to_string(const config_error& e);

struct config_load_options {
  /// The overlay `[environment.NAME]` to apply; "" for none.
  std::string environment;
  /// Overrides as VIGIL_NODE_HTTP=..., VIGIL_WINDOW_MINUTE_SIZE=... (the
  /// process environment, passed in so tests can give their own). Only the
  /// prefixes VIGIL_NODE_, VIGIL_SOURCE_, VIGIL_WINDOW_, VIGIL_RULE_ and
  /// VIGIL_SINK_ are overrides; other VIGIL_* variables are ignored.
  std::vector<std::pair<std::string, std::string>> variables;
  /// The node to load: in a cluster config, the `[[cluster.node]]` of this
  /// name (required to run one); in a single-node config, overrides
  /// node.name. "" with a cluster config: every node is checked, and the
  /// first one's config is returned.
  std::string node;
};

struct config_load_result {
  std::optional<vigil_config> config;  ///< set when there are no errors
  std::vector<config_error> errors;    ///< every problem found, in file order
  /// A cluster config loaded with `node`: every other node's view, in the
  /// order of the file (an aggregator reads its agents' sources here).
  std::vector<vigil_config> peers;
};

/// Reads, overlays, overrides and validates the config at `path`.
config_load_result load_config(const std::string& path, const config_load_options& opts = {});

/// The same for config text (named `name` in errors).
config_load_result load_config_text(const std::string& text, const std::string& name,
                                    const config_load_options& opts = {});

/// The VIGIL_* variables of this process, except VIGIL_ENV.
std::vector<std::pair<std::string, std::string>> vigil_environment_variables();

/// Load options as every command takes them: the overlay named by
/// `environment`, else by $VIGIL_ENV, and this process's VIGIL_* overrides.
config_load_options options_from_process(const std::string& environment);

} // namespace vigil
