#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hash/string_map.hpp"

namespace vigil {

/// The most frequent values of a stream (space-saving, Metwally et al.).
/// Exact while at most `capacity` distinct values were seen; past that, a
/// new value takes the slot of the least counted one and inherits its
/// count as its error, so a reported count over-estimates by at most
/// `error` and any value more frequent than N / capacity is kept.
/// Mergeable (counts added, then trimmed to capacity).
class top_k {
public:
  explicit top_k(size_t capacity = 100) : capacity_(capacity) {}

  void add(std::string_view value, uint64_t n = 1) {
    total_ += n;
    if (auto it = slots_.find(value); it != slots_.end()) {
      it->second.first += n;
      return;
    }
    if (slots_.size() < capacity_) {
      slots_.emplace(std::string(value), std::pair<uint64_t, uint64_t>{n, 0});
      return;
    }
    auto least = std::min_element(slots_.begin(), slots_.end(),
                                  [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
    const uint64_t floor = least->second.first;
    slots_.erase(least);
    slots_.emplace(std::string(value), std::pair<uint64_t, uint64_t>{floor + n, floor});
  }

  void merge(const top_k& other) {
    total_ += other.total_;
    for (const auto& [value, c] : other.slots_) {
      auto& mine = slots_[value];
      mine.first += c.first;
      mine.second += c.second;
    }
    if (slots_.size() <= capacity_) return;
    auto items = sorted();
    slots_.clear();
    for (size_t i = 0; i < capacity_; ++i) slots_.emplace(items[i].value, std::pair<uint64_t, uint64_t>{items[i].count, items[i].error});
  }

  struct item {
    std::string value;
    uint64_t count = 0;
    uint64_t error = 0;  ///< count may be this much too high
  };
  /// Values by count, highest first (ties by value, so output is stable).
  std::vector<item> sorted() const {
    std::vector<item> out;
    out.reserve(slots_.size());
    for (const auto& [v, c] : slots_) out.push_back({v, c.first, c.second});
    std::sort(out.begin(), out.end(), [](const item& a, const item& b) {
      return a.count != b.count ? a.count > b.count : a.value < b.value;
    });
    return out;
  }
  uint64_t total() const noexcept { return total_; }
  size_t capacity() const noexcept { return capacity_; }

  template <class Writer>
  void save(Writer& w) const {
    w.u64(capacity_);
    w.u64(total_);
    auto items = sorted();
    w.u64(items.size());
    for (const auto& i : items) {
      w.str(i.value);
      w.u64(i.count);
      w.u64(i.error);
    }
  }
  template <class Reader>
  void restore(Reader& r) {
    capacity_ = r.u64();
    total_ = r.u64();
    slots_.clear();
    const uint64_t n = r.count();
    for (uint64_t i = 0; i < n; ++i) {
      std::string v(r.str());
      uint64_t c = r.u64();
      uint64_t e = r.u64();
      slots_.emplace(std::move(v), std::pair<uint64_t, uint64_t>{c, e});
    }
  }

private:
  size_t capacity_;
  uint64_t total_ = 0;
  string_map<std::pair<uint64_t, uint64_t>> slots_;  // value -> (count, error)
};

} // namespace vigil
