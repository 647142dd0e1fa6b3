#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/expected.hpp>

#include "messages/event.hpp"

namespace vigil {

/// Wire format version of an encoded `event_batch`. Bump on any change to
/// the layout below; decoders refuse versions they do not know.
// 4: signature classes are 32 bits. 5: distinct counters in partials may
// carry sparse registers (sketch/distinct_counter.hpp). 6: a partial's
// group key escapes its values and separates them with NUL (and the key
// picks the aggregator): an agent of 5 would send keys an aggregator of 6
// misreads.
constexpr uint32_t event_batch_format_version = 6;

/// Bounds a decoder enforces on untrusted frames.
struct decode_limits {
  size_t max_frame_bytes = 64u << 20;   ///< Default: 64 MiB.
  size_t max_events = 1u << 20;         ///< Default: 1,048,576 events a batch.
  size_t max_string_bytes = 64u << 20;  ///< Default: 64 MiB for source and text.
};

/// Encodes a batch as a msgpack array:
/// `[version, source, sequence, text (bin), events (bin), label names,
/// labels (bin)]`; events are fixed-width little-endian records (10 scalars
/// and 10 (offset, length) pairs), labels (offset, length) pairs.
std::string encode_event_batch(const event_batch& batch);

/// Decodes and validates a frame: version, shape, types, limits, and that
/// every text reference lies inside the text. Never throws; a hostile frame
/// yields `errc::bad_frame`, `unsupported_version` or `limit_exceeded`.
caf::expected<event_batch> decode_event_batch(const char* data, size_t size,
                                              const decode_limits& limits = {});

} // namespace vigil
