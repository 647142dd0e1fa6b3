#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace vigil {

/// A mergeable quantile sketch with a relative error bound (the DDSketch
/// idea: logarithmic buckets). For values v >= 1, the quantile returned is
/// within `relative_accuracy` of the true value's: |q' - q| <= alpha * q.
/// Values below 1 (e.g. 0 us) share one bucket and are reported as 0.
/// Memory grows with the log of the value range, not with the count:
/// about 700 buckets cover 1 us .. 1 hour at 1%.
///
/// While few buckets hold values (`sparse_buckets`), they are a sorted list
/// of (bucket, count); past that, one contiguous array from the lowest index
/// seen to the highest. Either way a quantile is a scan of counters in bucket
/// order, and the same counts give the same quantiles: a window group with
/// two requests, of 1 ms and 2 s, holds 2 entries instead of 380 counters.
class quantile_sketch {
public:
  static constexpr double default_accuracy = 0.01;

  explicit quantile_sketch(double relative_accuracy = default_accuracy)
    : gamma_(gamma_of(relative_accuracy)), log_gamma_(log_of(gamma_)) {}

  void add(double v, uint64_t n = 1) {
    add_to_bucket(v < 1 ? 0 : static_cast<int32_t>(std::ceil(std::log(v) / log_gamma_)), v, n);
  }

  /// The bucket of `v` in a sketch of the default accuracy: for callers
  /// that add one value to many such sketches (one log, not one each).
  static int32_t bucket_of(double v) {
    return v < 1 ? 0 : static_cast<int32_t>(std::ceil(std::log(v) / log_of(gamma_of(default_accuracy))));
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
    other.each_bucket([this](int32_t k, uint64_t n) {
      bucket(k) += n;
      return true;
    });
  }

  /// The value at rank ceil(q * count) (nearest rank), 0 < q <= 1;
  /// 0 when empty. Never above the exact maximum.
  double quantile(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
    if (rank < 1) rank = 1;
    if (rank <= zeros_) return 0;
    uint64_t seen = zeros_;
    int32_t found = 0;
    bool done = false;
    // Empty buckets add nothing, so the first bucket that reaches the rank
    // is the same in either form.
    each_bucket([&](int32_t k, uint64_t n) {
      seen += n;
      if (seen >= rank) {
        found = k;
        done = true;
      }
      return !done;
    });
    if (!done) return max_;
    // The bucket (gamma^(k-1), gamma^k]: its middle in relative terms.
    const double v = 2 * std::pow(gamma_, found) / (gamma_ + 1);
    return v < max_ ? v : max_;
  }

  uint64_t count() const noexcept { return count_; }
  double max() const noexcept { return max_; }
  /// Buckets holding values (the "below 1" bucket included).
  size_t buckets() const noexcept {
    size_t n = zeros_ > 0;
    each_bucket([&n](int32_t, uint64_t) { return ++n, true; });
    return n;
  }
  /// True while the buckets are kept as a list.
  bool sparse() const noexcept { return counts_.empty(); }
  /// Buckets kept as a list before they become one array.
  static constexpr size_t sparse_buckets = 32;

  /// Checkpoints (`state_writer` / `state_reader` from state/state_codec.hpp):
  /// the buckets as one array from the lowest to the highest, whatever
  /// their form in memory.
  template <class Writer>
  void save(Writer& w) const {
    w.f64(gamma_);
    w.u64(count_);
    w.u64(zeros_);
    w.f64(max_);
    if (sparse()) {
      w.i64(list_.empty() ? 0 : list_.front().first);
      w.u64s(list_as_array());
    } else {
      w.i64(lowest_);
      w.u64s(counts_);
    }
  }
  template <class Reader>
  void restore(Reader& r) {
    gamma_ = r.f64();
    log_gamma_ = log_of(gamma_);
    count_ = r.u64();
    zeros_ = r.u64();
    max_ = r.f64();
    lowest_ = static_cast<int32_t>(r.i64());
    // Read into the sorted list while few buckets hold values, into the
    // array once more do: a restart does not allocate the array of a
    // sketch that the list holds.
    const size_t n = r.u64s_begin();
    list_.clear();
    std::vector<uint64_t>().swap(counts_);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t c = r.u64();
      if (c == 0) continue;
      if (list_.size() < sparse_buckets) {
        list_.emplace_back(lowest_ + static_cast<int32_t>(i), c);
        continue;
      }
      counts_.assign(n, 0);
      for (const auto& [k, count] : list_) counts_[static_cast<size_t>(k - lowest_)] = count;
      std::vector<std::pair<int32_t, uint64_t>>().swap(list_);
      counts_[i] = c;
      for (++i; i < n; ++i) counts_[i] = r.u64();
    }
  }

private:
  /// Calls `f(bucket, count)` for each bucket holding values, in order,
  /// while it returns true.
  template <class F>
  void each_bucket(F&& f) const {
    if (sparse()) {
      for (const auto& [k, n] : list_)
        if (!f(k, n)) return;
      return;
    }
    for (size_t i = 0; i < counts_.size(); ++i)
      if (counts_[i] != 0 && !f(lowest_ + static_cast<int32_t>(i), counts_[i])) return;
  }

  /// The list's counts as the array from its first bucket to its last.
  std::vector<uint64_t> list_as_array() const {
    std::vector<uint64_t> counts;
    if (list_.empty()) return counts;
    counts.resize(static_cast<size_t>(list_.back().first - list_.front().first) + 1);
    for (const auto& [k, n] : list_) counts[static_cast<size_t>(k - list_.front().first)] = n;
    return counts;
  }

  uint64_t& bucket(int32_t k) {
    if (sparse()) {
      auto at = std::lower_bound(list_.begin(), list_.end(), k,
                                 [](const std::pair<int32_t, uint64_t>& e, int32_t key) { return e.first < key; });
      if (at != list_.end() && at->first == k) return at->second;
      if (list_.size() < sparse_buckets) return list_.insert(at, {k, 0})->second;
      // One bucket more than the list keeps: the array from here on.
      lowest_ = list_.front().first;
      counts_ = list_as_array();
      std::vector<std::pair<int32_t, uint64_t>>().swap(list_);
    }
    if (k < lowest_) {
      counts_.insert(counts_.begin(), static_cast<size_t>(lowest_ - k), 0);
      lowest_ = k;
    } else if (static_cast<size_t>(k - lowest_) >= counts_.size()) {
      counts_.resize(static_cast<size_t>(k - lowest_) + 1);
    }
    return counts_[static_cast<size_t>(k - lowest_)];
  }

  static constexpr double gamma_of(double relative_accuracy) {
    return (1 + relative_accuracy) / (1 - relative_accuracy);
  }
  // The default accuracy's log once, not per sketch made or restored (a
  // restart makes a million) nor per value bucketed.
  static double log_of(double gamma) {
    static const double default_log = std::log(gamma_of(default_accuracy));
    return gamma == gamma_of(default_accuracy) ? default_log : std::log(gamma);
  }

  double gamma_;
  double log_gamma_;
  uint64_t count_ = 0;
  uint64_t zeros_ = 0;
  double max_ = 0;
  int32_t lowest_ = 0;              // the array's first bucket
  std::vector<uint64_t> counts_;    // the array; empty while the list is used
  std::vector<std::pair<int32_t, uint64_t>> list_;  // (bucket, count), sorted, while sparse
};

} // namespace vigil
