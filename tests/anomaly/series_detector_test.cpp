#include <cmath>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "anomaly/series_detector.hpp"
#include "state/state_codec.hpp"

using namespace vigil;

namespace {

constexpr int64_t five_minutes = 5 * 60 * 1000;
constexpr int64_t monday = 1704067200000;  // 2024-01-01T00:00:00Z

/// Indices of the points that alerted.
std::vector<size_t> alerts_of(series_detector& d, const std::vector<double>& values, int64_t step = five_minutes) {
  std::vector<size_t> out;
  for (size_t i = 0; i < values.size(); ++i)
    if (d.observe(monday + static_cast<int64_t>(i) * step, values[i]).alert) out.push_back(i);
  return out;
}

std::vector<double> noise(size_t n, double mean, double sd, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(mean, sd);
  std::vector<double> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

detector_params with_method(detector_method m) {
  detector_params p;
  p.method = m;
  return p;
}

} // namespace

TEST_CASE("a flat line never alerts and scores 0", "[anomaly]") {
  for (auto m : {detector_method::baseline, detector_method::gaussian}) {
    series_detector d(with_method(m));
    for (int i = 0; i < 5000; ++i) {
      const auto p = d.observe(monday + i * five_minutes, 42.0);
      REQUIRE(p.score == 0);
      REQUIRE_FALSE(p.alert);
    }
    CHECK(d.points() == 5000);
  }
}

TEST_CASE("a spike in noise alerts at the spike and nowhere else", "[anomaly]") {
  for (auto m : {detector_method::baseline, detector_method::gaussian}) {
    INFO(to_string(m));
    auto values = noise(3000, 100, 5, 7);
    values[2000] = 200;
    series_detector d(with_method(m));
    CHECK(alerts_of(d, values) == std::vector<size_t>{2000});
  }
}

TEST_CASE("a level shift alerts once, as it happens, and the new level becomes normal", "[anomaly]") {
  auto values = noise(4000, 100, 5, 11);
  for (size_t i = 1500; i < values.size(); ++i) values[i] += 60;
  series_detector d;
  const auto alerts = alerts_of(d, values);
  REQUIRE_FALSE(alerts.empty());
  CHECK(alerts.front() >= 1500);
  CHECK(alerts.front() <= 1503);
  CHECK(alerts.size() == 1);  // no alarm for the rest of the run at the new level
  // The reference sees the shift too (its mean then follows the new level).
  series_detector g(with_method(detector_method::gaussian));
  const auto g_alerts = alerts_of(g, values);
  REQUIRE_FALSE(g_alerts.empty());
  CHECK(g_alerts.front() >= 1500);
  CHECK(g_alerts.front() <= 1503);
}

TEST_CASE("a daily pattern: a daytime value at 3 am alerts, the days themselves do not", "[anomaly]") {
  // Busy 08:00-20:00 (150), quiet at night (50), every day; a value that is
  // normal by day arrives at 03:00 on the tenth day.
  std::vector<double> values = noise(288 * 12, 0, 3, 5);
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t hour = i % 288 / 12;
    values[i] += hour >= 8 && hour < 20 ? 150 : 50;
  }
  const size_t at = 288 * 9 + 3 * 12;
  values[at] = values[at + 1] = 150;
  series_detector d;
  const auto alerts = alerts_of(d, values);
  CHECK(alerts == std::vector<size_t>{at});
  // A detector without seasons sees a value inside its range.
  series_detector flat(with_method(detector_method::gaussian));
  const auto flat_alerts = alerts_of(flat, values);
  CHECK(std::find(flat_alerts.begin(), flat_alerts.end(), at) == flat_alerts.end());
}

TEST_CASE("after an alert the detector keeps quiet for its suppress time", "[anomaly]") {
  auto values = noise(2000, 100, 5, 3);
  values[1000] = values[1010] = values[1100] = 300;  // 50 and 500 minutes later
  detector_params p;
  p.suppress_ms = 2 * 3600 * 1000;
  series_detector d(p);
  std::vector<double> raw;
  std::vector<size_t> alerts;
  for (size_t i = 0; i < values.size(); ++i) {
    const auto point = d.observe(monday + static_cast<int64_t>(i) * five_minutes, values[i]);
    if (point.alert) alerts.push_back(i);
    if (i == 1010) {
      CHECK(point.score == 0);        // suppressed: what sinks and NAB see
      CHECK(point.raw_score >= 0.5);  // still anomalous: a firing alert stays
    }
  }
  CHECK(alerts == std::vector<size_t>{1000, 1100});
}

TEST_CASE("nothing is learned from a point without data", "[anomaly]") {
  series_detector d;
  for (int i = 0; i < 400; ++i) d.observe(monday + i * five_minutes, 10);
  const auto p = d.observe(monday + 400 * five_minutes, std::nan(""));
  CHECK(p.score == 0);
  CHECK(d.points() == 400);
}

TEST_CASE("a restored detector scores the rest of a series as the one that never stopped", "[anomaly]") {
  auto values = noise(3000, 100, 5, 9);
  for (size_t i = 1800; i < 1900; ++i) values[i] += 40;
  for (auto m : {detector_method::baseline, detector_method::gaussian}) {
    series_detector whole(with_method(m)), first(with_method(m));
    for (size_t i = 0; i < 1000; ++i) {
      whole.observe(monday + static_cast<int64_t>(i) * five_minutes, values[i]);
      first.observe(monday + static_cast<int64_t>(i) * five_minutes, values[i]);
    }
    state_writer w;
    first.save(w);
    const std::string bytes = w.take();
    CHECK(bytes.size() <= 4096);  // the per-series bound the README states
    series_detector resumed(with_method(m));
    state_reader r(bytes);
    REQUIRE(resumed.restore_if_same(r));
    for (size_t i = 1000; i < values.size(); ++i) {
      const int64_t t = monday + static_cast<int64_t>(i) * five_minutes;
      const auto a = whole.observe(t, values[i]), b = resumed.observe(t, values[i]);
      REQUIRE(a.score == b.score);
      REQUIRE(a.expected == b.expected);
      REQUIRE(a.alert == b.alert);
    }
    // Another method's state is not taken.
    series_detector other(with_method(m == detector_method::baseline ? detector_method::gaussian : detector_method::baseline));
    state_reader again(bytes);
    CHECK_FALSE(other.restore_if_same(again));
  }
  CHECK(series_detector::state_bytes() <= 4096);
}
