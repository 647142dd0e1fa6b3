#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vigil {

/// Parses "4096", "512B", "100KB", "100MB", "2GB" (powers of 1000) and
/// "64KiB", "100MiB", "1GiB" (powers of 1024): one whole number, one
/// suffix. Returns nullopt for anything else, or a size past 2^62.
std::optional<uint64_t> parse_byte_size(std::string_view text);

} // namespace vigil
