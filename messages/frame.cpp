#include "messages/frame.hpp"

#include <cstring>
#include <stdexcept>

#include "messages/errc.hpp"

namespace vigil {

namespace {

constexpr size_t fixed_header = sizeof(frame_magic) + 3;  // magic, version, type, sender length
constexpr size_t fixed_trailer = 8 + 4;                    // sequence, body length

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

bool known(uint8_t type) {
  return type >= static_cast<uint8_t>(frame_type::hello) && type <= static_cast<uint8_t>(frame_type::rollback);
}

caf::error fail(errc code, std::string what) { return caf::make_error(code, std::move(what)); }

} // namespace

std::string_view to_string(frame_type t) noexcept {
  switch (t) {
    case frame_type::hello: return "hello";
    case frame_type::heartbeat: return "heartbeat";
    case frame_type::partials: return "partials";
    case frame_type::events: return "events";
    case frame_type::barrier: return "barrier";
    case frame_type::ack: return "ack";
    case frame_type::resume: return "resume";
    case frame_type::part: return "part";
    case frame_type::done: return "done";
    case frame_type::rollback: return "rollback";
  }
  return "unknown";
}

std::string encode_frame(const frame_header& header, std::string_view body) {
  if (header.sender.empty() || header.sender.size() > frame_max_sender)
    throw std::invalid_argument("frame sender must be 1-64 bytes, not " + std::to_string(header.sender.size()));
  if (body.size() > UINT32_MAX) throw std::invalid_argument("frame body over 4 GiB");
  std::string out;
  out.reserve(fixed_header + header.sender.size() + fixed_trailer + body.size());
  out.append(frame_magic, sizeof(frame_magic));
  out.push_back(static_cast<char>(frame_protocol_version));
  out.push_back(static_cast<char>(header.type));
  out.push_back(static_cast<char>(header.sender.size()));
  out.append(header.sender);
  put_be(out, header.sequence, 8);
  put_be(out, body.size(), 4);
  out.append(body);
  return out;
}

caf::expected<frame_view> decode_frame(std::string_view bytes, const frame_limits& limits) {
  if (bytes.size() > limits.max_frame_bytes)
    return fail(errc::limit_exceeded, "frame of " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                                        std::to_string(limits.max_frame_bytes));
  if (bytes.size() < fixed_header || std::memcmp(bytes.data(), frame_magic, sizeof(frame_magic)) != 0)
    return fail(errc::bad_frame, "not a vigil frame (no magic)");
  const auto version = static_cast<uint8_t>(bytes[4]);
  if (version != frame_protocol_version)
    return fail(errc::unsupported_version, "frame protocol version " + std::to_string(version) +
                                             ", this node speaks " + std::to_string(frame_protocol_version));
  const auto type = static_cast<uint8_t>(bytes[5]);
  if (!known(type)) return fail(errc::bad_frame, "unknown frame type " + std::to_string(type));
  const size_t sender_length = static_cast<uint8_t>(bytes[6]);
  if (sender_length == 0 || sender_length > frame_max_sender)
    return fail(errc::bad_frame, "sender name of " + std::to_string(sender_length) + " bytes");
  if (bytes.size() < fixed_header + sender_length + fixed_trailer)
    return fail(errc::bad_frame, "frame cut short in its header");
  frame_view f;
  f.header.type = static_cast<frame_type>(type);
  f.header.sender.assign(bytes.data() + fixed_header, sender_length);
  const char* p = bytes.data() + fixed_header + sender_length;
  f.header.sequence = get_be(p, 8);
  const uint64_t body_length = get_be(p + 8, 4);
  const size_t body_at = fixed_header + sender_length + fixed_trailer;
  if (body_length != bytes.size() - body_at)
    return fail(errc::bad_frame, "body length " + std::to_string(body_length) + " but " +
                                   std::to_string(bytes.size() - body_at) + " bytes follow the header");
  f.body = bytes.substr(body_at);
  return f;
}

} // namespace vigil
