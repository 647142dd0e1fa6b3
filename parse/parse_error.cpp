#include "parse/parse_error.hpp"

namespace vigil {

namespace {
constexpr std::array<std::string_view, parse_error_count> names = {
  "none",          "too_long",   "not_utf8",  "bad_host",  "bad_timestamp", "bad_request_line",
  "bad_status",    "bad_bytes",  "truncated", "bad_json",  "missing_field", "future_timestamp",
};
} // namespace

std::string_view to_string(parse_error e) noexcept {
  auto i = static_cast<size_t>(e);
  return i < names.size() ? names[i] : std::string_view{"unknown"};
}

std::optional<parse_error> parse_error_from_string(std::string_view name) noexcept {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<parse_error>(i);
  return std::nullopt;
}

} // namespace vigil
