#include "settings/duration.hpp"

#include <cstdint>

namespace vigil {

std::optional<duration_ms> parse_duration(std::string_view text) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    if (n > (uint64_t{1} << 40)) return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  const std::string_view unit = text.substr(i);
  uint64_t ms_per_unit = 0;
  if (unit == "ms") ms_per_unit = 1;
  else if (unit == "s") ms_per_unit = 1000;
  else if (unit == "m") ms_per_unit = 60 * 1000;
  else if (unit == "h") ms_per_unit = 3600 * 1000;
  else if (unit == "d") ms_per_unit = 86400 * 1000;
  else return std::nullopt;
  return duration_ms{static_cast<int64_t>(n * ms_per_unit)};
}

std::string format_duration(duration_ms d) {
  const int64_t ms = d.count();
  struct unit { int64_t size; const char* suffix; };
  for (auto u : {unit{86400000, "d"}, unit{3600000, "h"}, unit{60000, "m"}, unit{1000, "s"}})
    if (ms != 0 && ms % u.size == 0) return std::to_string(ms / u.size) + u.suffix;
  return std::to_string(ms) + "ms";
}

} // namespace vigil
