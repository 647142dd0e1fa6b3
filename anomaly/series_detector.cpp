#include "anomaly/series_detector.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "state/state_codec.hpp"

namespace vigil {

namespace {

// One parameter set for every series (NAB's rule, and an operator's: a
// detector must not need tuning per metric), chosen by bench/nab_bench.sh
// on NAB's development series. Rates are per point.
constexpr double level_rate = 0.01;        // the level follows ~100 points
constexpr double profile_rate = 0.1;       // an hour's offset follows ~10 visits of that hour
constexpr double error_rate = 0.01;        // each model's typical error: ~100 points
constexpr double shift_rate = 0.05;        // the level-shift detector's memory: ~20 points
constexpr double rarity_decay = 0.998;     // the distances' memory: ~500 points
constexpr double clip = 6.0;               // a residual moves the level and the errors by this many sigmas at most
constexpr double sigma_per_spread = 1.25;  // mean absolute deviation -> standard deviation, for a normal
constexpr double shift_anchor = 3.0;       // residuals this many sigmas off on average: the level moves there
constexpr double tail_prior = 1.0;         // pseudo-points in the rarity tail: never seen is 1 in (history + 1)
constexpr double min_sigmas = 5.0;         // nearer than this to the expected value is never anomalous
constexpr double surprise_floor = 1.0;     // rarer than 1 in 10 starts to count ...
constexpr double surprise_scale = 4.0;     // ... and each factor of 10 rarer adds 4 sigmas
constexpr uint64_t warm_up = 10;          // points before the distances are counted
constexpr uint16_t profile_ready = 3;      // visits before an hour's offset is trusted

/// Evidence in sigmas -> an anomaly score in [0, 1): 0 up to 3, 0.5 at
/// about 5.1, 0.86 at 9.
double score_of(double sigmas) {
  return sigmas <= 3.0 ? 0.0 : 1.0 - std::exp(-(sigmas - 3.0) / 3.0);
}
/// The inverse: how many sigmas a score stands for (the band's width).
double sigmas_of(double score) {
  return score <= 0 ? 3.0 : 3.0 - 3.0 * std::log1p(-std::min(score, 0.999999));
}

/// The rarity bin of a distance in sigmas: log-spaced, a bin per factor
/// of sqrt(2) from 1 (bin 0 below 1, the last open).
size_t bin_of(double sigmas) {
  if (!(sigmas >= 1.0)) return 0;
  const double k = 1.0 + 2.0 * std::log2(sigmas);
  return std::min(series_detector::rarity_bins - 1, static_cast<size_t>(k));
}

int64_t hours_since_epoch(int64_t ms) { return ms >= 0 ? ms / 3600000 : (ms - 3599999) / 3600000; }

} // namespace

const char* to_string(detector_method m) {
  switch (m) {
    case detector_method::baseline: return "baseline";
    case detector_method::gaussian: return "gaussian";
  }
  return "?";
}

std::optional<detector_method> parse_detector_method(std::string_view name) {
  if (name == "baseline") return detector_method::baseline;
  if (name == "gaussian") return detector_method::gaussian;
  return std::nullopt;
}

std::string detector_method_names() { return "baseline and gaussian"; }

series_detector::series_detector(const detector_params& p) : p_(p) {}

anomaly_point series_detector::observe(int64_t time_ms, double value) {
  if (!std::isfinite(value)) {
    // No data (a latency without request times): nothing to learn or judge.
    anomaly_point p;
    p.expected = p.low = p.high = p_.method == detector_method::gaussian ? s_.mean : s_.level;
    return p;
  }
  anomaly_point p = p_.method == detector_method::gaussian ? observe_gaussian(value) : observe_baseline(time_ms, value);
  return finish(time_ms, p);
}

anomaly_point series_detector::observe_baseline(int64_t time_ms, double x) {
  state& s = s_;
  const int64_t h = hours_since_epoch(time_ms);
  const size_t hour = static_cast<size_t>(((h % 24) + 24) % 24);
  const size_t week_hour = static_cast<size_t>((((h + 72) % 168) + 168) % 168);  // 0: Monday 00:00 UTC
  if (s.points == 0) {
    s.level = x;
    s.slow_abs = std::abs(x);
  }
  ++s.points;

  // The three predictions, and the one that has been best lately.
  const double day_offset = s.day_seen[hour] >= profile_ready ? s.day[hour] : 0.0;
  const double week_offset = s.week_seen[week_hour] >= profile_ready ? s.week[week_hour] : day_offset;
  const double predictions[3] = {s.level, s.level + day_offset, s.level + week_offset};
  double* errors[3] = {&s.error_flat, &s.error_day, &s.error_week};
  size_t best = 0;
  for (size_t m = 1; m < 3; ++m)
    if (*errors[m] < *errors[best] * 0.95) best = m;  // a profile must earn its place
  const double expected = predictions[best];
  // The spread: the chosen model's typical error, with a floor so a flat
  // series (spread 0) does not make every rounding a thousand sigmas.
  const double floor = 1e-3 * s.slow_abs + 1e-9;
  const double sigma = sigma_per_spread * std::max(*errors[best], floor);
  const double z = (x - expected) / sigma;

  // A level shift: the recent residuals on average far from 0.
  const double zc = std::clamp(z, -8.0, 8.0);
  s.fast += shift_rate * (zc - s.fast);
  const double shift_sigmas = std::abs(s.fast) / std::sqrt(shift_rate / (2 - shift_rate));

  // Rarity: how often the recent points were at least as far out.
  const double distance = std::max(std::abs(z), shift_sigmas);
  const size_t bin = bin_of(distance);
  double total = 0, tail = 0;
  for (size_t k = 0; k < rarity_bins; ++k) {
    total += s.rarity[k];
    if (k >= bin) tail += s.rarity[k];
  }
  const double surprise = -std::log10((tail + tail_prior) / (total + tail_prior));
  // How far out it is decides whether it may be an anomaly; how rarely the
  // series went that far lately decides how much of one (a spiky series'
  // usual spike is not news).
  const double sigmas = distance < min_sigmas ? 0.0 : 3.0 + std::max(0.0, surprise - surprise_floor) * surprise_scale;
  anomaly_point p;
  p.score = score_of(sigmas);
  p.expected = expected;
  // The band it never alerts inside.
  p.low = expected - min_sigmas * sigma;
  p.high = expected + min_sigmas * sigma;

  // Learn from the point, outliers clipped so one spike moves nothing far.
  // Not while the errors are still settling: the first points' distances
  // are in units of a spread not yet known.
  if (s.points > warm_up) {
    for (auto& c : s.rarity) c *= static_cast<float>(rarity_decay);
    s.rarity[bin] += 1.0f;
  }
  const double limit = clip * sigma;
  for (size_t m = 0; m < 3; ++m) {
    const double e = std::min(std::abs(x - predictions[m]), limit);
    *errors[m] += (s.points < 50 ? 1.0 / s.points : error_rate) * (e - *errors[m]);
  }
  const double deseasoned = x - (expected - s.level);
  s.level += (s.points < 50 ? 1.0 / s.points : level_rate) * std::clamp(deseasoned - s.level, -limit, limit);
  s.slow_abs += error_rate * (std::abs(x) - s.slow_abs);
  auto learn_offset = [&](float& offset, uint16_t& seen) {
    const double r = std::clamp(x - s.level - offset, -limit, limit);
    offset = static_cast<float>(offset + (seen == 0 ? 1.0 : profile_rate) * r);
    if (seen < UINT16_MAX) ++seen;
  };
  learn_offset(s.day[hour], s.day_seen[hour]);
  learn_offset(s.week[week_hour], s.week_seen[week_hour]);
  if (std::abs(s.fast) > shift_anchor) {
    // The series moved: follow it now rather than over hundreds of points.
    s.level += s.fast * sigma;
    s.fast = 0;
  }
  return p;
}

anomaly_point series_detector::observe_gaussian(double x) {
  state& s = s_;
  ++s.points;
  if (s.points == 1) s.mean = x;
  const double rate = s.points < 100 ? 1.0 / s.points : level_rate;
  const double sigma = std::sqrt(s.var) + 1e-9 * (std::abs(s.mean) + 1);
  anomaly_point p;
  p.score = score_of(std::abs(x - s.mean) / sigma);
  p.expected = s.mean;
  const double half = sigmas_of(p_.threshold) * sigma;
  p.low = s.mean - half;
  p.high = s.mean + half;
  const double d = x - s.mean;
  s.mean += rate * d;
  s.var = (1 - rate) * (s.var + rate * d * d);
  return p;
}

anomaly_point series_detector::finish(int64_t time_ms, anomaly_point p) {
  if (s_.points <= p_.learn) p.score = 0;
  p.raw_score = p.score;
  if (s_.last_alert_ms != INT64_MIN && time_ms - s_.last_alert_ms < p_.suppress_ms) p.score = 0;
  p.alert = p.score >= p_.threshold && p.score > 0;
  if (p.alert) s_.last_alert_ms = time_ms;
  s_.last_time_ms = time_ms;
  return p;
}

void series_detector::save(state_writer& w) const {
  w.u64(static_cast<uint64_t>(p_.method));
  w.bin(&s_, sizeof s_);
}

bool series_detector::restore_if_same(state_reader& r) {
  const uint64_t method = r.u64();
  const std::string bytes = r.bin();
  if (method != static_cast<uint64_t>(p_.method) || bytes.size() != sizeof s_) return false;
  std::memcpy(&s_, bytes.data(), sizeof s_);
  return true;
}

} // namespace vigil
