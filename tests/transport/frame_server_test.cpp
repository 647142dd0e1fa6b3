#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "messages/frame.hpp"
#include "transport/curve_keys.hpp"
#include "transport/frame_server.hpp"

using namespace vigil;

namespace {

// Frames a server delivered, as (sender, sequence), guarded: they arrive
// on the server's thread.
struct inbox {
  std::mutex mu;
  std::vector<std::pair<std::string, uint64_t>> got;
  std::function<void(const frame_view&)> sink() {
    return [this](const frame_view& f) {
      std::lock_guard<std::mutex> lock(mu);
      got.emplace_back(f.header.sender, f.header.sequence);
    };
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return got.size();
  }
};

// Polls `done` for up to 10 s: sockets connect in the background. Not a
// timing assertion: a slow machine only waits longer.
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

curve_identity keys() {
  auto k = make_curve_keys();
  return {k.public_key, k.secret_key};
}

} // namespace

TEST_CASE("malformed, oversized and other-version frames are counted and dropped, good ones still arrive") {
  inbox box;
  frame_server_config cfg;
  cfg.node = "agg";
  cfg.endpoint = "tcp://127.0.0.1:*";
  cfg.limits.max_frame_bytes = 4096;
  frame_server server(cfg, box.sink());
  frame_client client(server.endpoint(), std::nullopt, "");
  std::string other_version = encode_frame({frame_type::heartbeat, "a1", 1}, "");
  other_version[4] = 7;
  REQUIRE(client.send("garbage, not a frame"));
  REQUIRE(client.send(encode_frame({frame_type::partials, "a1", 2}, std::string(5000, 'x'))));  // over 4096
  REQUIRE(client.send(other_version));
  REQUIRE(client.send(encode_frame({frame_type::partials, "a1", 3}, "\x90")));
  REQUIRE(eventually([&] { return box.size() == 1; }));
  const auto& c = server.counters();
  CHECK(c.bad_frame == 1);
  CHECK(c.too_large == 1);
  CHECK(c.unsupported_version == 1);
  CHECK(c.delivered == 1);
  CHECK(box.got[0] == std::make_pair(std::string("a1"), uint64_t{3}));
}

TEST_CASE("with Curve keys, a peer whose key is in the config gets in, any other is refused") {
  REQUIRE(curve_available());
  const curve_identity server_keys = keys(), member = keys(), stranger = keys();
  inbox box;
  frame_server_config cfg;
  cfg.node = "agg";
  cfg.endpoint = "tcp://127.0.0.1:*";
  cfg.curve = server_keys;
  cfg.allowed_peers = {member.public_key};
  frame_server server(cfg, box.sink());

  frame_client outsider(server.endpoint(), stranger, server_keys.public_key);
  outsider.send(encode_frame({frame_type::hello, "intruder", 1}, ""), std::chrono::milliseconds(100));
  REQUIRE(eventually([&] { return server.counters().refused_peers.load() >= 1; }));

  frame_client inside(server.endpoint(), member, server_keys.public_key);
  REQUIRE(inside.send(encode_frame({frame_type::hello, "a1", 1}, "")));
  REQUIRE(eventually([&] { return box.size() == 1; }));
  CHECK(box.got[0].first == "a1");  // the intruder's frame never arrived
  // A client without Curve at all cannot talk to a Curve server either.
  frame_client plain(server.endpoint(), std::nullopt, "");
  plain.send(encode_frame({frame_type::hello, "plain", 1}, ""), std::chrono::milliseconds(100));
  inside.send(encode_frame({frame_type::hello, "a1", 2}, ""));
  REQUIRE(eventually([&] { return box.size() == 2; }));
  CHECK(box.got[1] == std::make_pair(std::string("a1"), uint64_t{2}));
}

TEST_CASE("with Curve keys bound to node names, a valid key cannot send frames named for another node") {
  REQUIRE(curve_available());
  const curve_identity server_keys = keys(), agent1 = keys(), agent2 = keys();
  inbox box;
  frame_server_config cfg;
  cfg.node = "agg";
  cfg.endpoint = "tcp://127.0.0.1:*";
  cfg.curve = server_keys;
  cfg.allowed_peers = {agent1.public_key, agent2.public_key};
  cfg.peer_names = {{agent1.public_key, "agent-1"}, {agent2.public_key, "agent-2"}};
  frame_server server(cfg, box.sink());
  frame_client second(server.endpoint(), agent2, server_keys.public_key);
  REQUIRE(second.send(encode_frame({frame_type::hello, "agent-1", 1}, "")));  // agent-2's key, agent-1's name
  REQUIRE(second.send(encode_frame({frame_type::hello, "agent-2", 2}, "")));
  REQUIRE(eventually([&] { return box.size() == 1; }));
  CHECK(box.got[0] == std::make_pair(std::string("agent-2"), uint64_t{2}));
  CHECK(server.counters().impostors == 1);
  frame_client first(server.endpoint(), agent1, server_keys.public_key);
  REQUIRE(first.send(encode_frame({frame_type::hello, "agent-1", 3}, "")));
  REQUIRE(eventually([&] { return box.size() == 2; }));
  CHECK(box.got[1] == std::make_pair(std::string("agent-1"), uint64_t{3}));
}

TEST_CASE("a server that cannot bind says where") {
  frame_server_config cfg;
  cfg.endpoint = "tcp://256.0.0.1:1";
  CHECK_THROWS_WITH(frame_server(cfg, [](const frame_view&) {}), Catch::Contains("cannot listen on tcp://256.0.0.1:1"));
}
