#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "anomaly/series_detector.hpp"
#include "messages/window_delta.hpp"
#include "settings/config.hpp"

namespace vigil {

class state_writer;
class state_reader;
struct window_result;

/// The values a detector on `metric` adds to its window's close deltas (so
/// the detect stage can alert) and, the first, to its results.
struct detector_value_names {
  explicit detector_value_names(const std::string& metric);
  std::string score, value, expected, low, high, alert;
  std::vector<std::string> all() const { return {score, value, expected, low, high, alert}; }
};

/// The detectors of one window, in the window stage: at each close they
/// see every series' value of the instance (a group, or groups summed over
/// the detector's fewer group_by fields), in key order, score it, and put
/// the score into the results and the close deltas. A series' first value
/// is scored 0 and not learned from (its window is likely partial). Series
/// over a detector's max_series are not judged and are counted.
class detector_bank {
public:
  /// `watched`: the window's delta metrics (`watched_metrics`), which
  /// hold the detector values for the detect stage.
  detector_bank(const window_config& window, const std::vector<detector_config>& detectors,
                const std::vector<std::string>& watched);

  bool empty() const noexcept { return detectors_.empty(); }

  /// `closed`: results of this window, as the engine closed them (an
  /// instance's groups together, in key order); `deltas`: the engine's
  /// deltas of the same turn, whose closes get the detector values.
  void judge(std::vector<window_result>& closed, std::vector<window_delta>& deltas);

  /// Series judged, and values not judged because of max_series, over all
  /// the bank's detectors.
  size_t series() const noexcept;
  uint64_t series_dropped() const noexcept;

  /// Checkpoints: every series' detector, by detector name. A detector
  /// the config no longer has is dropped; a new one starts fresh.
  void save(state_writer& w) const;
  void restore(state_reader& r);

private:
  struct entry {
    detector_config cfg;
    std::string score_name;          // anomaly_score_<metric>, in the results
    std::vector<size_t> key_fields;  // the window's group fields the series key is made of
    std::vector<size_t> slots;       // per detector_value_names::all(), its index in the deltas' values
    std::map<std::string, series_detector> series;  // by key; ordered: saves are deterministic
    uint64_t dropped = 0;
  };
  std::string window_;
  std::vector<entry> detectors_;
};

} // namespace vigil
