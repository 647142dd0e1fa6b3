#include <random>

#include <catch2/catch.hpp>
#include <msgpack.hpp>

#include "messages/errc.hpp"
#include "messages/event_codec.hpp"
#include "parse/line_parser.hpp"
#include "support/test_support.hpp"

using namespace vigil;

namespace {

event_batch parsed_fixture() {
  event_batch batch;
  batch.source = "fixture";
  batch.sequence = 42;
  batch.text = test::read_file(test::fixture("combined_mixed.log"));
  line_parser parser{parser_options{}};
  std::vector<line_failure> failures;
  parser.parse(log_format::combined, batch.text.size(), batch, failures);
  return batch;
}

} // namespace

TEST_CASE("an event batch survives an encode/decode round trip unchanged") {
  event_batch batch = parsed_fixture();
  REQUIRE(batch.events.size() == 11);
  std::string frame = encode_event_batch(batch);
  auto decoded = decode_event_batch(frame.data(), frame.size());
  REQUIRE(decoded);
  CHECK(*decoded == batch);
  CHECK(decoded->view(decoded->events[2].client) == "10.0.0.2");

  event_batch empty;
  std::string f2 = encode_event_batch(empty);
  auto d2 = decode_event_batch(f2.data(), f2.size());
  REQUIRE(d2);
  CHECK(*d2 == empty);
}

TEST_CASE("hostile frames are rejected with an error, never a crash") {
  event_batch batch = parsed_fixture();
  std::string frame = encode_event_batch(batch);

  SECTION("every truncation of a valid frame") {
    for (size_t n = 0; n < frame.size(); n += 7) {
      auto r = decode_event_batch(frame.data(), n);
      CHECK_FALSE(r);
    }
  }
  SECTION("random bytes") {
    std::mt19937 rng(1234);
    for (int i = 0; i < 500; ++i) {
      std::string junk(rng() % 256, '\0');
      for (auto& c : junk) c = static_cast<char>(rng());
      auto r = decode_event_batch(junk.data(), junk.size());
      CHECK_FALSE(r);
    }
  }
  SECTION("random bit flips of a valid frame decode or fail, and what decodes is in bounds") {
    std::mt19937 rng(99);
    for (int i = 0; i < 500; ++i) {
      std::string f = frame;
      f[rng() % f.size()] ^= static_cast<char>(1 << (rng() % 8));
      auto r = decode_event_batch(f.data(), f.size());
      if (r)
        for (const auto& e : r->events) CHECK(uint64_t{e.target.offset} + e.target.length <= r->text.size());
    }
  }
  SECTION("a wrong version") {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_array(5);
    pk.pack(99);
    pk.pack(std::string("s"));
    pk.pack(1);
    pk.pack_bin(0);
    pk.pack_array(0);
    auto r = decode_event_batch(buf.data(), buf.size());
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::unsupported_version);
  }
  SECTION("a reference outside the text") {
    event_batch bad = batch;
    bad.events[0].user_agent = text_ref{static_cast<uint32_t>(bad.text.size()), 10};
    std::string f = encode_event_batch(bad);
    auto r = decode_event_batch(f.data(), f.size());
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::bad_frame);
  }
  SECTION("an array that claims four billion elements") {
    const char huge[] = {'\x95', '\x01', '\xa1', 's', '\x01', '\xc4', '\x00', '\xdd', '\xff', '\xff', '\xff', '\xff'};
    auto r = decode_event_batch(huge, sizeof(huge));
    CHECK_FALSE(r);
  }
  SECTION("a frame over the size limit") {
    decode_limits limits;
    limits.max_frame_bytes = 100;
    auto r = decode_event_batch(frame.data(), frame.size(), limits);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::limit_exceeded);
  }
}
