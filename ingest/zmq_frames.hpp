#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

/// How the messages of a `type = "zmq"` source hold their events.
enum class frame_encoding : uint8_t {
  json,     ///< NDJSON text: one event a line (one or many lines a message)
  msgpack,  ///< one msgpack value: a map (one event) or an array of maps
};

/// What a message turned into.
enum class frame_result : uint8_t { taken, bad, too_large };

/// Appends the NDJSON lines of one message to `lines`. A message that is not what `encoding` says (msgpack that does
/// not decode), or is over `max_bytes`, still becomes one line, a text
/// that is not JSON naming the problem, so the pipeline quarantines it
/// with its reason and position like any malformed line: nothing is
/// dropped without a trace.
frame_result append_frame_lines(std::string_view message, frame_encoding encoding, uint64_t max_bytes,
                                std::string& lines);

} // namespace vigil
