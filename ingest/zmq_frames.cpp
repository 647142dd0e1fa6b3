#include "ingest/zmq_frames.hpp"

#include <nlohmann/json.hpp>

namespace vigil {

namespace {

void append_json(std::string& lines, const nlohmann::json& value) {
  // Invalid UTF-8 in a msgpack string is replaced, not a reason to lose the event.
  lines += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  lines += '\n';
}

} // namespace

frame_result append_frame_lines(std::string_view message, frame_encoding encoding, uint64_t max_bytes,
                                std::string& lines, uint64_t& events) {
  if (message.size() > max_bytes) {
    lines += "<zmq message of " + std::to_string(message.size()) + " bytes, over max_frame_bytes (" +
             std::to_string(max_bytes) + "): not read>\n";
    ++events;
    return frame_result::too_large;
  }
  if (encoding == frame_encoding::json) {
    for (size_t pos = 0; pos < message.size();) {
      size_t end = message.find('\n', pos);
      if (end == std::string_view::npos) end = message.size();
      if (end > pos && !(end == pos + 1 && message[pos] == '\r')) ++events;
      pos = end + 1;
    }
    lines.append(message);
    if (!message.empty() && message.back() != '\n') lines += '\n';
    return frame_result::taken;
  }
  const auto* first = reinterpret_cast<const uint8_t*>(message.data());
  auto value = nlohmann::json::from_msgpack(first, first + message.size(), /*strict=*/true,
                                            /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    lines += "<zmq message of " + std::to_string(message.size()) + " bytes: not one msgpack value>\n";
    ++events;
    return frame_result::bad;
  }
  if (value.is_array()) {
    // A batch: each element is an event (one that is not a map is
    // quarantined by the schema as not a JSON object).
    for (const auto& element : value) {
      append_json(lines, element);
      ++events;
    }
    return frame_result::taken;
  }
  append_json(lines, value);
  ++events;
  return frame_result::taken;
}

} // namespace vigil
