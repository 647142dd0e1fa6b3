// Closing in slices: a window instance the watermark passed closes a few
// groups per turn, and the results, the alerts and the checkpoints are
// those of a close in one piece.

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "rules/metric_names.hpp"
#include "rules/rule_engine.hpp"
#include "state/state_codec.hpp"
#include "window/window_engine.hpp"

using namespace vigil;

namespace {

window_config ip_minute(window_type type = window_type::tumbling) {
  window_config w;
  w.name = "ip_minute";
  w.type = type;
  w.size = duration_ms{60000};
  if (type == window_type::sliding) w.slide = duration_ms{20000};
  w.group_by = {"ip"};
  w.allowed_lateness = duration_ms{5000};
  return w;
}

std::vector<rule_config> rules() {
  rule_config busy{"busy", "ip_minute", "requests >= 4", severity::warning};
  rule_config missing{"missing", "ip_minute", "status_404 >= 2", severity::warning};
  missing.at_close = true;
  rule_config drop{"drop", "ip_minute", "requests < 0.5 * requests_prev", severity::info};
  drop.metric_names = with_previous(window_metric_names());
  return {busy, missing, drop};
}

struct event_spec {
  int64_t time_ms;
  std::string ip;
  uint16_t status;
};

/// Events of 60 addresses over six minutes, a few out of order within
/// the lateness; some addresses busy in one minute and quiet in the next.
std::vector<event_spec> events(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<event_spec> out;
  int64_t t = 0;
  for (int i = 0; i < 4000; ++i) {
    t += rng() % 180;
    const int64_t jitter = rng() % 10 == 0 ? static_cast<int64_t>(rng() % 4000) : 0;
    const int minute = static_cast<int>(t / 60000);
    // Each minute draws from its own half of the addresses, mostly.
    const unsigned ip = (rng() % 4 == 0) ? rng() % 60 : (minute % 2) * 30 + rng() % 30;
    out.push_back({std::max<int64_t>(0, t - jitter), "10.0.0." + std::to_string(ip), rng() % 5 == 0 ? uint16_t{404} : uint16_t{200}});
  }
  return out;
}

/// A window engine and a rule engine wired as the window and detect
/// stages wire them.
struct pipeline {
  window_engine windows;
  std::unique_ptr<rule_engine> detect;
  std::vector<window_result> closed;
  std::vector<std::string> results;  // JSON lines, in order
  std::vector<std::pair<int64_t, std::string>> closed_keys;  // instance start, ip: in close order
  std::vector<alert> alerts;
  size_t slices = 0;                 // closed deltas that were not the last of their close

  pipeline(window_config w, bool sliced) : windows(w) {
    std::string error;
    windows.watch(watched_metrics(rules(), w.name));
    windows.set_sliced_closes(sliced);
    detect = rule_engine::make(rules(), "node-1", error);
    REQUIRE(detect);
  }

  void add(const event_spec& s) {
    window_event e;
    e.time_ms = s.time_ms;
    e.ip = s.ip;
    e.status = s.status;
    e.path = "/x";
    e.user_agent = "ua";
    e.prepare();
    windows.add(e, closed);
  }

  void deliver() {
    std::vector<window_delta> deltas;
    windows.take_deltas(deltas);
    for (const auto& d : deltas) {
      slices += d.closed && !d.last;
      detect->on_delta(d, 0, alerts);
    }
    for (const auto& r : closed) {
      results.push_back(to_json(r));
      closed_keys.emplace_back(r.start_ms, r.group.at(0).second);
    }
    closed.clear();
  }

