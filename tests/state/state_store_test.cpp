#include <filesystem>
#include <map>

#include <catch2/catch.hpp>
#include <msgpack.hpp>
#include <rocksdb/db.h>

#include "hash/xxh3.hpp"
#include "rules/rule_engine.hpp"
#include "state/source_state.hpp"
#include "state/state_codec.hpp"
#include "state/state_store.hpp"
#include "support/state_poke.hpp"
#include "support/test_support.hpp"
#include "window/window_engine.hpp"

using namespace vigil;

namespace {

std::vector<state_part> parts_of(uint64_t id, const std::string& windows_bytes) {
  return {{id, state_kind::source, "source:a", "positions"},
          {id, state_kind::window, "windows", windows_bytes},
          {id, state_kind::sink, "sink:out", "123"}};
}

} // namespace

TEST_CASE("a checkpoint is written whole, read back, listed, and pruned to the newest few") {
  test::temp_dir dir;
  std::string error;
  {
    auto store = state_store::open(dir / "state", error);
    REQUIRE(store);
    for (uint64_t id = 1; id <= 5; ++id)
      REQUIRE(store->write_checkpoint({id, 1000 + static_cast<int64_t>(id), 30, 3}, parts_of(id, "w" + std::to_string(id)), error));
    store->prune(3);
  }
  auto store = state_store::open(dir / "state", error);  // reopened: it persisted
  REQUIRE(store);
  auto list = store->checkpoints();
  REQUIRE(list.size() == 3);
  CHECK(list.front().id == 3);
  CHECK(list.back().id == 5);
  CHECK(list.back().time_ms == 1005);
  std::vector<state_part> parts;
  REQUIRE(store->read_checkpoint(5, parts, error));
  REQUIRE(parts.size() == 3);
  CHECK(parts[1].participant == "windows");
  CHECK(parts[1].bytes == "w5");
  CHECK_FALSE(store->read_checkpoint(1, parts, error));  // pruned
  CHECK(error.find("not in the store") != std::string::npos);
}

TEST_CASE("checkpoints newer than the fleet's are dropped, one of the same id then writes whole again") {
  test::temp_dir dir;
  std::string error;
  auto store = state_store::open(dir / "state", error);
  REQUIRE(store);
  for (uint64_t id = 1; id <= 4; ++id)
    REQUIRE(store->write_checkpoint({id, static_cast<int64_t>(id), 0, 3}, parts_of(id, "old" + std::to_string(id)), error));
  REQUIRE(store->drop_newer_than(2, error));
  auto list = store->checkpoints();
  REQUIRE(list.size() == 2);
  CHECK(list.back().id == 2);
  std::vector<state_part> parts;
  CHECK_FALSE(store->read_checkpoint(3, parts, error));
  REQUIRE(store->write_checkpoint({3, 3, 0, 3}, parts_of(3, "new3"), error));
  REQUIRE(store->read_checkpoint(3, parts, error));
  CHECK(parts[1].bytes == "new3");
  REQUIRE(store->drop_newer_than(0, error));
  CHECK(store->checkpoints().empty());
}

TEST_CASE("a damaged value is refused with a message, never decoded into nonsense") {
  test::temp_dir dir;
  std::string error;
  {
    auto store = state_store::open(dir / "state", error);
    REQUIRE(store->write_checkpoint({1, 1, 0, 3}, parts_of(1, "good"), error));
  }
  // A flipped byte inside the sealed window value: the checksum catches it.
  std::string sealed = seal_state("good");
  sealed.back() ^= 0x20;
  test::poke_state(dir / "state", "windows", test::checkpoint_key(1) + "windows", sealed);
  auto store = state_store::open(dir / "state", error);
  std::vector<state_part> parts;
  CHECK_FALSE(store->read_checkpoint(1, parts, error));
  CHECK(error == "checkpoint 1, window 'windows': state value is damaged (checksum mismatch)");
  // Bytes that are not an envelope at all.
  store.reset();
  test::poke_state(dir / "state", "windows", test::checkpoint_key(1) + "windows", "\xc1garbage");
  store = state_store::open(dir / "state", error);
  CHECK_FALSE(store->read_checkpoint(1, parts, error));
  CHECK(error.find("does not decode") != std::string::npos);
}

