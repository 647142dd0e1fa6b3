#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <tuple>
#include <string>
#include <vector>

#include "hash/string_map.hpp"
#include "messages/alert.hpp"

namespace vigil {

/// How one alert sink wants its alerts.
struct alert_output {
  bool readable = false;           ///< lines for people instead of JSON
  int64_t group_wait_ms = 0;       ///< 0: each alert at once
  int64_t repeat_interval_ms = 0;  ///< 0: a firing alert is sent once
};

/// What the alert stage does between detection and the sinks, without the
/// actor: de-duplication (an alert id fires once and resolves once, so a
/// replay after a restart does not notify twice), grouping (alerts of one
/// rule and status within `group_wait` leave as one write: one webhook
/// POST), repeats of still-firing alerts every `repeat_interval`, and
/// resolved notifications.
class alert_router {
public:
  /// The writes for each output: each write is the lines of one group.
  using writes = std::vector<std::vector<std::string>>;

  /// `remember`: resolved ids kept to recognise replays (the oldest go).
  explicit alert_router(std::vector<alert_output> outputs, size_t remember = 100000);

  /// Alerts from detection at wall time `now_ms`; appends what is due now
  /// to `out` (one `writes` per output).
  void take(const std::vector<alert>& alerts, int64_t now_ms, std::vector<writes>& out);

  /// Groups whose wait is over, and repeats that are due.
  void tick(int64_t now_ms, std::vector<writes>& out);

  /// Everything still waiting in a group (shutdown).
  void drain(std::vector<writes>& out);

  uint64_t duplicates() const noexcept { return duplicates_; }
  size_t firing() const noexcept { return firing_.size(); }
  /// The alerts firing now, oldest first.
  std::vector<alert> firing_alerts() const;
  /// Alerts sent on since the process started (replays not counted), by
  /// (rule, severity, status).
  using sent_counts = std::map<std::tuple<std::string, std::string, std::string>, uint64_t>;
  const sent_counts& sent() const noexcept { return sent_; }

  /// Checkpoints: firing alerts with their last sends, recently resolved
  /// ids, alerts waiting in groups, and the duplicate count.
  void save(state_writer& w) const;
  void restore(state_reader& r);

private:
  struct pending_group {
    int64_t first_ms = 0;
    std::vector<alert> alerts;
  };
  struct firing_alert {
    alert a;
    std::vector<int64_t> last_sent;  // per output
  };
  void route(const alert& a, int64_t now_ms, std::vector<writes>& out);
  /// `repeat`: a still-firing alert sent again (marked so on the console).
  std::vector<std::string> render(size_t output, const std::vector<alert>& alerts, bool repeat = false) const;

  std::vector<alert_output> outputs_;
  sent_counts sent_;
  size_t remember_;
  string_map<firing_alert> firing_;            // by id
  string_set resolved_;                        // recently resolved ids
  std::deque<std::string> resolved_order_;
  std::vector<std::map<std::string, pending_group>> groups_;  // per output, by rule + status
  uint64_t duplicates_ = 0;
};

} // namespace vigil