  /// Saves both engines and restores them into fresh ones, as a restart
  /// from that checkpoint would.
  void restart(const window_config& w) {
    const std::string window_bytes = windows.save();
    state_writer rw;
    detect->save(rw);
    const std::string rule_bytes = rw.take();
    window_engine fresh(w);
    fresh.watch(watched_metrics(rules(), w.name));
    fresh.set_sliced_closes(true);
    state_reader wr(window_bytes);
    fresh.restore(wr);
    windows = std::move(fresh);
    std::string error;
    detect = rule_engine::make(rules(), "node-1", error);
    state_reader rr(rule_bytes);
    detect->restore(rr);
  }
};

using alert_fact = std::tuple<std::string, std::string, int64_t, double, std::string>;

/// What must not depend on where closes are cut: which alerts fire and
/// resolve, and the values they resolve with. (The value an alert fires
/// with is the group's at the delta that crossed the line: a change that
/// waited for a close, like a change in a bigger batch, may be past it.)
std::vector<alert_fact> facts(const std::vector<alert>& alerts) {
  std::vector<alert_fact> out;
  for (const auto& a : alerts) {
    const bool resolved = a.status == "resolved";
    out.emplace_back(a.id, a.status, a.window_start_ms, resolved ? a.value : 0, resolved ? a.summary : "");
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string describe(const alert_fact& f) {
  return std::get<0>(f) + " " + std::get<1>(f) + " window " + std::to_string(std::get<2>(f)) + " value "
         + std::to_string(std::get<3>(f)) + " " + std::get<4>(f);
}

} // namespace

TEST_CASE("a close in slices gives the results and alerts of a close in one piece, with or without a restart") {
  for (auto type : {window_type::tumbling, window_type::sliding}) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      CAPTURE(static_cast<int>(type), seed);
      const auto w = ip_minute(type);
      const auto stream = events(seed);
      pipeline whole(w, false);
      for (const auto& e : stream) {
        whole.add(e);
        whole.deliver();
      }
      whole.windows.flush(whole.closed);
      whole.deliver();
      REQUIRE(whole.results.size() > 100);
      // Instance by instance, each in key order.
      CHECK(std::is_sorted(whole.closed_keys.begin(), whole.closed_keys.end()));
      REQUIRE(whole.slices == 0);
      const auto expected = facts(whole.alerts);
      REQUIRE(std::count_if(expected.begin(), expected.end(), [](auto& f) { return std::get<1>(f) == "resolved"; }) > 5);

      for (bool restarts : {false, true}) {
        CAPTURE(restarts);
        std::mt19937 rng(seed * 7 + restarts);
        pipeline sliced(w, true);
        size_t restarted_mid_close = 0;
        for (const auto& e : stream) {
          sliced.add(e);
          sliced.windows.close_some(rng() % 4, sliced.closed);  // 0: no slice this turn
          sliced.deliver();
          if (restarts && sliced.windows.closing_groups() > 0 && rng() % 3 == 0) {
            sliced.restart(w);
            ++restarted_mid_close;
          }
        }
        sliced.windows.flush(sliced.closed);
        sliced.deliver();
        CHECK(sliced.slices > 20);
        if (restarts) CHECK(restarted_mid_close > 5);
        CHECK(sliced.results == whole.results);
        const auto got = facts(sliced.alerts);
        // On a failure, which alerts differ.
        for (const auto& f : got)
          if (!std::binary_search(expected.begin(), expected.end(), f)) WARN("not in the whole close's: " << describe(f));
        for (const auto& f : expected)
          if (!std::binary_search(got.begin(), got.end(), f)) WARN("missing: " << describe(f));
        CHECK(got == expected);
      }
    }
  }
}

TEST_CASE("a change of a group still to close in an older instance reaches the rules after the slice that closes it") {
  window_config w = ip_minute();
  w.allowed_lateness = duration_ms{0};
  pipeline p(w, true);
  for (const char* ip : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) p.add({1000, ip, 200});
  p.add({61000, "10.0.0.9", 200});  // minute 0 is now to close, in key order
  CHECK(p.closed.empty());
  CHECK(p.windows.closing_groups() == 3);
  std::vector<window_delta> first;
  p.windows.take_deltas(first);  // minute 0's changes
  p.windows.close_some(1, p.closed);
  p.add({62000, "10.0.0.3", 200});  // minute 1: waits for 10.0.0.3's close
  p.add({62000, "10.0.0.1", 200});  // closed already: goes now
  std::vector<window_delta> deltas;
  p.windows.take_deltas(deltas);
  REQUIRE(deltas.size() == 2);
  CHECK(deltas[0].closed);
  CHECK_FALSE(deltas[0].last);
  REQUIRE(deltas[0].groups.size() == 1);
  CHECK(deltas[0].groups[0].group[0].second == "10.0.0.1");
  CHECK_FALSE(deltas[1].closed);
  CHECK(deltas[1].start_ms == 60000);
  std::vector<std::string> changed;
  for (const auto& g : deltas[1].groups) changed.push_back(g.group[0].second);
  CHECK(changed == std::vector<std::string>{"10.0.0.1"});  // 10.0.0.9 went with minute 0's changes

  deltas.clear();
  CHECK(p.windows.close_some(10, p.closed));
  p.windows.take_deltas(deltas);
  REQUIRE(deltas.size() == 2);
  CHECK(deltas[0].closed);
  CHECK(deltas[0].last);
  REQUIRE(deltas[0].groups.size() == 2);
  CHECK(deltas[0].groups[1].group[0].second == "10.0.0.3");
  CHECK_FALSE(deltas[1].closed);
  REQUIRE(deltas[1].groups.size() == 1);
  CHECK(deltas[1].groups[0].group[0].second == "10.0.0.3");
  REQUIRE(p.closed.size() == 3);
  CHECK(p.windows.closing_groups() == 0);
}
