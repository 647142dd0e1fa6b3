#pragma once

#include <CLI/App.hpp>

namespace vigil {

/// Registers `vigil analyze` on `app`; the callback sets `exit_code`.
void add_analyze_command(CLI::App& app, int& exit_code);

} // namespace vigil
