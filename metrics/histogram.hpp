#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vigil {

/// A Prometheus histogram with fixed buckets, safe to observe from one
/// thread while another reads it (the counts are atomics; a reader may see
/// an observation in a bucket before the sum: harmless for a scrape).
template <size_t N>
class fixed_histogram {
public:
  explicit constexpr fixed_histogram(std::array<double, N> bounds) : bounds_(bounds) {}

  void observe(double v) noexcept {
    for (size_t i = 0; i < N; ++i)
      if (v <= bounds_[i]) ++buckets_[i];
    ++count_;
    // The sum in millionths: atomics of double have no fetch_add in C++17.
    sum_micros_ += static_cast<uint64_t>(v < 0 ? 0 : v * 1e6);
  }

  const std::array<double, N>& bounds() const noexcept { return bounds_; }
  /// Observations at or below bound `i` (cumulative, as Prometheus wants).
  uint64_t at_or_below(size_t i) const noexcept { return buckets_[i].load(); }
  uint64_t count() const noexcept { return count_.load(); }
  double sum() const noexcept { return static_cast<double>(sum_micros_.load()) / 1e6; }

private:
  std::array<double, N> bounds_;
  std::array<std::atomic<uint64_t>, N> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

} // namespace vigil
