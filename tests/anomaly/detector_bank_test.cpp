#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "anomaly/detector_bank.hpp"
#include "rules/rule_engine.hpp"
#include "settings/config_loader.hpp"
#include "state/state_codec.hpp"
#include "window/window_engine.hpp"

using namespace vigil;

namespace {

constexpr int64_t minute = 60000;
constexpr int64_t start = 1704067200000;  // 2024-01-01T00:00:00Z

/// A window engine, its detectors and a rule engine wired as the window
/// and detect stages wire them: the detectors judge each close before the
/// deltas go to the rules.
struct pipeline {
  window_config window;
  std::vector<detector_config> detectors;
  window_engine engine;
  detector_bank bank;
  std::unique_ptr<rule_engine> rules;
  std::vector<window_result> results;
  std::vector<alert> alerts;

  pipeline(window_config w, std::vector<detector_config> d)
    : window(w), detectors(d), engine(w), bank(w, d, watched_metrics({}, d, w.name)) {
    engine.watch(watched_metrics({}, d, w.name));
    std::string error;
    rules = rule_engine::make({}, d, "node-1", error);
    REQUIRE(rules);
  }

  /// `n` requests of `route` at minute `m`.
  void requests(int64_t m, const std::string& route, int n) {
    for (int i = 0; i < n; ++i) {
      window_event e;
      e.time_ms = start + m * minute + i * (minute / (n + 1));
      e.ip = "10.0.0.1";
      e.status = 200;
      e.path = route;
      e.route = route;
      e.user_agent = "ua";
      e.prepare();
      std::vector<window_result> closed;
      engine.add(e, closed);
      settle(closed);
    }
  }
  void settle(std::vector<window_result>& closed) {
    std::vector<window_delta> deltas;
    engine.take_deltas(deltas);
    bank.judge(closed, deltas);
    for (const auto& d : deltas) rules->on_delta(d, 0, alerts);
    for (auto& r : closed) results.push_back(std::move(r));
  }
  void close_all() {
    std::vector<window_result> closed;
    engine.flush(closed);
    settle(closed);
  }
};

window_config per_route_minute() {
  window_config w;
  w.name = "route_minute";
  w.size = std::chrono::minutes(1);
  w.group_by = {"route"};
  return w;
}

detector_config traffic_detector(uint64_t max_series = 100) {
  detector_config d;
  d.name = "route_traffic";
  d.window = "route_minute";
  d.metric = "requests";
  d.group_by = {"route"};
  d.max_series = max_series;
  d.params.learn = 30;
  d.params.suppress_ms = 10 * minute;
  return d;
}

} // namespace

TEST_CASE("a detector alerts on a route's surge at the close, says its band, and resolves", "[anomaly]") {
  pipeline p(per_route_minute(), {traffic_detector()});
  // Two routes, each with its own normal; a surge on /search at minute 300.
  for (int64_t m = 0; m < 320; ++m) {
    p.requests(m, "/search", (m >= 300 && m < 302 ? 400 : 50) + static_cast<int>(m * 7 % 5));
    p.requests(m, "/home", 20 + static_cast<int>(m * 3 % 4));
  }
  p.close_all();
  std::vector<alert> firing, resolved;
  for (const auto& a : p.alerts) (a.status == "firing" ? firing : resolved).push_back(a);
  REQUIRE(firing.size() == 1);
  const alert& a = firing.front();
  CHECK(a.rule == "route_traffic");
  CHECK(a.key == std::vector<std::pair<std::string, std::string>>{{"route", "/search"}});
  CHECK(a.window_start_ms == start + 300 * minute);
  CHECK(a.value >= 400);
  CHECK(a.threshold > 50);   // the top of the band it left
  CHECK(a.threshold < 400);
  CHECK(a.summary.find("outside its learned band") != std::string::npos);
  CHECK(a.severity == "warning");
  // It stays firing through the surge and resolves when traffic is back.
  REQUIRE(resolved.size() == 1);
  CHECK(resolved.front().id == a.id);
  CHECK(resolved.front().window_start_ms == start + 300 * minute);
  // The results carry the score: high at the surge, 0 while learning.
  int scored = 0;
  for (const auto& r : p.results) {
    const std::string json = to_json(r);
    REQUIRE(json.find("\"anomaly_score_requests\":") != std::string::npos);
    if (r.start_ms == start + 300 * minute && r.group.front().second == "/search") {
      CHECK(r.anomaly.front().second >= 0.5);
      ++scored;
    }
    if (r.start_ms < start + 30 * minute) CHECK(r.anomaly.front().second == 0);
  }
  CHECK(scored == 1);
}

