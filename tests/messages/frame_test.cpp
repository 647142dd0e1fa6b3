#include <catch2/catch.hpp>

#include <msgpack.hpp>
#include <random>
#include <string>

#include "messages/cluster_message.hpp"
#include "messages/errc.hpp"
#include "messages/event_codec.hpp"
#include "messages/object_budget.hpp"
#include "messages/frame.hpp"

using namespace vigil;

namespace {

errc code_of(const caf::error& e) { return static_cast<errc>(e.code()); }

std::string valid() { return encode_frame({frame_type::partials, "web-1", 42}, "\x93\x01\x02\x03"); }

} // namespace

TEST_CASE("a frame round-trips: type, sender, sequence and body") {
  const std::string body(100000, 'x');
  const std::string bytes = encode_frame({frame_type::events, "agent-a", 0x0102030405060708ULL}, body);
  auto f = decode_frame(bytes);
  REQUIRE(f);
  CHECK(f->header.type == frame_type::events);
  CHECK(f->header.sender == "agent-a");
  CHECK(f->header.sequence == 0x0102030405060708ULL);
  CHECK(f->body == body);
  // An empty body is a frame too (a heartbeat carries little).
  auto empty = decode_frame(encode_frame({frame_type::heartbeat, "n", 1}, ""));
  REQUIRE(empty);
  CHECK(empty->body.empty());
  CHECK_THROWS_AS(encode_frame({frame_type::hello, "", 1}, ""), std::invalid_argument);
  CHECK_THROWS_AS(encode_frame({frame_type::hello, std::string(65, 'n'), 1}, ""), std::invalid_argument);
}

TEST_CASE("frames that are not whole, of another version, or too large are refused with what is wrong") {
  SECTION("not a vigil frame") {
    auto f = decode_frame("GET / HTTP/1.1\r\n\r\n");
    REQUIRE_FALSE(f);
    CHECK(code_of(f.error()) == errc::bad_frame);
  }
  SECTION("another protocol version") {
    std::string b = valid();
    b[4] = 9;
    auto f = decode_frame(b);
    REQUIRE_FALSE(f);
    CHECK(code_of(f.error()) == errc::unsupported_version);
  }
  SECTION("over the size limit") {
    auto f = decode_frame(encode_frame({frame_type::events, "a", 1}, std::string(2000, 'x')), frame_limits{1024});
    REQUIRE_FALSE(f);
    CHECK(code_of(f.error()) == errc::limit_exceeded);
  }
  SECTION("an unknown type") {
    std::string b = valid();
    b[5] = 77;
    REQUIRE_FALSE(decode_frame(b));
  }
  SECTION("cut short anywhere, or with bytes after the body") {
    const std::string b = valid();
    for (size_t n = 0; n < b.size(); ++n) CHECK_FALSE(decode_frame(std::string_view(b).substr(0, n)));
    CHECK_FALSE(decode_frame(b + "!"));
  }
  SECTION("a sender length of 0 or past the header") {
    std::string b = valid();
    b[6] = 0;
    CHECK_FALSE(decode_frame(b));
    b[6] = static_cast<char>(200);
    CHECK_FALSE(decode_frame(b));
  }
}

TEST_CASE("random and mutated bytes never crash the decoder") {
  std::mt19937_64 rng(5);
  const std::string good = valid();
  size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string b = good;
    if (i % 2) {
      b.resize(rng() % 64);
      for (auto& c : b) c = static_cast<char>(rng());
    } else {
      for (int k = 0; k < 3; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    }
    // A mutation may leave a valid frame (a changed sequence or body
    // byte): then what was decoded must be exactly what the bytes say.
    auto f = decode_frame(b);
    if (!f) continue;
    ++accepted;
    REQUIRE(encode_frame(f->header, f->body) == b);
  }
  CHECK(accepted > 0);
  CHECK(accepted < 20000);
}

TEST_CASE("a rollback body round-trips, one of the wrong shape is refused") {
  auto m = decode_rollback(encode(rollback_message{42, "agent-1/access: batch 7 missing (got 8)"}));
  REQUIRE(m);
  CHECK(m->epoch == 42);
  CHECK(m->reason == "agent-1/access: batch 7 missing (got 8)");
  CHECK_FALSE(decode_rollback(encode(heartbeat_message{42, 7, {}})));
  CHECK_FALSE(decode_rollback("\xc1"));
}

