#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "rules/metric_names.hpp"
#include "rules/rule_engine.hpp"
#include "state/state_codec.hpp"
#include "signature/signature_set.hpp"
#include "window/window_engine.hpp"

using namespace vigil;

namespace {

/// A window engine and a rule engine wired as the window and detect
/// stages wire them, with a batch of one event: deltas after every event.
struct detector {
  window_engine windows;
  std::unique_ptr<rule_engine> rules;
  std::vector<alert> alerts;
  std::vector<window_result> closed;

  detector(window_config w, std::vector<rule_config> r) : windows(std::move(w)) {
    std::string error;
    windows.watch(watched_metrics(r, windows.config().name));
    rules = rule_engine::make(r, "node-1", error);
    REQUIRE(rules);
  }

  void feed(int64_t t, std::string_view ip, uint16_t status, signature_mask classes = 0) {
    window_event e;
    e.time_ms = t;
    e.ip = ip;
    e.status = status;
    e.path = "/x";
    e.user_agent = "ua";
    e.classes = classes;
    e.prepare();
    windows.add(e, closed);
    deliver();
  }

  void flush() {
    windows.flush(closed);
    deliver();
  }

  void deliver() {
    std::vector<window_delta> deltas;
    windows.take_deltas(deltas);
    for (const auto& d : deltas) rules->on_delta(d, 0, alerts);
  }
};

window_config ip_minute() {
  window_config w;
  w.name = "ip_minute";
  w.size = duration_ms{60000};
  w.group_by = {"ip"};
  return w;
}

rule_config scanner() {
  return rule_config{"scanner", "ip_minute", "status_404 >= 20 || probes >= 5", severity::warning};
}

} // namespace

TEST_CASE("a rule fires on the line that crosses the threshold, once, and resolves at a window close below it") {
  detector d{ip_minute(), {scanner()}};
  for (int i = 0; i < 25; ++i) d.feed(1000 + i * 1000, "6.6.6.6", 404);
  d.feed(30000, "1.1.1.1", 200);
  REQUIRE(d.alerts.size() == 1);  // not one per line after the 20th
  const alert a = d.alerts[0];  // a copy: the vector grows below
  CHECK(a.status == "firing");
  CHECK(a.rule == "scanner");
  CHECK(a.severity == "warning");
  CHECK(a.first_seen_ms == 20000);  // the 20th 404
  CHECK(a.value == 20);
  CHECK(a.threshold == 20);
  CHECK(a.key == std::vector<std::pair<std::string, std::string>>{{"ip", "6.6.6.6"}});
  CHECK(a.window_start_ms == 0);
  CHECK(a.window_end_ms == 60000);

  // The next minute holds too: still firing, no new alert when minute 0 closes.
  for (int i = 0; i < 20; ++i) d.feed(61000 + i * 100, "6.6.6.6", 404);
  CHECK(d.alerts.size() == 1);
  // A quiet minute: minute 1 closes holding, minute 2 closes with 1 request: resolved.
  d.feed(125000, "6.6.6.6", 200);
  d.feed(190000, "1.1.1.1", 200);
  REQUIRE(d.alerts.size() == 2);
  CHECK(d.alerts[1].status == "resolved");
  CHECK(d.alerts[1].id == a.id);
  CHECK(d.rules->firing() == 0);

  auto j = nlohmann::json::parse(to_json(a));
  for (const char* k : {"id", "rule", "severity", "status", "key", "value", "threshold", "window",
                        "first_seen", "emitted_at", "node", "summary"})
    CHECK(j.contains(k));
  CHECK(j["key"]["ip"] == "6.6.6.6");
  CHECK(j["window"]["start"] == "1970-01-01T00:00:00Z");
}

