#include <catch2/catch.hpp>
#include <rocksdb/db.h>

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

TEST_CASE("a state dir of another format version is refused") {
  test::temp_dir dir;
  std::string error;
  REQUIRE(state_store::open(dir / "state", error));
  test::poke_state(dir / "state", "default", "format_version", "99");
  CHECK_FALSE(state_store::open(dir / "state", error));
  CHECK(error.find("format version 99") != std::string::npos);
  CHECK(error.find("move the directory away") != std::string::npos);
}

TEST_CASE("window engines round-trip through the codec: a restored engine continues exactly") {
  window_config cfg;
  cfg.name = "ip";
  cfg.type = window_type::tumbling;
  cfg.size = duration_ms{60000};
  cfg.group_by = {"ip", "status"};
  cfg.allowed_lateness = duration_ms{5000};
  auto event = [](int64_t t, std::string_view ip, uint16_t status, int64_t us) {
    window_event e;
    e.time_ms = t;
    e.ip = ip;
    e.status = status;
    e.path = "/p";
    e.user_agent = "ua";
    e.request_time_us = us;
    e.bytes = 100;
    return e;
  };
  // One engine sees everything; another is saved halfway, restored into a
  // fresh engine, and fed the rest. Their results must be equal.
  window_engine whole(cfg), first(cfg);
  std::vector<window_result> a, b;
  const std::vector<std::string> ips = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
  for (int i = 0; i < 3000; ++i) {
    auto e = event(i * 97, ips[i % 3], i % 7 ? 200 : 404, 1000 + i);
    whole.add(e, a);
    if (i < 1500) first.add(e, b);
  }
  state_writer w;
  first.save(w);
  const std::string bytes = w.take();
  window_engine second(cfg);
  state_reader r(bytes);
  second.restore(r);
  CHECK(r.done());
  for (int i = 1500; i < 3000; ++i) second.add(event(i * 97, ips[i % 3], i % 7 ? 200 : 404, 1000 + i), b);
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
