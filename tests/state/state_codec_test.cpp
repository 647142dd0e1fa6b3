// The state reader decodes msgpack itself; these tests hold it to what
// msgpack-cxx's own unpack and `as<T>` make of the same bytes.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <catch2/catch.hpp>
#include <msgpack.hpp>

#include "state/state_codec.hpp"

using namespace vigil;

namespace {

// What msgpack-cxx reads from `bytes` at `offset` as a T, or nothing when
// it refuses (too few bytes, another type); `offset` moves past the value.
template <class T>
std::optional<T> reference(const std::string& bytes, size_t& offset) {
  try {
    msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size(), offset);
    return oh.get().as<T>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

template <class T, class Read>
std::optional<T> ours(state_reader& r, Read read) {
  try {
    return read(r);
  } catch (const state_decode_error&) {
    return std::nullopt;
  }
}

// Checks that our reader and msgpack-cxx agree on every value in `bytes`
// read as a T, value after value, until one of them refuses.
template <class T, class Read>
void agree(const std::string& bytes, Read read) {
  state_reader r(bytes);
  size_t offset = 0;
  while (offset < bytes.size()) {
    const auto expected = reference<T>(bytes, offset);
    const auto got = ours<T>(r, read);
    REQUIRE(got.has_value() == expected.has_value());
    if (!got) return;
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(*expected)) REQUIRE(std::isnan(*got));
      else REQUIRE(*got == *expected);
    } else {
      REQUIRE(*got == *expected);
    }
  }
  REQUIRE(r.done());
}

struct buffer {
  msgpack::sbuffer sb;
  msgpack::packer<msgpack::sbuffer> pk{sb};
  std::string bytes() const { return {sb.data(), sb.size()}; }
};

} // namespace

TEST_CASE("the state reader reads every integer format as msgpack-cxx does, as unsigned and as signed") {
  buffer b;
  const uint64_t unsigned_edges[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffffull, 0x100000000ull,
                                     uint64_t(INT64_MAX), uint64_t(INT64_MAX) + 1, UINT64_MAX};
  const int64_t signed_edges[] = {0, -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN, int64_t(INT32_MIN) - 1,
                                  INT64_MIN, 1, 127, 128, INT64_MAX};
  for (uint64_t v : unsigned_edges) {
    b.pk.pack(v);
    b.pk.pack_uint64(v);
    if (v <= 0xff) b.pk.pack_fix_uint8(static_cast<uint8_t>(v));
    if (v <= 0xffff) b.pk.pack_fix_uint16(static_cast<uint16_t>(v));
    if (v <= 0xffffffff) b.pk.pack_fix_uint32(static_cast<uint32_t>(v));
    b.pk.pack_fix_uint64(v);
  }
  for (int64_t v : signed_edges) {
    b.pk.pack(v);
    b.pk.pack_fix_int64(v);
    if (v >= INT8_MIN && v <= INT8_MAX) b.pk.pack_fix_int8(static_cast<int8_t>(v));
    if (v >= INT16_MIN && v <= INT16_MAX) b.pk.pack_fix_int16(static_cast<int16_t>(v));
    if (v >= INT32_MIN && v <= INT32_MAX) b.pk.pack_fix_int32(static_cast<int32_t>(v));
  }
  const std::string bytes = b.bytes();
  // Read one by one: a refused value (a negative as unsigned) is skipped
  // by reading it the other way, so every value is checked both ways.
  state_reader as_unsigned(bytes), as_signed(bytes);
  size_t offset = 0, values = 0;
  while (offset < bytes.size()) {
    size_t o1 = offset, o2 = offset;
    const auto u = reference<uint64_t>(bytes, o1);
    const auto s = reference<int64_t>(bytes, o2);
    REQUIRE((u || s));
    REQUIRE(ours<uint64_t>(as_unsigned, [](state_reader& r) { return r.u64(); }) == u);
    REQUIRE(ours<int64_t>(as_signed, [](state_reader& r) { return r.i64(); }) == s);
    if (!u) as_unsigned.i64();  // past the refused value
    if (!s) as_signed.u64();
    offset = std::max(o1, o2);
    ++values;
  }
  REQUIRE(values > 80);
  REQUIRE(as_unsigned.done());
  REQUIRE(as_signed.done());
}