TEST_CASE("an alert reports the comparison that made it fire, and its resolve the same one") {
  // scanner: status_404 >= 20 || probes >= 5. Five probes fire it with 5
  // 404s: the alert says probes 5 of 5, not status_404 5 of 20.
  detector d{ip_minute(), {scanner()}};
  for (int i = 0; i < 5; ++i) d.feed(1000 + i * 1000, "6.6.6.6", 404, mask_of(signature_class::probe));
  REQUIRE(d.alerts.size() == 1);
  CHECK(d.alerts[0].value == 5);
  CHECK(d.alerts[0].threshold == 5);
  d.feed(61000, "6.6.6.6", 404);  // minute 0 closes holding; minute 1 has one 404, no probe
  d.feed(125000, "1.1.1.1", 200);  // minute 1 closes below: resolved, with its probes
  REQUIRE(d.alerts.size() == 2);
  CHECK(d.alerts[1].status == "resolved");
  CHECK(d.alerts[1].value == 0);
  CHECK(d.alerts[1].threshold == 5);
  CHECK(d.alerts[0].summary == "scanner for ip 6.6.6.6: probes 5 (threshold 5; when status_404 >= 20 || probes >= 5)");
  CHECK(d.alerts[1].summary == "scanner for ip 6.6.6.6: probes 0 (threshold 5; when status_404 >= 20 || probes >= 5)");

  // The first comparison that holds is the one reported; none held (a
  // resolve) or not plain ones: the first comparison written.
  detector both{ip_minute(), {rule_config{"r", "ip_minute", "requests > 2 && status_404 >= 3", severity::warning}}};
  for (int i = 0; i < 3; ++i) both.feed(1000 + i, "7.7.7.7", 404);
  REQUIRE(both.alerts.size() == 1);
  CHECK(both.alerts[0].value == 3);
  CHECK(both.alerts[0].threshold == 2);
}

TEST_CASE("an alert's summary gives latencies in ms or s and rates in percent, not raw microseconds") {
  window_config w;
  w.name = "minute";
  w.size = duration_ms(60000);
  window_engine windows(w);
  std::string error;
  std::vector<rule_config> rules = {
    rule_config{"slow", "minute", "latency_max > 500000", severity::warning},
    rule_config{"errors", "minute", "error_rate > 0.05", severity::critical}};
  windows.watch(watched_metrics(rules, "minute"));
  auto engine = rule_engine::make(rules, "n", error);
  REQUIRE(engine);
  std::vector<window_result> closed;
  window_event e;
  e.time_ms = 1000;
  e.ip = "1.1.1.1";
  e.status = 503;
  e.path = "/x";
  e.user_agent = "ua";
  e.request_time_us = 1520000;
  e.prepare();
  windows.add(e, closed);
  std::vector<window_delta> deltas;
  windows.take_deltas(deltas);
  std::vector<alert> alerts;
  for (const auto& d : deltas) engine->on_delta(d, 0, alerts);
  REQUIRE(alerts.size() == 2);
  std::map<std::string, std::string> by_rule;
  for (const auto& a : alerts) by_rule[a.rule] = a.summary;
  CHECK(by_rule["slow"] == "slow: latency_max 1.52 s (threshold 500 ms; when latency_max > 500000)");
  CHECK(by_rule["errors"] == "errors: error_rate 100% (threshold 5%; when error_rate > 0.05)");
}

TEST_CASE("a group that goes quiet resolves when a later window of its rule closes") {
  detector d{ip_minute(), {scanner()}};
  for (int i = 0; i < 20; ++i) d.feed(1000 + i, "6.6.6.6", 404);
  d.feed(70000, "1.1.1.1", 200);   // minute 0 closes: 6.6.6.6 still over: firing
  REQUIRE(d.alerts.size() == 1);
  d.feed(130000, "1.1.1.1", 200);  // minute 1 closes without 6.6.6.6: resolved
  REQUIRE(d.alerts.size() == 2);
  CHECK(d.alerts[1].status == "resolved");
}

