#pragma once

#include <CLI/App.hpp>

namespace vigil {

/// Registers `vigil check-config` on `app`; the callback sets `exit_code`.
void add_check_config_command(CLI::App& app, int& exit_code);

} // namespace vigil
