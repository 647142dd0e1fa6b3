#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace vigil {

/// An alert as PRODUCT.md defines it ("Outputs"): one JSON object a line.
struct alert {
  std::string id;        ///< stable: rule + key + window start, so a replay repeats it
  std::string rule;
  std::string severity;
  std::string status;    ///< "firing" or "resolved"
  std::vector<std::pair<std::string, std::string>> key;  ///< the group, e.g. {"ip", "..."}
  double value = 0;      ///< the rule's first metric, when it fired or resolved
  double threshold = 0;  ///< what that metric is compared with
  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  int64_t first_seen_ms = 0;  ///< event time of the line that crossed the threshold
  int64_t emitted_at_ms = 0;  ///< wall clock
  std::string node;
  std::string summary;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alert& x) {
  return f(caf::meta::type_name("vigil.alert"), x.id, x.rule, x.severity, x.status, x.key, x.value,
           x.threshold, x.window_start_ms, x.window_end_ms, x.first_seen_ms, x.emitted_at_ms, x.node,
           x.summary);
}

/// The alert's JSON line (no trailing newline).
std::string to_json(const alert& a);

class state_writer;
class state_reader;
/// Checkpoint codec (state/state_codec.hpp): every field, in order.
void save(state_writer& w, const alert& a);
alert restore_alert(state_reader& r);

/// The alert as one line for people (the console sink); `repeat`: sent
/// again because it is still firing (`repeat_interval`).
std::string to_text(const alert& a, bool repeat = false);

} // namespace vigil
