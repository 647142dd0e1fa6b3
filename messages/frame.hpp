#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace vigil {

/// What a node-to-node frame carries (the header's type byte). The body
/// of each is msgpack, decoded by the codec of that message.
enum class frame_type : uint8_t {
  hello = 1,        ///< a node introduces itself: name, role, protocol
  heartbeat = 2,    ///< liveness, both ways
  partials = 3,     ///< mergeable window partials (counts, sketches)
  events = 4,       ///< an event batch (`event_codec`)
  barrier = 5,      ///< a checkpoint barrier crossing nodes
  ack = 6,          ///< an event batch taken: the sender's credit back
  resume = 7,       ///< an aggregator's session: where an agent resumes
  part = 8,         ///< an agent's checkpoint part, for the aggregator to store
  done = 9,         ///< a finite run (`--once`) is complete: agents may exit
  rollback = 10,    ///< an aggregator asks the leading one for a new session
};
std::string_view to_string(frame_type t) noexcept;

/// The framing of every node-to-node message: a fixed header, then the
/// msgpack body. Multi-byte integers are big-endian.
///
///     magic "VGLF" (4) | version (1) | type (1) | sender length (1) | sender
///     | sequence (8) | body length (4) | body
///
/// The sequence number counts the sender's frames to one peer, so a gap
/// or a repeat is visible to the receiver.
constexpr char frame_magic[4] = {'V', 'G', 'L', 'F'};
constexpr uint8_t frame_protocol_version = 1;
constexpr size_t frame_max_sender = 64;

struct frame_header {
  frame_type type = frame_type::heartbeat;
  std::string sender;  ///< node name, 1-64 bytes
  uint64_t sequence = 0;
};

/// A decoded frame; `body` points into the bytes it was decoded from.
struct frame_view {
  frame_header header;
  std::string_view body;
};

struct frame_limits {
  size_t max_frame_bytes = 64u << 20;  ///< Default: 64 MiB, header included.
};

/// The frame for `header` and `body`. Throws `std::invalid_argument` on a
/// sender name that is empty or longer than `frame_max_sender` (a bug of
/// the caller, not input) or a body over 4 GiB.
std::string encode_frame(const frame_header& header, std::string_view body);

/// Checks and splits a frame received from the network. Never throws: a
/// frame of another protocol version yields `errc::unsupported_version`,
/// one over `limits.max_frame_bytes` `errc::limit_exceeded`, anything
/// else that is not a whole frame `errc::bad_frame`; the error's context
/// says what was wrong.
caf::expected<frame_view> decode_frame(std::string_view bytes, const frame_limits& limits = {});

} // namespace vigil
