#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

/// How a detector learns a series' normal behaviour (README, "Detectors").
enum class detector_method : uint8_t {
  /// Robust level and spread, hour-of-day and day-of-week profiles, level
  /// shifts and the rarity of the value among recent ones, combined. The default.
  baseline,
  /// An exponentially weighted mean and variance and the z-score against
  /// them: the simple reference (NAB's "windowed Gaussian" in streaming form).
  gaussian,
};
const char* to_string(detector_method m);
std::optional<detector_method> parse_detector_method(std::string_view name);
/// "baseline and gaussian", for errors and --help.
std::string detector_method_names();

/// What a detector is told (the `[[detector]]` keys it reads).
struct detector_params {
  detector_method method = detector_method::baseline;
  /// Points seen before it may alert: it scores 0 until then.
  uint32_t learn = 288;
  /// An anomaly score at or over this is an alert.
  double threshold = 0.5;
  /// After an alert, no other for this long (event time): its score reads
  /// 0 meanwhile, so one incident is one alert.
  int64_t suppress_ms = 4 * 3600 * 1000;
};

} // namespace vigil