TEST_CASE("alert ids are stable: the same events give the same ids") {
  auto run = [] {
    detector d{ip_minute(), {scanner()}};
    for (int i = 0; i < 30; ++i) d.feed(i * 500, i % 2 ? "6.6.6.6" : "7.7.7.7", 404);
    d.feed(100000, "1.1.1.1", 200);
    std::vector<std::string> ids;
    for (const auto& a : d.alerts) ids.push_back(a.id + a.status);
    return ids;
  };
  auto first = run();
  CHECK(first.size() == 0);  // 15 404s each: below 20
  detector d{ip_minute(), {scanner()}};
  for (int i = 0; i < 40; ++i) d.feed(i * 500, i % 2 ? "6.6.6.6" : "7.7.7.7", 404);
  REQUIRE(d.alerts.size() == 2);
  CHECK(d.alerts[0].id != d.alerts[1].id);
  detector again{ip_minute(), {scanner()}};
  for (int i = 0; i < 40; ++i) again.feed(i * 500, i % 2 ? "6.6.6.6" : "7.7.7.7", 404);
  REQUIRE(again.alerts.size() == 2);
  CHECK(again.alerts[0].id == d.alerts[0].id);
  CHECK(again.alerts[1].id == d.alerts[1].id);
}

TEST_CASE("a rule on the window before (X_prev) is checked as windows close, against the adjacent one only") {
  window_config w = ip_minute();
  rule_config drop;
  drop.name = "traffic_drop";
  drop.window = "ip_minute";
  drop.when = "requests < 0.5 * requests_prev";
  drop.metric_names = with_previous(window_metric_names());
  detector d(w, {drop});
  const int64_t minute = 60000;
  // Minute 0: 10 requests. Minute 1: 8 (no drop). Minute 2: 3 (a drop).
  // Minute 3: 3 (no drop against 3). Minute 5: 1, after a quiet minute 4:
  // no previous window, no alert.
  for (int i = 0; i < 10; ++i) d.feed(0 * minute + i, "10.0.0.1", 200);
  for (int i = 0; i < 8; ++i) d.feed(1 * minute + i, "10.0.0.1", 200);
  CHECK(d.alerts.empty());
  // Minute 2's first request is far below minute 1's 8 requests, yet
  // nothing fires before minute 2 closes.
  for (int i = 0; i < 3; ++i) d.feed(2 * minute + i, "10.0.0.1", 200);
  CHECK(d.alerts.empty());
  d.feed(3 * minute, "10.0.0.1", 200);  // closes minute 2
  REQUIRE(d.alerts.size() == 1);
  CHECK(d.alerts[0].status == "firing");
  CHECK(d.alerts[0].window_start_ms == 2 * minute);
  CHECK(d.alerts[0].value == 3);
  CHECK(d.alerts[0].summary == "traffic_drop for ip 10.0.0.1: requests 3 (when requests < 0.5 * requests_prev)");
  d.feed(3 * minute + 1, "10.0.0.1", 200);
  d.feed(3 * minute + 2, "10.0.0.1", 200);
  d.feed(5 * minute, "10.0.0.1", 200);  // closes minute 3 (3 vs 3): resolved
  REQUIRE(d.alerts.size() == 2);
  CHECK(d.alerts[1].status == "resolved");
  d.flush();  // minute 5 (1 request) after a quiet minute 4: no window before it
  CHECK(d.alerts.size() == 2);
}

TEST_CASE("a rule checked at close does not fire on a window's first, partial counts") {
  rule_config low;
  low.name = "quiet";
  low.window = "ip_minute";
  low.when = "requests < 3";
  low.at_close = true;
  detector d(ip_minute(), {low});
  d.feed(0, "10.0.0.1", 200);
  d.feed(1, "10.0.0.1", 200);
  d.feed(2, "10.0.0.1", 200);
  d.feed(60000, "10.0.0.1", 200);  // minute 0 closes with 3: no alert
  CHECK(d.alerts.empty());
  d.feed(120000, "10.0.0.1", 200);  // minute 1 closes with 1: fires
  REQUIRE(d.alerts.size() == 1);
  CHECK(d.alerts[0].status == "firing");
  CHECK(d.alerts[0].window_start_ms == 60000);
  // Saved and restored, it resolves where it would have.
  state_writer w;
  d.rules->save(w);
  std::string bytes = w.take();
  std::string error;
  auto again = rule_engine::make({low}, "node-1", error);
  state_reader r(bytes);
  again->restore(r);
  d.rules = std::move(again);
  for (int i = 1; i < 5; ++i) d.feed(120000 + i, "10.0.0.1", 200);
  d.flush();
  REQUIRE(d.alerts.size() == 2);
  CHECK(d.alerts[1].status == "resolved");
}
