#include "clean/duplicate_filter.hpp"

#include <algorithm>

#include "hash/stable_hash.hpp"

namespace vigil {

bool duplicate_filter::seen(std::string_view line, int64_t time_ms) {
  const uint64_t h = stable_hash(line);
  newest_ms_ = std::max(newest_ms_, time_ms);
  // Forget what fell out of the horizon. Arrival order is close to time
  // order in logs; an old entry stuck behind a newer one lives a little
  // longer, never shorter.
  while (!by_time_.empty() && by_time_.front().first < newest_ms_ - horizon_ms_) {
    hashes_.erase(by_time_.front().second);
    by_time_.pop_front();
  }
  if (!hashes_.insert(h).second) return true;
  by_time_.emplace_back(time_ms, h);
  return false;
}

} // namespace vigil