TEST_CASE("a checkpoint missing a part (truncated) is refused, an older one still reads") {
  test::temp_dir dir;
  std::string error;
  {
    auto store = state_store::open(dir / "state", error);
    REQUIRE(store->write_checkpoint({1, 1, 0, 3}, parts_of(1, "one"), error));
    REQUIRE(store->write_checkpoint({2, 2, 0, 3}, parts_of(2, "two"), error));
  }
  test::poke_state(dir / "state", "sinks", test::checkpoint_key(2) + "sink:out", "");
  auto store = state_store::open(dir / "state", error);
  std::vector<state_part> parts;
  CHECK_FALSE(store->read_checkpoint(2, parts, error));
  CHECK(error == "checkpoint 2, sink 'sink:out': missing");
  CHECK(store->read_checkpoint(1, parts, error));
}

TEST_CASE("a part over a MiB is stored in sealed chunks, read back whole, and a damaged or missing chunk is named") {
  test::temp_dir dir;
  std::string error;
  // 3.5 MiB in three pieces, as the window stage sends its engines' states.
  std::string first(1u << 20, 'a'), second((2u << 20) + 5, 'b'), third(512u << 10, 'c');
  for (size_t i = 0; i < second.size(); i += 4093) second[i] = static_cast<char>(i);
  {
    auto store = state_store::open(dir / "state", error);
    auto parts = parts_of(1, "");
    parts[1].bytes = "head";
    parts[1].tail = {first, second, third};
    REQUIRE(store->write_checkpoint({1, 1, 0, 3}, parts, error));
    REQUIRE(store->write_checkpoint({2, 2, 0, 3}, parts, error));
    std::vector<state_part> read;
    REQUIRE(store->read_checkpoint(1, read, error));
    CHECK(read[1].bytes == "head" + first + second + third);
    CHECK(read[1].tail.empty());
    CHECK(read[0].bytes == "positions");  // small parts stay one value each
  }
  // Pieces cut into chunks: "head", first, second in 3, third: chunk 2 is first's.
  auto chunk = [](uint64_t id, uint32_t i) {
    std::string k = test::checkpoint_key(id, "windows");
    k.push_back('\0');
    for (int b = 3; b >= 0; --b) k.push_back(static_cast<char>(i >> (8 * b)));
    return k;
  };
  std::string sealed = seal_state(first);
  sealed[sealed.size() / 2] ^= 0x01;
  test::poke_state(dir / "state", "windows", chunk(2, 1), sealed);
  {
    auto store = state_store::open(dir / "state", error);
    std::vector<state_part> read;
    CHECK_FALSE(store->read_checkpoint(2, read, error));
    CHECK(error == "checkpoint 2, window 'windows', chunk 2 of 6: state value is damaged (checksum mismatch)");
    CHECK(store->read_checkpoint(1, read, error));  // the older one is untouched
  }
  test::poke_state(dir / "state", "windows", chunk(1, 5), "");
  auto store = state_store::open(dir / "state", error);
  std::vector<state_part> read;
  CHECK_FALSE(store->read_checkpoint(1, read, error));
  CHECK(error == "checkpoint 1, window 'windows', chunk 6 of 6: missing");
}

TEST_CASE("a checkpoint written by version 4 (every part one value, listed without chunks) still reads") {
  test::temp_dir dir;
  std::string error;
  {
    auto store = state_store::open(dir / "state", error);
    REQUIRE(store->write_checkpoint({1, 1, 0, 3}, parts_of(1, "w"), error));
  }
  // Its record as version 4 wrote it: [id, time, bytes, parts, [[kind, name], ...]].
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_array(5);
  pk.pack(uint64_t{1});
  pk.pack(int64_t{1});
  pk.pack(uint64_t{0});
  pk.pack(uint32_t{3});
  pk.pack_array(3);
  for (const auto& p : parts_of(1, "w")) {
    pk.pack_array(2);
    pk.pack(static_cast<uint8_t>(p.kind));
    pk.pack(p.participant);
  }
  test::poke_state(dir / "state", "checkpoints", test::checkpoint_key(1), seal_state({buf.data(), buf.size()}));
  auto store = state_store::open(dir / "state", error);
  std::vector<state_part> read;
  REQUIRE(store->read_checkpoint(1, read, error));
  REQUIRE(read.size() == 3);
  CHECK(read[1].bytes == "w");
  CHECK(read[2].bytes == "123");
}

