#pragma once

#include <CLI/App.hpp>

namespace vigil {

/// Registers `vigil state inspect` on `app`; the callback sets `exit_code`.
void add_state_command(CLI::App& app, int& exit_code);

} // namespace vigil
