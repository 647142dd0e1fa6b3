#pragma once

#include <cstdint>
#include <deque>
#include <string_view>
#include <utility>

#include <absl/container/flat_hash_set.h>

namespace vigil {

class state_writer;
class state_reader;

/// Recognises a line seen before within a span of event time (a shipper
/// that resent a block, a file copied twice into the glob). Lines are kept
/// as 64-bit hashes; a hash is forgotten once the newest event time is more
/// than `horizon_ms` past its own, so memory follows the line rate times
/// the horizon.
class duplicate_filter {
public:
  explicit duplicate_filter(int64_t horizon_ms) : horizon_ms_(horizon_ms) {}

  bool enabled() const noexcept { return horizon_ms_ > 0; }

  /// True when `line` was seen within the horizon; remembers it otherwise.
  bool seen(std::string_view line, int64_t time_ms);

  size_t remembered() const noexcept { return hashes_.size(); }

  /// Checkpoints: the hashes within the horizon with their event times.
  /// `restore` throws `state_decode_error` on bytes it cannot read.
  void save(state_writer& w) const;
  void restore(state_reader& r);

private:
  int64_t horizon_ms_;
  int64_t newest_ms_ = INT64_MIN;
  absl::flat_hash_set<uint64_t> hashes_;
  std::deque<std::pair<int64_t, uint64_t>> by_time_;  // arrival order; times mostly ascending
};

} // namespace vigil