TEST_CASE("a state dir held by an open store is refused to a second, with or without RocksDB's LOCK file") {
  test::temp_dir dir;
  std::string error;
  auto first = state_store::open(dir / "state", error);
  REQUIRE(first);
  std::filesystem::remove(dir / "state/LOCK");
  CHECK_FALSE(state_store::open(dir / "state", error));
  CHECK(error.find("is in use by another process") != std::string::npos);
  first.reset();
  CHECK(state_store::open(dir / "state", error));
}

TEST_CASE("parts written as they are made read back whole beside parts of their family written at once") {
  test::temp_dir dir;
  std::string error;
  auto store = state_store::open(dir / "state", error);
  REQUIRE(store);
  const std::string big(2'500'000, 'x');  // three chunks
  auto windows = store->begin_part(1, state_kind::window, "windows", error);
  REQUIRE(windows);
  for (std::string_view piece : {std::string_view("head"), std::string_view(big), std::string_view(""),
                                 std::string_view("tail")})
    REQUIRE(store->append_part(*windows, piece, error));
  CHECK(windows->chunks() == 5);  // "head", the big one's three, "tail"
  CHECK(windows->bytes() == big.size() + 8);
  auto empty = store->begin_part(1, state_kind::window, "windows2", error);  // nothing appended
  REQUIRE(empty);
  std::vector<std::unique_ptr<part_stream>> streamed;
  streamed.push_back(std::move(windows));
  streamed.push_back(std::move(empty));
  // A part of the same family written at once, with the streamed ones.
  std::vector<state_part> at_once = {{1, state_kind::source, "source:a", "positions"},
                                     {1, state_kind::window, "windows1", "small"}};
  REQUIRE(store->write_checkpoint({1, 1000, 0, 4}, at_once, error, std::move(streamed)));
  INFO(error);
  std::vector<state_part> parts;
  REQUIRE(store->read_checkpoint(1, parts, error));
  std::map<std::string, std::string> by_name;
  for (const auto& p : parts) by_name[p.participant] = p.bytes;
  CHECK(by_name.size() == 4);
  CHECK(by_name["windows"] == "head" + big + "tail");
  CHECK(by_name["windows2"].empty());
  CHECK(by_name["windows1"] == "small");
  CHECK(by_name["source:a"] == "positions");
  // A part begun and dropped (its checkpoint abandoned) leaves no file.
  {
    auto dropped = store->begin_part(2, state_kind::window, "windows", error);
    REQUIRE(dropped);
    REQUIRE(store->append_part(*dropped, big, error));
  }
  size_t staged = 0;
  for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(dir / "state") / "ingest")) staged += f.is_regular_file();
  CHECK(staged == 0);
  // One a killed process left behind goes when the store is next opened.
  auto left = store->begin_part(3, state_kind::window, "windows", error);
  REQUIRE(left);
  REQUIRE(store->append_part(*left, big, error));
  const std::filesystem::path ingest = std::filesystem::path(dir / "state") / "ingest";
  const std::filesystem::path kept = dir / "kept.sst";
  std::filesystem::copy_file(std::filesystem::directory_iterator(ingest)->path(), kept);
  left.reset();
  store.reset();
  std::filesystem::copy_file(kept, ingest / "3-window-stream-windows.sst");
  store = state_store::open(dir / "state", error);
  REQUIRE(store);
  CHECK_FALSE(std::filesystem::exists(ingest / "3-window-stream-windows.sst"));
}

TEST_CASE("a state dir of another format version is refused") {
  test::temp_dir dir;
  std::string error;
  REQUIRE(state_store::open(dir / "state", error));
  test::poke_state(dir / "state", "default", "format_version", "99");
  CHECK_FALSE(state_store::open(dir / "state", error));
  CHECK(error.find("format version 99") != std::string::npos);
  CHECK(error.find("move the directory away") != std::string::npos);
}

