#pragma once

#include <chrono>

namespace vigil {

/// Takes a pending SIGINT or SIGTERM, waiting up to `wait` for one. They
/// are blocked in every thread (apps/run_command.cpp blocks them before any
/// starts), so only this takes them. 0: none came.
int take_stop_signal(std::chrono::milliseconds wait = std::chrono::milliseconds(0));

/// "SIGINT" or "SIGTERM".
const char* stop_signal_name(int sig) noexcept;

} // namespace vigil
