#pragma once

#include <CLI/App.hpp>

namespace vigil {

/// Registers `vigil gen access` on `app`; the callback sets `exit_code`.
void add_gen_command(CLI::App& app, int& exit_code);

} // namespace vigil
