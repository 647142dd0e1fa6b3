#include <catch2/catch.hpp>

#include "transport/peer_table.hpp"

using namespace vigil;
using namespace std::chrono_literals;

TEST_CASE("a peer is up while it is heard from, down after a silence, and up again when it is back") {
  peer_table peers({"agent-1", "agent-2"}, 3000ms);
  const auto t0 = peer_table::clock::time_point{} + 1h;
  CHECK(peers.check(t0).empty());  // none heard yet: nothing changed
  CHECK(peers.heard("agent-1", t0));
  CHECK_FALSE(peers.heard("stranger", t0));
  auto c = peers.check(t0 + 10ms);
  REQUIRE(c.size() == 1);
  CHECK(c[0].peer == "agent-1");
  CHECK(c[0].up);
  CHECK(peers.up_count() == 1);
  // Heartbeats keep it up; a silence just short of the limit changes nothing.
  peers.heard("agent-1", t0 + 1000ms);
  CHECK(peers.check(t0 + 3999ms).empty());
  c = peers.check(t0 + 4000ms);
  REQUIRE(c.size() == 1);
  CHECK_FALSE(c[0].up);
  CHECK(c[0].silent == 3000ms);
  CHECK_FALSE(peers.up("agent-1"));
  CHECK(peers.check(t0 + 9000ms).empty());  // reported once
  peers.heard("agent-1", t0 + 9500ms);
  c = peers.check(t0 + 9501ms);
  REQUIRE(c.size() == 1);
  CHECK(c[0].up);
  // Both silent past the limit at the next check: both reported down.
  peers.heard("agent-2", t0 + 9600ms);
  peers.check(t0 + 9601ms);
  c = peers.check(t0 + 13000ms);  // agent-1 silent 3499 ms, agent-2 3400 ms: both down
  CHECK(c.size() == 2);
  CHECK(peers.up_count() == 0);
}
