#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace vigil {

/// A mergeable quantile sketch with a relative error bound (the DDSketch
/// idea: logarithmic buckets). For values v >= 1, the quantile returned is
/// within `relative_accuracy` of the true value's: |q' - q| <= alpha * q.
/// Values below 1 (e.g. 0 us) share one bucket and are reported as 0.
/// Memory grows with the log of the value range, not with the count:
/// about 700 buckets cover 1 us .. 1 hour at 1%.
///
/// Buckets are one contiguous array from the lowest index seen to the
/// highest, so a quantile is a linear scan of counters, not a tree walk.
class quantile_sketch {
public:
  explicit quantile_sketch(double relative_accuracy = 0.01)
    : gamma_((1 + relative_accuracy) / (1 - relative_accuracy)), log_gamma_(std::log(gamma_)) {}

  void add(double v, uint64_t n = 1) {
    add_to_bucket(v < 1 ? 0 : static_cast<int32_t>(std::ceil(std::log(v) / log_gamma_)), v, n);
  }

  /// The bucket of `v` in a sketch of the default accuracy: for callers
  /// that add one value to many such sketches (one log, not one each).
  static int32_t bucket_of(double v) {
    static const double log_gamma = std::log(1.01 / 0.99);
    return v < 1 ? 0 : static_cast<int32_t>(std::ceil(std::log(v) / log_gamma));
  }

  /// Adds `v` whose bucket is `k` (from `bucket_of`, default accuracy only).
  void add_to_bucket(int32_t k, double v, uint64_t n = 1) {
    count_ += n;
    if (v > max_) max_ = v;
    if (v < 1) {
      zeros_ += n;
      return;
    }
    bucket(k) += n;
  }

  /// Folds `other` in; both must use the same accuracy.
  void merge(const quantile_sketch& other) {
    count_ += other.count_;
    zeros_ += other.zeros_;
    if (other.max_ > max_) max_ = other.max_;
    for (size_t i = 0; i < other.counts_.size(); ++i)
      if (other.counts_[i] != 0) bucket(other.lowest_ + static_cast<int32_t>(i)) += other.counts_[i];
  }

  /// The value at rank ceil(q * count) (nearest rank), 0 < q <= 1;
  /// 0 when empty. Never above the exact maximum.
  double quantile(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
    if (rank < 1) rank = 1;
    if (rank <= zeros_) return 0;
    uint64_t seen = zeros_;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) {
        // The bucket (gamma^(k-1), gamma^k]: its middle in relative terms.
        double v = 2 * std::pow(gamma_, lowest_ + static_cast<int32_t>(i)) / (gamma_ + 1);
        return v < max_ ? v : max_;
      }
    }
    return max_;
  }

  uint64_t count() const noexcept { return count_; }
  double max() const noexcept { return max_; }
  /// Buckets holding values (the "below 1" bucket included).
  size_t buckets() const noexcept {
    size_t n = zeros_ > 0;
    for (uint64_t c : counts_) n += c != 0;
    return n;
  }

  /// Checkpoints (`state_writer` / `state_reader` from state/state_codec.hpp).
  template <class Writer>
  void save(Writer& w) const {
    w.f64(gamma_);
    w.u64(count_);
    w.u64(zeros_);
    w.f64(max_);
    w.i64(lowest_);
    w.u64s(counts_);
  }
  template <class Reader>
  void restore(Reader& r) {
    gamma_ = r.f64();
    log_gamma_ = std::log(gamma_);
    count_ = r.u64();
    zeros_ = r.u64();
    max_ = r.f64();
    lowest_ = static_cast<int32_t>(r.i64());
    counts_ = r.u64s();
  }

private:
  uint64_t& bucket(int32_t k) {
    if (counts_.empty()) {
      lowest_ = k;
      counts_.resize(1);
    } else if (k < lowest_) {
      counts_.insert(counts_.begin(), static_cast<size_t>(lowest_ - k), 0);
      lowest_ = k;
    } else if (static_cast<size_t>(k - lowest_) >= counts_.size()) {
      counts_.resize(static_cast<size_t>(k - lowest_) + 1);
    }
    return counts_[static_cast<size_t>(k - lowest_)];
  }

  double gamma_;
  double log_gamma_;
  uint64_t count_ = 0;
  uint64_t zeros_ = 0;
  double max_ = 0;
  int32_t lowest_ = 0;
  std::vector<uint64_t> counts_;
};

} // namespace vigil
