#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigil {

/// FNV-1a, 64 bits: the same value in every process and on every machine.
/// Use it for anything persisted, sent or compared across runs (alert ids,
/// file fingerprints); `string_hash` is seeded per process and is only for
/// in-memory tables.
constexpr uint64_t stable_hash(std::string_view bytes) noexcept {
  uint64_t h = 1469598103934665603ull;
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

} // namespace vigil
