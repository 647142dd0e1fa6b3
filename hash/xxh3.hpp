#pragma once

#include <cstdint>
#include <string_view>

#include <xxhash.h>

namespace vigil {

/// XXH3, 64 bits: fast and the same in every process and on every machine,
/// so what is built from it (distinct-count sketches) can be checkpointed
/// and merged across nodes. `string_hash` is seeded per process.
inline uint64_t xxh3(std::string_view bytes, uint64_t seed = 0) noexcept {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

} // namespace vigil
