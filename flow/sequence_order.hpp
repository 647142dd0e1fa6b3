#pragma once

#include <cstdint>
#include <map>
#include <utility>

namespace vigil {

/// Puts numbered items of one stream back in order: a source's batches
/// come out of several parse chains in any order, and must be used in the
/// order they were read.
template <class T>
class sequence_order {
public:
  /// Takes item number `sequence`. If it is the next one, calls `ready`
  /// with it and with every held item that follows it without a gap;
  /// otherwise holds it.
  template <class Ready>
  void take(uint64_t sequence, T item, Ready&& ready) {
    if (sequence != next_) {
      early_.emplace(sequence, std::move(item));
      return;
    }
    ready(item);
    ++next_;
    for (auto it = early_.find(next_); it != early_.end(); it = early_.find(next_)) {
      T held = std::move(it->second);
      early_.erase(it);
      ready(held);
      ++next_;
    }
  }

  /// The number of the next item in order (items used so far).
  uint64_t next() const noexcept { return next_; }
  bool holding() const noexcept { return !early_.empty(); }

private:
  uint64_t next_ = 0;
  std::map<uint64_t, T> early_;
};

} // namespace vigil
