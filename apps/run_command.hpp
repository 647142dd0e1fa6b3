#pragma once

#include <CLI/App.hpp>

namespace vigil {

/// Registers `vigil run` on `app`; the callback sets `exit_code`.
void add_run_command(CLI::App& app, int& exit_code);

} // namespace vigil
