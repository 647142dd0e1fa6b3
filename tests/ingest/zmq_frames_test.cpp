#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ingest/zmq_frames.hpp"

using namespace vigil;
using nlohmann::json;

namespace {

std::string msgpack_of(const json& value) {
  const auto bytes = json::to_msgpack(value);
  return std::string(bytes.begin(), bytes.end());
}

} // namespace

TEST_CASE("zmq frames: NDJSON messages pass as lines, one or many, with the last newline added") {
  std::string lines;
  CHECK(append_frame_lines("{\"id\":1}\n{\"id\":2}\n", frame_encoding::json, 1024, lines) == frame_result::taken);
  CHECK(append_frame_lines("{\"id\":3}", frame_encoding::json, 1024, lines) == frame_result::taken);
  CHECK(lines == "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
}

TEST_CASE("zmq frames: a msgpack map is one event, an array of maps a batch, each a JSON line") {
  std::string lines;
  CHECK(append_frame_lines(msgpack_of({{"id", "a"}, {"n", 1}}), frame_encoding::msgpack, 1024, lines)
        == frame_result::taken);
  CHECK(append_frame_lines(msgpack_of(json::array({{{"id", "b"}}, {{"id", "c"}, {"price", 12.5}}})),
                           frame_encoding::msgpack, 1024, lines) == frame_result::taken);
  CHECK(lines == "{\"id\":\"a\",\"n\":1}\n{\"id\":\"b\"}\n{\"id\":\"c\",\"price\":12.5}\n");
}

TEST_CASE("zmq frames: bad msgpack and oversized messages become one non-JSON line naming the problem") {
  std::string lines;
  // 0xc1 is the one byte msgpack never uses; a map cut short is truncated.
  CHECK(append_frame_lines("\xc1", frame_encoding::msgpack, 1024, lines) == frame_result::bad);
  const std::string whole = msgpack_of({{"id", "a"}, {"n", 1}});
  CHECK(append_frame_lines(whole.substr(0, whole.size() - 1), frame_encoding::msgpack, 1024, lines)
        == frame_result::bad);
  CHECK(append_frame_lines(whole + whole, frame_encoding::msgpack, 1024, lines) == frame_result::bad);
  CHECK(append_frame_lines(std::string(2000, 'x'), frame_encoding::json, 1024, lines)
        == frame_result::too_large);
  CHECK(lines == "<zmq message of 1 bytes: not one msgpack value>\n"
                 "<zmq message of " + std::to_string(whole.size() - 1) + " bytes: not one msgpack value>\n"
                 "<zmq message of " + std::to_string(2 * whole.size()) + " bytes: not one msgpack value>\n"
                 "<zmq message of 2000 bytes, over max_frame_bytes (1024): not read>\n");
  for (size_t at = 0, end; (end = lines.find('\n', at)) != std::string::npos; at = end + 1)
    CHECK(json::accept(lines.substr(at, end - at)) == false);  // quarantined by the schema as bad_json
}

TEST_CASE("zmq frames: invalid UTF-8 in a msgpack string is replaced, the event kept") {
  std::string lines;
  // fixmap(1) "id" -> fixstr(2) 0xff 0xfe
  const std::string bytes = "\x81\xa2id\xa2\xff\xfe";
  CHECK(append_frame_lines(bytes, frame_encoding::msgpack, 1024, lines) == frame_result::taken);
  CHECK(json::parse(lines).at("id").get<std::string>() == "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("zmq frames: hostile msgpack (nested a million deep, millions of values) is refused, not decoded") {
  std::string lines;
  const std::string deep(1u << 20, '\x91');  // fixarray(1), a million times, never closed by a value
  CHECK(append_frame_lines(deep + "\xc0", frame_encoding::msgpack, 16u << 20, lines) == frame_result::bad);
  CHECK(lines == "<zmq message of " + std::to_string(deep.size() + 1) + " bytes: nested more than 64 deep>\n");
  lines.clear();
  // array32 of 3M nils: 3 MB of message, which nlohmann would make 48 MB of nodes.
  std::string many = "\xdd";
  const uint32_t n = 3u << 20;
  for (int shift = 24; shift >= 0; shift -= 8) many += static_cast<char>((n >> shift) & 0xff);
  many += std::string(n, '\xc0');
  CHECK(append_frame_lines(many, frame_encoding::msgpack, 16u << 20, lines) == frame_result::bad);
  CHECK(lines == "<zmq message of " + std::to_string(many.size()) + " bytes: more than 2097152 values>\n");
  // 64 deep is fine.
  lines.clear();
  std::string ok(63, '\x91');
  ok += "\x81\xa2id\x01";  // {"id": 1} at depth 64
  CHECK(append_frame_lines(ok, frame_encoding::msgpack, 1024, lines) == frame_result::taken);
}
