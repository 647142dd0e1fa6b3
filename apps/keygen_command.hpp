#pragma once

#include <CLI/App.hpp>

namespace vigil {

/// Registers `vigil keygen` on `app`; the callback sets `exit_code`.
void add_keygen_command(CLI::App& app, int& exit_code);

} // namespace vigil