TEST_CASE("the state reader reads numbers, booleans, strings, bytes and lists as msgpack-cxx does") {
  buffer b;
  for (double v : {0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e-300, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN(), 4294967296.0, -9007199254740993.0})
    b.pk.pack(v);
  b.pk.pack_float(1.25f);
  b.pk.pack(uint64_t{7});
  b.pk.pack(int64_t{-7});
  agree<double>(b.bytes(), [](state_reader& r) { return r.f64(); });

  buffer bools;
  bools.pk.pack(true);
  bools.pk.pack(false);
  bools.pk.pack(uint64_t{1});  // not a boolean: both refuse
  agree<bool>(bools.bytes(), [](state_reader& r) { return r.boolean(); });

  buffer strings;
  for (size_t n : {0, 1, 31, 32, 255, 256, 65535, 65536}) {
    const std::string s(n, static_cast<char>('a' + n % 26));
    strings.pk.pack(s);
    strings.pk.pack_bin(static_cast<uint32_t>(n));
    strings.pk.pack_bin_body(s.data(), static_cast<uint32_t>(n));
  }
  agree<std::string>(strings.bytes(), [](state_reader& r) { return r.str(); });
  {
    // `bin` takes bytes only, not strings.
    const std::string bytes = strings.bytes();
    state_reader r(bytes);
    REQUIRE_THROWS_AS(r.bin(), state_decode_error);
    r.str();
    REQUIRE(r.bin_view().empty());
    REQUIRE(r.str() == "b");
    REQUIRE(r.bin() == "b");
  }

  buffer lists;
  for (size_t n : {0, 1, 15, 16, 70000}) {
    std::vector<uint64_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = i * 0x9e3779b97f4a7c15ull;
    lists.pk.pack(v);
  }
  agree<std::vector<uint64_t>>(lists.bytes(), [](state_reader& r) { return r.u64s(); });

  buffer fields;
  const std::vector<std::string> flat = {"ip", "10.0.0.1", "path", std::string(300, '/'), "", ""};
  fields.pk.pack(flat);
  fields.pk.pack(std::vector<std::string>{"odd"});
  const std::string bytes = fields.bytes();
  state_reader r(bytes);
  std::vector<std::pair<std::string, std::string>> out(5, {"left", "over"});
  r.fields_into(out);
  REQUIRE(out == std::vector<std::pair<std::string, std::string>>{
                     {"ip", "10.0.0.1"}, {"path", std::string(300, '/')}, {"", ""}});
  REQUIRE_THROWS_WITH(r.fields(), Catch::Contains("odd count"));
}

TEST_CASE("the state reader refuses damaged bytes where msgpack-cxx does, and says what it expected") {
  // Random bytes, weighted to the format bytes, read every way: our reader
  // refuses exactly what msgpack-cxx refuses and reads the same otherwise.
  std::mt19937_64 rng(17);
  const uint8_t leads[] = {0x00, 0x7f, 0x90, 0x93, 0xa3, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xca, 0xcb, 0xcc, 0xcd,
                           0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xe0, 0xff, 0xc1};
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(1 + rng() % 12, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng() % 3 == 0 ? rng() : leads[rng() % std::size(leads)]);
    agree<uint64_t>(bytes, [](state_reader& r) { return r.u64(); });
    agree<int64_t>(bytes, [](state_reader& r) { return r.i64(); });
    agree<double>(bytes, [](state_reader& r) { return r.f64(); });
    agree<bool>(bytes, [](state_reader& r) { return r.boolean(); });
    agree<std::string>(bytes, [](state_reader& r) { return r.str(); });
    agree<std::vector<uint64_t>>(bytes, [](state_reader& r) { return r.u64s(); });
  }
  state_reader empty("");
  REQUIRE_THROWS_WITH(empty.u64(), "state ends where unsigned integer was expected");
  const std::string cut = "\xcd\x01";  // a uint16 with one of its bytes
  state_reader truncated(cut);
  REQUIRE_THROWS_WITH(truncated.u64(), Catch::Contains("state ends inside unsigned integer"));
  state_reader wrong("\xc3");
  REQUIRE_THROWS_WITH(wrong.u64(), "state holds no unsigned integer where one was expected (at byte 0)");
  state_reader counted("\x05\x01");
  REQUIRE_THROWS_WITH(counted.count(), Catch::Contains("count of 5 with fewer bytes left"));
}
