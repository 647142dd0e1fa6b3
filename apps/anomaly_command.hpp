#pragma once

#include <CLI/App.hpp>

namespace vigil {

/// Registers `vigil anomaly score` on `app`; the callback sets `exit_code`.
void add_anomaly_command(CLI::App& app, int& exit_code);

} // namespace vigil
