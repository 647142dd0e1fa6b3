#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace vigil {

/// One group of a window instance, as the rules see it: the values of the
/// metrics its window's rules read, in the order the window stage and the
/// detect stage agreed on (`watched_metrics`). NaN: the metric has no data
/// (latency without request times).
struct group_snapshot {
  std::vector<std::pair<std::string, std::string>> group;
  std::vector<double> values;
  int64_t last_event_ms = 0;  ///< event time of the latest event in the group
};

/// A group as one string ("field=value\x1f" each), a key to find it by in
/// the detect stage's state.
inline std::string group_text(const std::vector<std::pair<std::string, std::string>>& group) {
  std::string s;
  for (const auto& [k, v] : group) s += k + "=" + v + "\x1f";
  return s;
}

/// What changed in one window instance since the window stage last said:
/// the groups that took events, or, with `closed`, the groups of the
/// instance as it closed. Deltas of one instance arrive in order, its
/// changes before its close. A large instance closes in slices: several
/// closed deltas in key order, `last` set on the final one; a change of a
/// group in a later instance comes after the slice that closes the group.
struct window_delta {
  std::string window;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool closed = false;
  std::vector<group_snapshot> groups;
  bool last = true;  ///< with `closed`: no more slices of this close follow
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_snapshot& x) {
  return f(caf::meta::type_name("vigil.group_snapshot"), x.group, x.values, x.last_event_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, window_delta& x) {
  return f(caf::meta::type_name("vigil.window_delta"), x.window, x.start_ms, x.end_ms, x.closed, x.groups, x.last);
}

} // namespace vigil
