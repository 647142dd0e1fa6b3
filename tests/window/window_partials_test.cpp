// Pre-aggregation: a batch's partial groups, merged on the aggregator, give
// the windows the events themselves would.

#include <algorithm>

#include <catch2/catch.hpp>

#include "parse/line_parser.hpp"
#include "state/state_codec.hpp"
#include "support/test_support.hpp"
#include "window/event_view.hpp"
#include "window/window_partials.hpp"

using namespace vigil;
using namespace std::chrono_literals;

namespace {

window_config window(std::string name, window_type type, std::vector<std::string> group_by,
                     std::chrono::milliseconds size, std::chrono::milliseconds slide = 0ms) {
  window_config w;
  w.name = std::move(name);
  w.type = type;
  w.group_by = std::move(group_by);
  if (type == window_type::session) w.gap = size;
  else w.size = size;
  w.slide = slide;
  w.allowed_lateness = 1h;
  return w;
}

/// The real log in batches of `lines` lines, parsed as the parse stage does.
std::vector<event_batch> batches(size_t lines) {
  const std::string text = test::read_file(test::fixture("apache_combined_2000.log"));
  std::vector<event_batch> out;
  line_parser parser{parser_options{}};
  std::vector<line_failure> failures;
  for (size_t from = 0; from < text.size();) {
    size_t to = from;
    for (size_t n = 0; n < lines && to < text.size(); ++n) to = text.find('\n', to) + 1;
    event_batch b;
    b.source = "access";
    b.text = text.substr(from, to - from);
    parser.parse(log_format::combined, b.text.size(), b, failures);
    out.push_back(std::move(b));
    from = to;
  }
  return out;
}

std::vector<std::string> results(std::vector<window_engine>& engines, std::vector<std::vector<window_result>>& closed) {
  std::vector<std::string> out;
  for (size_t i = 0; i < engines.size(); ++i) {
    engines[i].flush(closed[i]);
    for (const auto& r : closed[i]) out.push_back(to_json(r));
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_CASE("partials merged on the aggregator give every window what the events would") {
  const std::vector<window_config> windows{
    window("minute", window_type::tumbling, {}, 1min), window("ip_minute", window_type::tumbling, {"ip"}, 1min),
    window("status_5m", window_type::sliding, {"status"}, 5min, 1min),
    window("visits", window_type::session, {"ip"}, 30s)};
  auto make = [&] {
    std::vector<window_engine> engines;
    for (const auto& w : windows) engines.emplace_back(w);
    return engines;
  };
  auto by_events = make(), by_partials = make();
  std::vector<std::vector<window_result>> closed_events(windows.size()), closed_partials(windows.size());
  partial_collector collector(windows, {});
  CHECK(collector.needs_events());  // the session window
  std::vector<bool> merged;
  size_t partial_bytes = 0, event_count = 0;
  for (const auto& b : batches(100)) {
    batch_event_view events(b, {});
    for (size_t k = 0; k < events.size(); ++k)
      for (size_t i = 0; i < windows.size(); ++i) by_events[i].add(events.at(k), closed_events[i]);
    const std::string blob = collector.collect(b);
    partial_bytes += blob.size();
    event_count += b.events.size();
    merge_partials(blob, 0, by_partials, closed_partials, merged);
    CHECK(merged == std::vector<bool>{true, true, true, false});
    for (size_t k = 0; k < events.size(); ++k) by_partials[3].add(events.at(k), closed_partials[3]);
  }
  REQUIRE(event_count > 1900);
  const auto expected = results(by_events, closed_events);
  CHECK(expected.size() > 100);
  CHECK(results(by_partials, closed_partials) == expected);
}

TEST_CASE("a partial for a closed window is counted late with all its requests, a bad blob is refused") {
  std::vector<window_config> windows{window("minute", window_type::tumbling, {}, 1min)};
  windows[0].allowed_lateness = 0ms;
  auto all = batches(2000);
  REQUIRE(all.size() == 1);
  // The log's last events close its first minutes on the aggregator; a
  // partial of the first events then comes too late.
  partial_collector first(windows, {}), rest(windows, {});
  event_batch early = all[0], late = all[0];
  early.events.resize(10);
  std::vector<window_engine> engines;
  engines.emplace_back(windows[0]);
  std::vector<std::vector<window_result>> closed(1);
  std::vector<bool> merged;
  merge_partials(rest.collect(late), 0, engines, closed, merged);
  CHECK(engines[0].late_dropped() == 0);
  merge_partials(first.collect(early), 0, engines, closed, merged);
  CHECK(engines[0].late_dropped() == 10);

  std::string blob = first.collect(early);
  blob[blob.size() / 2] ^= 0x5a;
  blob.resize(blob.size() - 3);
  CHECK_THROWS_AS(merge_partials(blob, 0, engines, closed, merged), state_decode_error);
  state_writer w;  // partials for window 7 of a node with one window
  w.i64(0);
  w.u64(1);
  w.u64(7);
  w.u64(0);
  CHECK_THROWS_AS(merge_partials(w.take(), 0, engines, closed, merged), state_decode_error);
}

TEST_CASE("three aggregators, each with its partition, together give every window what one would") {
  const std::vector<window_config> windows{
    window("minute", window_type::tumbling, {}, 1min), window("ip_minute", window_type::tumbling, {"ip"}, 1min),
    window("status_5m", window_type::sliding, {"status"}, 5min, 1min),
    window("visits", window_type::session, {"ip"}, 30s)};
  constexpr size_t aggregators = 3;
  auto make = [&](partition part) {
    std::vector<window_engine> engines;
    for (const auto& w : windows) {
      engines.emplace_back(w);
      engines.back().set_partition(part);
    }
    return engines;
  };
  auto single = make({});
  std::vector<std::vector<window_result>> closed_single(windows.size());
  std::vector<std::vector<window_engine>> parts;
  std::vector<std::vector<std::vector<window_result>>> closed_parts;
  for (size_t p = 0; p < aggregators; ++p) {
    parts.push_back(make({p, aggregators}));
    closed_parts.emplace_back(windows.size());
  }
  partial_collector collector(windows, {});
  std::vector<bool> merged;
  for (const auto& b : batches(100)) {
    batch_event_view events(b, {});
    for (size_t k = 0; k < events.size(); ++k)
      for (size_t i = 0; i < windows.size(); ++i) single[i].add(events.at(k), closed_single[i]);
    const auto blobs = collector.collect(b, aggregators);
    REQUIRE(blobs.size() == aggregators);
    for (size_t p = 0; p < aggregators; ++p) {
      merge_partials(blobs[p], 0, parts[p], closed_parts[p], merged);
      // The session window takes the events; the engine keeps its own groups.
      for (size_t k = 0; k < events.size(); ++k) parts[p][3].add(events.at(k), closed_parts[p][3]);
    }
  }
  const auto expected = results(single, closed_single);
  std::vector<std::string> together;
  for (size_t p = 0; p < aggregators; ++p) {
    const auto mine = results(parts[p], closed_parts[p]);
    // Each holds a share, and only its own keys.
    CHECK(mine.size() < expected.size());
    CHECK(!mine.empty());
    for (const auto& line : mine) {
      if (line.find("\"ip\":") != std::string::npos) {
        const auto from = line.find("\"ip\":\"") + 6;
        const std::string ip = line.substr(from, line.find('"', from) - from);
        CHECK(partition_of(windows[1], ip, aggregators) == p);
      }
    }
    together.insert(together.end(), mine.begin(), mine.end());
  }
  std::sort(together.begin(), together.end());
  CHECK(together == expected);
  // The whole-stream window is the first aggregator's only.
  size_t minute_results = 0;
  for (auto& c : closed_parts[1][0]) minute_results += c.group.empty();
  CHECK(minute_results == 0);
}
