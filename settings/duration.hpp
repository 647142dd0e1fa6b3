#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

using duration_ms = std::chrono::milliseconds;

/// Parses "250ms", "10s", "1m", "2h", "1d" (one number, one suffix).
/// Returns nullopt for anything else, negative values included.
std::optional<duration_ms> parse_duration(std::string_view text);

/// The shortest exact spelling: 60000 ms -> "1m", 1500 ms -> "1500ms".
std::string format_duration(duration_ms d);

} // namespace vigil
