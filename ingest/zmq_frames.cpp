#include "ingest/zmq_frames.hpp"

#include <msgpack.hpp>
#include <nlohmann/json.hpp>

namespace vigil {

namespace {

constexpr size_t max_depth = 64;
constexpr size_t max_values = 2u << 20;

/// Checks a msgpack message's shape before it is decoded: one value, nested
/// at most `max_depth` deep, at most `max_values` values. nlohmann's decoder
/// recurses per level and builds a node per value, so a hostile message
/// (16 MiB of one-element arrays, or of nils) would overflow the stack or
/// take gigabytes; msgpack-cxx's parser walks it without building anything.
struct shape_check : msgpack::null_visitor {
  size_t depth = 0, values = 0;
  const char* problem = nullptr;
  bool value() {
    if (++values <= max_values) return true;
    problem = "more than 2097152 values";
    return false;
  }
  bool open() {
    if (++depth <= max_depth) return value();
    problem = "nested more than 64 deep";
    return false;
  }
  bool visit_nil() { return value(); }
  bool visit_boolean(bool) { return value(); }
  bool visit_positive_integer(uint64_t) { return value(); }
  bool visit_negative_integer(int64_t) { return value(); }
  bool visit_float32(float) { return value(); }
  bool visit_float64(double) { return value(); }
  bool visit_str(const char*, uint32_t) { return value(); }
  bool visit_bin(const char*, uint32_t) { return value(); }
  bool visit_ext(const char*, uint32_t) { return value(); }
  bool start_array(uint32_t) { return open(); }
  bool end_array() { --depth; return true; }
  bool start_map(uint32_t) { return open(); }
  bool end_map() { --depth; return true; }
};

/// Why `message` is not one msgpack value of a shape we decode ("" when it is).
std::string msgpack_problem(std::string_view message) {
  shape_check check;
  size_t offset = 0;
  bool ok = false;
  try {
    ok = msgpack::parse(message.data(), message.size(), offset, check);
  } catch (const std::exception&) {
    ok = false;
  }
  if (check.problem) return check.problem;
  if (!ok || offset != message.size()) return "not one msgpack value";
  return "";
}

void append_json(std::string& lines, const nlohmann::json& value) {
  // Invalid UTF-8 in a msgpack string is replaced, not a reason to lose the event.
  lines += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  lines += '\n';
}

} // namespace

frame_result append_frame_lines(std::string_view message, frame_encoding encoding, uint64_t max_bytes,
                                std::string& lines) {
  if (message.size() > max_bytes) {
    lines += "<zmq message of " + std::to_string(message.size()) + " bytes, over max_frame_bytes (" +
             std::to_string(max_bytes) + "): not read>\n";
    return frame_result::too_large;
  }
  if (encoding == frame_encoding::json) {
    lines.append(message);
    if (!message.empty() && message.back() != '\n') lines += '\n';
    return frame_result::taken;
  }
  std::string problem = msgpack_problem(message);
  nlohmann::json value;
  if (problem.empty()) {
    const auto* first = reinterpret_cast<const uint8_t*>(message.data());
    value = nlohmann::json::from_msgpack(first, first + message.size(), /*strict=*/true, /*allow_exceptions=*/false);
    if (value.is_discarded()) problem = "not one msgpack value";
  }
  if (!problem.empty()) {
    lines += "<zmq message of " + std::to_string(message.size()) + " bytes: " + problem + ">\n";
    return frame_result::bad;
  }
  if (value.is_array()) {
    // A batch: each element is an event (one that is not a map is
    // quarantined by the schema as not a JSON object).
    for (const auto& element : value) append_json(lines, element);
    return frame_result::taken;
  }
  append_json(lines, value);
  return frame_result::taken;
}

} // namespace vigil
