#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace vigil {

/// The N counters of a window group: 4 bytes each while every one fits,
/// all 8 bytes (on the heap) from the first add that would not fit. A
/// million groups of small counts cost half as much, and no count is cut.
template <size_t N>
class group_counters {
public:
  group_counters() = default;
  group_counters(const group_counters& o) { *this = o; }
  group_counters& operator=(const group_counters& o) {
    if (this == &o) return *this;
    std::memcpy(narrow_, o.narrow_, sizeof narrow_);
    if (!o.wide_) {
      wide_.reset();
    } else {
      if (!wide_) wide_ = std::make_unique<uint64_t[]>(N);
      std::copy_n(o.wide_.get(), N, wide_.get());
    }
    return *this;
  }
  group_counters(group_counters&&) noexcept = default;
  group_counters& operator=(group_counters&&) noexcept = default;

  uint64_t operator[](size_t i) const noexcept { return wide_ ? wide_[i] : narrow_[i]; }

  void add(size_t i, uint64_t v) {
    if (!wide_) {
      if (v <= narrow_limit - narrow_[i]) {
        narrow_[i] += static_cast<uint32_t>(v);
        return;
      }
      widen();
    }
    wide_[i] += v;
  }

  void set(size_t i, uint64_t v) {
    if (!wide_ && v > narrow_limit) widen();
    if (wide_) wide_[i] = v;
    else narrow_[i] = static_cast<uint32_t>(v);
  }

  /// Whether the counters are 8 bytes each (one outgrew 4).
  bool wide() const noexcept { return wide_ != nullptr; }

private:
  static constexpr uint64_t narrow_limit = UINT32_MAX;

  void widen() {
    wide_ = std::make_unique<uint64_t[]>(N);
    std::copy_n(narrow_, N, wide_.get());
  }

  uint32_t narrow_[N] = {};
  std::unique_ptr<uint64_t[]> wide_;  // all N counters, once one outgrew 4 bytes
};

} // namespace vigil
