#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "anomaly/detector_params.hpp"

namespace vigil {

class state_writer;
class state_reader;

/// One point as the detector judged it.
struct anomaly_point {
  double score = 0;            ///< in [0, 1]; 0 while learning or suppressed
  double raw_score = 0;        ///< the same, not suppressed (an alert stays firing while this holds)
  double expected = 0;         ///< what it predicted
  double low = 0, high = 0;    ///< the band it expected the value in
  bool alert = false;          ///< score >= threshold, not suppressed
};

/// A detector of one series: sees its points once, in time order, with no
/// look-ahead, and keeps a fixed-size state (`state_bytes`) whatever the
/// series' length. Cost per point is constant. Saved and restored exactly:
/// a restored detector scores the rest of a series as the one that never
/// stopped.
class series_detector {
public:
  explicit series_detector(const detector_params& p = {});

  anomaly_point observe(int64_t time_ms, double value);

  uint64_t points() const noexcept { return s_.points; }

  void save(state_writer& w) const;
  /// Reads a saved detector; false (and this one unchanged) when it was of
  /// another method or layout, which then starts afresh.
  bool restore_if_same(state_reader& r);

  /// Bytes of state per series (what a detector per group costs).
  static constexpr size_t state_bytes();

  static constexpr size_t rarity_bins = 24;
  static constexpr size_t hours = 24, week_hours = 168;

private:
  struct state {
    uint64_t points = 0;
    double level = 0, spread = 0;        // robust (Huber-clipped) EW level and mean absolute residual
    double fast = 0;                     // EW mean of the clipped z: a shift of the level shows here first
    double slow_abs = 0;                 // EW mean of |value - level|, for the flat-series floor
    double error_flat = 0, error_day = 0, error_week = 0;  // each profile's EW absolute error
    int64_t last_alert_ms = INT64_MIN;
    int64_t last_time_ms = INT64_MIN;
    double mean = 0, var = 0;            // gaussian
    std::array<float, hours> day{};      // offset from the level by hour of day
    std::array<float, week_hours> week{};  // by hour of week
    std::array<uint16_t, hours> day_seen{};
    std::array<uint16_t, week_hours> week_seen{};
    std::array<float, rarity_bins> rarity{};  // decayed counts of recent points by distance
  };
  anomaly_point observe_baseline(int64_t time_ms, double value);
  anomaly_point observe_gaussian(double value);
  anomaly_point finish(int64_t time_ms, anomaly_point p);

  detector_params p_;
  state s_;
};

constexpr size_t series_detector::state_bytes() { return sizeof(series_detector); }

} // namespace vigil
