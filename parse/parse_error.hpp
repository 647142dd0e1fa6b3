#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vigil {

/// Why a line was quarantined. Stable names: they appear in reports,
/// quarantine files and metrics.
enum class parse_error : uint8_t {
  none = 0,
  too_long,          ///< longer than the configured line limit
  not_utf8,          ///< invalid UTF-8 (binary garbage, wrong encoding)
  bad_host,          ///< no client field
  bad_timestamp,     ///< missing, malformed or out-of-range time
  bad_request_line,  ///< request is not "METHOD target [protocol]"
  bad_status,        ///< status is not a number in 100..599
  bad_bytes,         ///< size is neither a number nor "-"
  truncated,         ///< the line ends before its required fields
  bad_json,          ///< not a JSON object
  missing_field,     ///< a required JSON field is absent or of the wrong type
  future_timestamp,  ///< later than the arrival clock allows (a source's max_future)
};

constexpr size_t parse_error_count = 12;

std::string_view to_string(parse_error e) noexcept;
std::optional<parse_error> parse_error_from_string(std::string_view name) noexcept;

/// Per-reason counters, indexed by `parse_error`.
using parse_error_counts = std::array<uint64_t, parse_error_count>;

} // namespace vigil
