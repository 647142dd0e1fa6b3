#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vigil {

/// Access-log formats vigil reads (PRODUCT.md, "Log formats").
enum class log_format : uint8_t {
  auto_detect,  ///< sniffed from the first lines of each input
  common,       ///< Apache/nginx common log format
  combined,     ///< common + "referer" "user agent"
  combined_rt,  ///< combined + a trailing request time
  json,         ///< one JSON object a line, field names configurable
};

std::string_view to_string(log_format f) noexcept;
std::optional<log_format> log_format_from_string(std::string_view name) noexcept;

/// Picks the format most of the first non-empty lines of `sample` parse as
/// (up to 64 lines). Never returns `auto_detect`; `combined` when unsure.
log_format sniff_log_format(std::string_view sample);

} // namespace vigil