TEST_CASE("a version-3 state dir is read and marked 6, so an older vigil refuses it afterwards") {
  test::temp_dir dir;
  std::string error;
  REQUIRE(state_store::open(dir / "state", error));
  test::poke_state(dir / "state", "default", "format_version", "3");
  {
    auto read_only = state_store::open(dir / "state", error, true);
    REQUIRE(read_only);  // inspecting it changes nothing
  }
  {
    auto store = state_store::open(dir / "state", error);
    INFO(error);
    REQUIRE(store);
    CHECK(store->setting("format_version") == std::optional<std::string>("6"));
  }
  test::poke_state(dir / "state", "default", "format_version", "2");
  CHECK_FALSE(state_store::open(dir / "state", error));
  CHECK(error.find("format version 2; this vigil reads versions 3 to 6") != std::string::npos);
}

TEST_CASE("a sealed value of version 3 opens, and one of a version this vigil does not read is refused") {
  auto sealed_as = [](uint32_t version, const std::string& payload) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_array(3);
    pk.pack(version);
    pk.pack(xxh3(payload));
    pk.pack_bin(static_cast<uint32_t>(payload.size()));
    pk.pack_bin_body(payload.data(), static_cast<uint32_t>(payload.size()));
    return std::string(buf.data(), buf.size());
  };
  std::string payload, error;
  CHECK(open_state(sealed_as(3, "old"), payload, error));
  CHECK(payload == "old");
  CHECK(open_state(seal_state("new"), payload, error));
  CHECK(payload == "new");
  CHECK_FALSE(open_state(sealed_as(7, "future"), payload, error));
  CHECK(error.find("state format version 7") != std::string::npos);
}

namespace {

window_event probe_event(int64_t t, std::string_view ip, uint16_t status, int64_t us) {
  window_event e;
  e.time_ms = t;
  e.ip = ip;
  e.status = status;
  e.path = "/p";
  e.user_agent = "ua";
  e.request_time_us = us;
  e.bytes = 100;
  return e;
}

} // namespace

TEST_CASE("window engines round-trip through the codec: a restored engine continues exactly") {
  window_config cfg;
  cfg.name = "ip";
  cfg.type = window_type::tumbling;
  cfg.size = duration_ms{60000};
  cfg.group_by = {"ip", "status"};
  cfg.allowed_lateness = duration_ms{5000};
  // One engine sees everything; another is saved halfway, restored into a
  // fresh engine, and fed the rest. Their results must be equal.
  window_engine whole(cfg), first(cfg);
  std::vector<window_result> a, b;
  const std::vector<std::string> ips = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
  for (int i = 0; i < 3000; ++i) {
    auto e = probe_event(i * 97, ips[i % 3], i % 7 ? 200 : 404, 1000 + i);
    whole.add(e, a);
    if (i < 1500) first.add(e, b);
  }
  const std::string bytes = first.save();
  window_engine second(cfg);
  state_reader r(bytes);
  second.restore(r);
  CHECK(r.done());
  for (int i = 1500; i < 3000; ++i) second.add(probe_event(i * 97, ips[i % 3], i % 7 ? 200 : 404, 1000 + i), b);
  whole.flush(a);
  second.flush(b);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(to_json(a[i]) == to_json(b[i]));

  // Damage: truncated state, and state of another window.
  state_reader cut(std::string_view(bytes).substr(0, bytes.size() / 2));
  window_engine third(cfg);
  CHECK_THROWS_AS(third.restore(cut), state_decode_error);
  window_config other = cfg;
  other.name = "other";
  window_engine fourth(other);
  state_reader again(bytes);
  CHECK_THROWS_WITH(fourth.restore(again), "window state is for window 'ip', not 'other'");
}

