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

namespace {

/// A batch of two ETL records over its own text: 3 fields each.
event_batch record_batch() {
  event_batch b;
  b.source = "orders";
  b.sequence = 7;
  b.barrier = 3;
  b.text = "o-1o-2\"coupon\":\"X\"";
  b.records.width = 3;
  b.records.values = {field_value::of_text({0, 3}), field_value::of_number(12.5), field_value::of_time(1700000000123),
                      field_value::of_text({3, 3}), field_value{}, field_value::of_bool(true)};
  record_info first;
  first.time_ms = 1700000000123;
  first.offset = 10;
  first.extras = {6, 12};
  first.routes = 5;
  first.coerced = 2;
  record_info second;
  second.time_ms = -5;
  second.offset = 99;
  second.arrival_time = true;
  second.quality = record_quality::duplicate;
  second.defaulted = 1ull << 63;
  b.records.rows = {first, second};
  return b;
}

} // namespace

TEST_CASE("an event batch with ETL records survives an encode/decode round trip, every field of every row") {
  const event_batch b = record_batch();
  const std::string frame = encode_event_batch(b);
  auto d = decode_event_batch(frame.data(), frame.size());
  REQUIRE(d);
  CHECK(d->source == "orders");
  CHECK(d->text == b.text);
  REQUIRE(d->records.width == 3);
  REQUIRE(d->records.values.size() == 6);
  for (size_t i = 0; i < 6; ++i) {
    CHECK(d->records.values[i].kind == b.records.values[i].kind);
    CHECK(d->records.values[i].bits == b.records.values[i].bits);
    CHECK(d->records.values[i].text == b.records.values[i].text);
  }
  CHECK(d->records.values[1].number() == 12.5);
  REQUIRE(d->records.rows.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    const auto &x = d->records.rows[i], &y = b.records.rows[i];
    CHECK(x.time_ms == y.time_ms);
    CHECK(x.offset == y.offset);
    CHECK(x.extras == y.extras);
    CHECK(x.routes == y.routes);
    CHECK(x.arrival_time == y.arrival_time);
    CHECK(x.quality == y.quality);
    CHECK(x.coerced == y.coerced);
    CHECK(x.defaulted == y.defaulted);
  }
  // A web-log batch has no record elements at all.
  const std::string web = encode_event_batch(parsed_fixture());
  auto w = decode_event_batch(web.data(), web.size());
  REQUIRE(w);
  CHECK(w->records.width == 0);
  CHECK(w->records.empty());
}

TEST_CASE("record elements that point outside the text, name an unknown kind or do not add up are refused") {
  auto refused = [](const event_batch& b) {
    const std::string frame = encode_event_batch(b);
    auto d = decode_event_batch(frame.data(), frame.size());
    return !d && d.error() == errc::bad_frame;
  };
  event_batch outside = record_batch();
  outside.records.values[3].text = {10, 100};
  CHECK(refused(outside));
  event_batch extras = record_batch();
  extras.records.rows[0].extras = {0, 1000};
  CHECK(refused(extras));
  event_batch kind = record_batch();
  kind.records.values[2].kind = static_cast<value_kind>(9);
  CHECK(refused(kind));
  event_batch short_row = record_batch();
  short_row.records.values.pop_back();
  CHECK(refused(short_row));
}
