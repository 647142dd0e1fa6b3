#include "clean/duplicate_filter.hpp"

#include <algorithm>

#include "hash/stable_hash.hpp"
#include "state/state_codec.hpp"

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

void duplicate_filter::save(state_writer& w) const {
  w.i64(newest_ms_);
  std::vector<uint64_t> times, hashes;
  times.reserve(by_time_.size());
  hashes.reserve(by_time_.size());
  for (const auto& [t, h] : by_time_) {
    times.push_back(static_cast<uint64_t>(t));
    hashes.push_back(h);
  }
  w.u64s(times);
  w.u64s(hashes);
}

void duplicate_filter::restore(state_reader& r) {
  newest_ms_ = r.i64();
  const auto times = r.u64s(), hashes = r.u64s();
  if (times.size() != hashes.size()) throw state_decode_error("duplicate filter: times and hashes differ in number");
  hashes_.clear();
  by_time_.clear();
  hashes_.reserve(hashes.size());
  for (size_t i = 0; i < hashes.size(); ++i) {
    hashes_.insert(hashes[i]);
    by_time_.emplace_back(static_cast<int64_t>(times[i]), hashes[i]);
  }
}

} // namespace vigil
