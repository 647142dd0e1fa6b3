#pragma once

#include <cstddef>

namespace vigil {

/// Objects a decoded frame may hold. msgpack-cxx makes a 16-byte object
/// for every element, so a body of one-byte elements (a nesting bomb of
/// nils) would take 16 times its size: 56 MB frames took an aggregator to
/// 2 GB. The largest real bodies (an agent's partial groups, a batch of
/// events) hold a few million; this is more than that and bounds a decode
/// to about 128 MiB of objects.
inline constexpr size_t max_frame_objects = 8u << 20;

/// Whether the msgpack value at `data` holds at most `budget` objects,
/// counted in one pass that allocates nothing (before it is unpacked).
/// Bytes that are not msgpack pass: the unpack that follows says what is
/// wrong with them.
bool within_object_budget(const char* data, size_t size, size_t budget = max_frame_objects);

} // namespace vigil