namespace {

// Events by index: time and IP.
struct event_stream {
  std::vector<std::string> ips;
  std::vector<std::pair<int64_t, size_t>> events;
  window_event at(int i) const {
    const auto& [t, ip] = events[static_cast<size_t>(i)];
    return probe_event(t, ips[ip], i % 7 ? 200 : 404, 1000 + i);
  }
};

// 40 IPs, the IP by a hash of the index, every fifth event 1.5 s late.
event_stream irregular_stream() {
  event_stream s;
  for (int k = 0; k < 40; ++k) s.ips.push_back("10.0.0." + std::to_string(k));
  for (int i = 0; i < 4000; ++i) {
    const uint64_t h = static_cast<uint64_t>(i) * 2654435761u;
    s.events.emplace_back(i * 97 - (i % 5 == 0 ? 1500 : 0), (h >> 8) % s.ips.size());
  }
  return s;
}

// For sessions with a 2.5 s gap: 40 IPs, each with an event a second,
// pausing 3 s every 6 s (its session ends); the first event after a
// pause is followed by one 2.5 s late, which bridges the old session and
// the new one (they merge). A 41st IP takes the paused slots.
event_stream session_stream() {
  event_stream s;
  for (int k = 0; k <= 40; ++k) s.ips.push_back("10.0.1." + std::to_string(k));
  for (int i = 0; i < 4000; ++i) {
    const int cycle = i / 40, k = i % 40;
    int64_t t = cycle * 1000 + k * 10;
    const int phase = (cycle + k) % 6;
    if (phase == 1) t -= 2500;
    s.events.emplace_back(t, phase >= 4 ? 40 : k);
  }
  return s;
}

// Restores `bytes` into a fresh engine, feeds it events [from, to) and
// closes it: the JSON lines of everything it closed.
std::vector<std::string> continue_from(const window_config& cfg, const std::string& bytes, const event_stream& s,
                                       int from, int to) {
  window_engine e(cfg);
  state_reader r(bytes);
  e.restore(r);
  REQUIRE(r.done());
  std::vector<window_result> out;
  for (int i = from; i < to; ++i) e.add(s.at(i), out);
  e.flush(out);
  std::vector<std::string> lines;
  for (const auto& x : out) lines.push_back(to_json(x));
  return lines;
}

void check_copy_on_write(const window_config& cfg, const event_stream& s) {
  // `cow` starts a checkpoint at event 1500 and writes one group of it
  // every 25 events while events 1500..2500 change, merge and close its
  // groups.
  // What it wrote must be the state at event 1500, as `save` writes it
  // at once.
  window_engine cow(cfg), reference(cfg);
  std::vector<window_result> ignored;
  for (int i = 0; i < 1500; ++i) {
    cow.add(s.at(i), ignored);
    reference.add(s.at(i), ignored);
  }
  const std::string at_once = reference.save();
  cow.begin_save();
  int i = 1500;
  for (bool done = false; i < 2500; ++i) {
    cow.add(s.at(i), ignored);
    if (!done && i % 25 == 0) done = cow.save_some(1);
  }
  CHECK(cow.saving());
  const std::string sliced = cow.end_save();
  CHECK_FALSE(cow.saving());
  CHECK(sliced.size() == at_once.size());
  const auto expected = continue_from(cfg, at_once, s, 1500, 4000);
  CHECK(expected.size() > 10);
  CHECK(continue_from(cfg, sliced, s, 1500, 4000) == expected);
}

} // namespace

TEST_CASE("a window checkpoint written in slices holds the state of its start, whatever comes meanwhile") {
  window_config cfg;
  cfg.name = "ip";
  cfg.group_by = {"ip", "status"};
  cfg.allowed_lateness = duration_ms{3000};
  SECTION("tumbling: groups change and whole windows close while it is written") {
    cfg.type = window_type::tumbling;
    cfg.size = duration_ms{10000};  // about 100 events each: several close during the save
    check_copy_on_write(cfg, irregular_stream());
  }
  SECTION("sliding") {
    cfg.type = window_type::sliding;
    cfg.size = duration_ms{20000};
    cfg.slide = duration_ms{5000};
    check_copy_on_write(cfg, irregular_stream());
  }
  SECTION("sessions: sessions merge and end while it is written") {
    cfg.type = window_type::session;
    cfg.gap = duration_ms{2500};
    check_copy_on_write(cfg, session_stream());
  }
}

TEST_CASE("tail positions round-trip, and garbage is refused") {
  std::vector<tail_position> p = {{"/var/log/a.log", {1, 2, 3, 256}, 4096}, {"/var/log/a.log.1", {1, 5, 6, 100}, 77}};
  auto back = decode_tail_positions(encode_tail_positions(p));
  REQUIRE(back.size() == 2);
  CHECK(back[1].path == "/var/log/a.log.1");
  CHECK(back[1].id == p[1].id);
  CHECK(back[1].offset == 77);
  CHECK_THROWS_AS(decode_tail_positions("\x92\x01"), state_decode_error);
  CHECK_THROWS_AS(decode_tail_positions(std::string("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9)), state_decode_error);
}