TEST_CASE("a partial first window does not set the baseline: a drop soon after still alerts", "[anomaly]") {
  // A node that starts mid-window closes a first window with a fraction of
  // the traffic. Learned from, it would set the level and inflate the
  // spread for a hundred points, and a drop to a fifth at minute 100 would
  // score 0 (it does, offline, where a series' first point is whole).
  pipeline p(per_route_minute(), {traffic_detector()});
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 12);
  for (int64_t m = 0; m < 110; ++m) {
    const int n = m == 0 ? 38 : (m >= 100 && m < 104 ? 40 : 200) + static_cast<int>(std::lround(noise(rng)));
    p.requests(m, "/search", n);
  }
  p.close_all();
  REQUIRE_FALSE(p.alerts.empty());
  CHECK(p.alerts.front().status == "firing");
  CHECK(p.alerts.front().window_start_ms == start + 100 * minute);
  for (const auto& a : p.alerts) CHECK(a.window_start_ms >= start + 100 * minute);
  CHECK(p.results.front().anomaly.front().second == 0);  // the first window: scored 0
}

TEST_CASE("a replay from saved detector state gives the same alerts and scores", "[anomaly]") {
  auto run = [](bool with_restart) {
    pipeline first(per_route_minute(), {traffic_detector()});
    std::vector<alert> alerts;
    std::vector<std::string> lines;
    auto feed = [](pipeline& p, int64_t from, int64_t to) {
      for (int64_t m = from; m < to; ++m) p.requests(m, "/search", (m == 250 ? 300 : 40) + static_cast<int>(m % 3));
    };
    feed(first, 0, 200);
    if (with_restart) {
      // What a checkpoint holds between batches: engine, detectors, rules.
      const std::string windows = first.engine.save();
      state_writer dw, rw;
      first.bank.save(dw);
      first.rules->save(rw);
      pipeline second(per_route_minute(), {traffic_detector()});
      const std::string detector_bytes = dw.take(), rules_bytes = rw.take();
      state_reader wr(windows), dr(detector_bytes), rr(rules_bytes);
      second.engine.restore(wr);
      second.bank.restore(dr);
      second.rules->restore(rr);
      second.alerts = first.alerts;
      second.results = std::move(first.results);
      feed(second, 200, 300);
      second.close_all();
      for (const auto& r : second.results) lines.push_back(to_json(r));
      return std::make_pair(second.alerts, lines);
    }
    feed(first, 200, 300);
    first.close_all();
    for (const auto& r : first.results) lines.push_back(to_json(r));
    return std::make_pair(first.alerts, lines);
  };
  const auto whole = run(false), resumed = run(true);
  REQUIRE_FALSE(whole.first.empty());
  CHECK(whole.second == resumed.second);
  REQUIRE(whole.first.size() == resumed.first.size());
  for (size_t i = 0; i < whole.first.size(); ++i) {
    CHECK(whole.first[i].id == resumed.first[i].id);
    CHECK(whole.first[i].status == resumed.first[i].status);
  }
}

TEST_CASE("max_series bounds a detector's series and the rest are counted, not judged", "[anomaly]") {
  pipeline p(per_route_minute(), {traffic_detector(3)});
  for (int64_t m = 0; m < 4; ++m)
    for (int r = 0; r < 5; ++r) p.requests(m, "/r" + std::to_string(r), 10);
  p.close_all();
  CHECK(p.bank.series() == 3);
  CHECK(p.bank.series_dropped() == 4 * 2);  // two routes a minute found no room
  size_t judged = 0;
  for (const auto& r : p.results) judged += r.anomaly.size();
  CHECK(judged == 4 * 3);
}

