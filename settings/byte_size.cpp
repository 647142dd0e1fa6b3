#include "settings/byte_size.hpp"

#include <charconv>
#include <utility>

namespace vigil {

std::optional<uint64_t> parse_byte_size(std::string_view text) {
  uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  static constexpr std::pair<std::string_view, uint64_t> units[] = {
    {"", 1},           {"B", 1},
    {"KB", 1000},      {"MB", 1000 * 1000},      {"GB", 1000ull * 1000 * 1000},
    {"KiB", 1ull << 10}, {"MiB", 1ull << 20},    {"GiB", 1ull << 30},
  };
  for (const auto& [name, scale] : units)
    if (unit == name) {
      if (number > (1ull << 62) / scale) return std::nullopt;
      return number * scale;
    }
  return std::nullopt;
}

} // namespace vigil