namespace {

/// A msgpack array of unsigned integers and binaries, as an older sender wrote it.
template <class Fill>
std::string packed_body(uint32_t fields, Fill fill) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(fields);
  fill(pk);
  return std::string(buf.data(), buf.size());
}

} // namespace

TEST_CASE("a heartbeat carries an agent's read lag per source, and one without lags still decodes") {
  heartbeat_message beat{9, 77, {{"access", 4096, 1764672000123}, {"events", 0, INT64_MIN}}};
  auto m = decode_heartbeat(encode(beat));
  REQUIRE(m);
  CHECK(m->epoch == 9);
  CHECK(m->incarnation == 77);
  REQUIRE(m->lags.size() == 2);
  CHECK(m->lags[0].source == "access");
  CHECK(m->lags[0].bytes == 4096);
  CHECK(m->lags[0].newest_event_ms == 1764672000123);
  CHECK(m->lags[1].newest_event_ms == INT64_MIN);
  // An older agent's heartbeat: two fields.
  auto old = decode_heartbeat(packed_body(2, [](auto& pk) { pk.pack(uint64_t{9}); pk.pack(uint64_t{77}); }));
  REQUIRE(old);
  CHECK(old->lags.empty());
  // A lag of the wrong shape is refused, and says which field.
  auto bad = decode_heartbeat(packed_body(3, [](auto& pk) {
    pk.pack(uint64_t{9});
    pk.pack(uint64_t{77});
    pk.pack_array(1);
    pk.pack_array(2);
    pk.pack(std::string("access"));
    pk.pack(uint64_t{1});
  }));
  REQUIRE_FALSE(bad);
  CHECK(code_of(bad.error()) == errc::bad_frame);
  CHECK(caf::to_string(bad.error()).find("lags") != std::string::npos);
  CHECK_FALSE(decode_heartbeat(packed_body(4, [](auto& pk) { for (int i = 0; i < 4; ++i) pk.pack(uint64_t{1}); })));
}

TEST_CASE("an events body says how many events it stands for, and an older agent's without the count reads 0") {
  events_message e;
  e.epoch = 3;
  e.batch = "batch";
  e.partials = "partials";
  e.events = 512;
  const std::string body = encode(e);  // the decoded views point into it
  auto m = decode_events(body);
  REQUIRE(m);
  CHECK(m->events == 512);
  CHECK(m->partials == "partials");
  const std::string old_body = packed_body(6, [](auto& pk) {
    pk.pack(uint64_t{3});
    pk.pack(uint64_t{0});
    pk.pack_bin(1);
    pk.pack_bin_body("b", 1);
    pk.pack_array(0);
    pk.pack(false);
    pk.pack_bin(0);
  });
  auto old = decode_events(old_body);
  REQUIRE(old);
  CHECK(old->events == 0);
  CHECK(old->batch == "b");
}

TEST_CASE("a nesting bomb (millions of one-byte objects in arrays within the limits) is refused before it is unpacked") {
  // 4 arrays of 4 of 65535 of 16 nils: 16.8M objects in 17 MB, each a
  // 16-byte object once unpacked. Every array is within the per-array
  // limit, and the depth within 4.
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(4);
  for (int a = 0; a < 4; ++a) {
    pk.pack_array(4);
    for (int b = 0; b < 4; ++b) {
      pk.pack_array(65535);
      for (int c = 0; c < 65535; ++c) {
        pk.pack_array(16);
        for (int d = 0; d < 16; ++d) pk.pack_nil();
      }
    }
  }
  const std::string bomb(buf.data(), buf.size());
  CHECK_FALSE(within_object_budget(bomb.data(), bomb.size()));
  auto hello = decode_hello(bomb);
  REQUIRE_FALSE(hello);
  CHECK(to_string(hello.error()).find("objects") != std::string::npos);
  auto batch = decode_event_batch(bomb.data(), bomb.size());
  REQUIRE_FALSE(batch);
  CHECK(batch.error().code() == static_cast<uint8_t>(errc::limit_exceeded));
  // What real bodies hold passes.
  const std::string small = encode(heartbeat_message{1, 2, {}});
  CHECK(within_object_budget(small.data(), small.size()));
}