TEST_CASE("a detector with fewer group_by fields sums its window's groups", "[anomaly]") {
  window_config w = per_route_minute();
  w.group_by = {"route", "status"};
  detector_config d = traffic_detector();
  d.group_by = {};  // the whole window: one series
  pipeline p(w, {d});
  for (int64_t m = 0; m < 3; ++m) {
    p.requests(m, "/a", 10);
    p.requests(m, "/b", 5);
  }
  p.close_all();
  CHECK(p.bank.series() == 1);
  for (const auto& r : p.results) CHECK(r.anomaly.size() == 1);
}

TEST_CASE("detector config: keys checked, methods named, defaults documented", "[anomaly][config]") {
  const std::string base = R"(
[node]
name = "n"
state_dir = "var/n"

[[source]]
name = "access"
type = "file"
path = "/var/log/access.log"

[[window]]
name = "route_minute"
type = "tumbling"
size = "1m"
group_by = ["route", "status"]
)";
  auto load = [&](const std::string& detector) { return load_config_text(base + detector, "test.toml"); };
  auto ok = load("[[detector]]\nname = \"d\"\nwindow = \"route_minute\"\nmetric = \"requests\"\n");
  REQUIRE(ok.config);
  const auto& d = ok.config->detectors.at(0);
  CHECK(d.group_by == std::vector<std::string>{"route", "status"});
  CHECK(d.params.method == detector_method::baseline);
  CHECK(d.params.learn == 288);
  CHECK(d.params.threshold == 0.5);
  CHECK(d.params.suppress_ms == 4 * 3600 * 1000);
  CHECK(d.max_series == 10000);

  auto errors_of = [&](const std::string& detector) {
    auto r = load(detector);
    std::string all;
    for (const auto& e : r.errors) all += to_string(e) + "\n";
    return all;
  };
  CHECK_THAT(errors_of("[[detector]]\nname = \"d\"\nwindow = \"route_minute\"\nmetric = \"revenue\"\n"),
             Catch::Contains("detector[d].metric") && Catch::Contains("no metric \"revenue\""));
  CHECK_THAT(errors_of("[[detector]]\nname = \"d\"\nwindow = \"nope\"\nmetric = \"requests\"\n"),
             Catch::Contains("no window named \"nope\""));
  CHECK_THAT(errors_of("[[detector]]\nname = \"d\"\nwindow = \"route_minute\"\nmetric = \"requests\"\nmethod = \"htm\"\n"),
             Catch::Contains("unknown method \"htm\" (expected baseline and gaussian)"));
  CHECK_THAT(errors_of("[[detector]]\nname = \"d\"\nwindow = \"route_minute\"\nmetric = \"requests\"\nthreshold = 1.5\n"),
             Catch::Contains("detector[d].threshold"));
  CHECK_THAT(errors_of("[[detector]]\nname = \"d\"\nwindow = \"route_minute\"\nmetric = \"requests\"\ngroup_by = [\"ip\"]\n"),
             Catch::Contains("\"ip\" is not one of window \"route_minute\"'s group_by fields"));
  CHECK_THAT(errors_of("[[detector]]\nname = \"d\"\nwindow = \"route_minute\"\nmetric = \"error_rate\"\ngroup_by = [\"route\"]\n"),
             Catch::Contains("does not add up over groups"));
  CHECK_THAT(errors_of("[[detector]]\nname = \"d\"\nwindow = \"route_minute\"\nmetric = \"requests\"\nsupress = \"1h\"\n"),
             Catch::Contains("supress"));
  CHECK_THAT(errors_of("[[rule]]\nname = \"d\"\nwindow = \"route_minute\"\nwhen = \"requests > 1\"\n"
                       "[[detector]]\nname = \"d\"\nwindow = \"route_minute\"\nmetric = \"requests\"\n"),
             Catch::Contains("detector[d].name: another rule or detector has this name"));
  CHECK_THAT(errors_of("[[detector]]\nname = \"a\"\nwindow = \"route_minute\"\nmetric = \"requests\"\n"
                       "[[detector]]\nname = \"b\"\nwindow = \"route_minute\"\nmetric = \"requests\"\n"),
             Catch::Contains("already watches requests"));
}
