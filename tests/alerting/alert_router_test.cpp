#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "alerting/alert_router.hpp"
#include "state/state_codec.hpp"

using namespace vigil;

namespace {

alert make(std::string id, std::string status, std::string rule = "scanner", std::string ip = "6.6.6.6") {
  alert a;
  a.id = std::move(id);
  a.status = std::move(status);
  a.rule = std::move(rule);
  a.severity = "warning";
  a.key = {{"ip", std::move(ip)}};
  return a;
}

size_t count(const std::vector<alert_router::writes>& out, size_t output) {
  size_t n = 0;
  if (output < out.size())
    for (const auto& w : out[output]) n += w.size();
  return n;
}

} // namespace

TEST_CASE("an alert id fires once and resolves once: replays are dropped") {
  alert_router r{{alert_output{}}};
  std::vector<alert_router::writes> out;
  r.take({make("a", "firing"), make("a", "firing")}, 0, out);
  CHECK(count(out, 0) == 1);
  CHECK(r.firing() == 1);
  out.clear();
  r.take({make("a", "resolved"), make("a", "resolved"), make("a", "firing")}, 10, out);
  CHECK(count(out, 0) == 1);
  CHECK(nlohmann::json::parse(out[0][0][0])["status"] == "resolved");
  CHECK(r.duplicates() == 3);
  CHECK(r.firing() == 0);
}

TEST_CASE("alerts of one rule within group_wait leave together, as one write") {
  alert_router r{{alert_output{false, 1000, 0}, alert_output{true, 0, 0}}};
  std::vector<alert_router::writes> out;
  r.take({make("a", "firing", "scanner", "1.1.1.1"), make("b", "firing", "scanner", "2.2.2.2")}, 0, out);
  r.take({make("c", "firing", "flood", "3.3.3.3")}, 500, out);
  CHECK(out[0].empty());          // grouped: waiting
  CHECK(out[1].size() == 3);      // the console output does not wait
  CHECK(out[1][0][0].rfind("[firing] warning scanner ip=1.1.1.1", 0) == 0);
  out.clear();
  r.tick(999, out);
  CHECK(out[0].empty());
  r.tick(1000, out);
  REQUIRE(out[0].size() == 1);    // the scanner group: one write of two
  CHECK(out[0][0].size() == 2);
  out.clear();
  r.tick(1500, out);
  REQUIRE(out[0].size() == 1);    // the flood group, its own wait later
  CHECK(out[0][0].size() == 1);
}

TEST_CASE("a still-firing alert is sent again every repeat interval, with the same id") {
  alert_router r{{alert_output{false, 0, 60000}}};
  std::vector<alert_router::writes> out;
  r.take({make("a", "firing")}, 0, out);
  out.clear();
  r.tick(59999, out);
  CHECK(count(out, 0) == 0);
  r.tick(60000, out);
  REQUIRE(count(out, 0) == 1);
  auto j = nlohmann::json::parse(out[0][0][0]);
  CHECK(j["id"] == "a");
  CHECK(j["status"] == "firing");
  CHECK(j["emitted_at"] == "1970-01-01T00:01:00Z");
  out.clear();
  r.take({make("a", "resolved")}, 70000, out);
  r.tick(200000, out);
  CHECK(count(out, 0) == 1);  // the resolve only: no repeats after it
}

TEST_CASE("on the console a repeat says it is one, and the first sending does not") {
  alert_router r{{alert_output{true, 0, 60000}}};
  std::vector<alert_router::writes> out;
  alert a = make("a", "firing");
  a.summary = "slow_p99: latency_p99 1.2 s (threshold 1 s; when latency_p99 > 1000000)";
  r.take({a}, 0, out);
  REQUIRE(count(out, 0) == 1);
  CHECK(out[0][0][0].rfind("[firing] warning slow_p99: latency_p99 1.2 s (threshold 1 s;", 0) == 0);
  out.clear();
  r.tick(60000, out);
  REQUIRE(count(out, 0) == 1);
  CHECK(out[0][0][0].rfind("[firing, repeat] warning slow_p99: latency_p99 1.2 s", 0) == 0);
}

TEST_CASE("grouped alerts read as one block on the console") {
  alert_router r{{alert_output{true, 100, 0}}};
  std::vector<alert_router::writes> out;
  r.take({make("a", "firing", "scanner", "1.1.1.1"), make("b", "firing", "scanner", "2.2.2.2")}, 0, out);
  r.drain(out);
  REQUIRE(out[0].size() == 1);
  REQUIRE(out[0][0].size() == 3);
  CHECK(out[0][0][0] == "[firing] scanner: 2 alerts");
  CHECK(out[0][0][1].rfind("  [firing] warning scanner ip=1.1.1.1", 0) == 0);
}

TEST_CASE("a router restored from its checkpoint suppresses the replay of what it had sent") {
  alert_router before{{alert_output{}, alert_output{false, 5000, 0}}};
  std::vector<alert_router::writes> out;
  before.take({make("fired", "firing"), make("done", "firing")}, 0, out);
  before.take({make("done", "resolved"), make("waiting", "firing", "flood")}, 10, out);
  state_writer w;
  before.save(w);
  const std::string bytes = w.take();

  // A restart replays the same alerts from the checkpointed windows.
  alert_router after{{alert_output{}, alert_output{false, 5000, 0}}};
  state_reader r(bytes);
  after.restore(r);
  CHECK(after.firing() == before.firing());
  out.clear();
  after.take({make("fired", "firing"), make("done", "firing"), make("done", "resolved")}, 20, out);
  CHECK(count(out, 0) == 0);  // all three were sent before the checkpoint
  CHECK(after.duplicates() == before.duplicates() + 3);
  // The four alerts that waited in the grouped output's groups when the
  // checkpoint was taken are still sent, once; the replays added nothing.
  out.clear();
  after.tick(6000, out);
  CHECK(count(out, 1) == 4);
  out.clear();
  after.tick(20000, out);
  CHECK(count(out, 1) == 0);
  // A router for other outputs refuses the state.
  alert_router other{{alert_output{}}};
  state_reader again(bytes);
  CHECK_THROWS_AS(other.restore(again), state_decode_error);
}
