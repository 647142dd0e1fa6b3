#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hash/string_map.hpp"
#include "messages/alert.hpp"
#include "rules/rule_expression.hpp"
#include "settings/config.hpp"
#include "messages/window_delta.hpp"

namespace vigil {

/// The metrics the rules of `window` read (what window deltas carry for
/// it), sorted by name; empty when no rule reads the window. Rules that do
/// not compile are skipped (check-config reports them).
std::vector<std::string> watched_metrics(const std::vector<rule_config>& rules, const std::string& window);
/// The same with the detectors of `window`: their metrics and the values
/// they add to close deltas (`detector_value_names`).
std::vector<std::string> watched_metrics(const std::vector<rule_config>& rules,
                                         const std::vector<detector_config>& detectors, const std::string& window);

/// "revenue" for "revenue_prev" (the previous window's value of a metric,
/// which the rules keep); nullopt for any other name.
std::optional<std::string> previous_of(const std::string& metric);
/// `metrics` and, for each, its `_prev` name: what a rule may read.
std::vector<std::string> with_previous(const std::vector<std::string>& metrics);

/// One "metric OP number" of a rule's condition: what an alert's `value`
/// and `threshold` report.
struct rule_comparison {
  std::string metric;
  double threshold = 0;
  size_t index = 0;  ///< the metric's index in the window's values
  std::unique_ptr<rule_expression> test;  ///< the comparison alone; null: never holds
};

/// Turns window deltas into alerts. A rule fires on the first delta that
/// makes its condition hold for a group (the batch with the line that
/// crossed the line), stays firing while later windows of that group hold,
/// and resolves when one of its windows closes without the condition
/// holding (or with no traffic from the group). One alert id per firing:
/// rule + group + the start of the window it fired in, so a replay
/// produces the same ids.
class rule_engine {
public:
  /// Compiles the rules; `error` names the first rule that does not compile.
  static std::unique_ptr<rule_engine> make(const std::vector<rule_config>& rules, std::string node,
                                           std::string& error);
  /// With detectors: each alerts at the close of a window in which it
  /// found its series anomalous (a score at or over its threshold, not
  /// suppressed), stays firing while the series' value is outside its
  /// learned band, and resolves at the first close back within it (or
  /// that lacks the series).
  static std::unique_ptr<rule_engine> make(const std::vector<rule_config>& rules,
                                           const std::vector<detector_config>& detectors, std::string node,
                                           std::string& error);

  /// One delta of the window stage; its values follow `watched_metrics`.
  /// A close in slices is judged as the whole close would be: a group is
  /// resolved in the slice that holds it, one absent from the close at its
  /// last slice, or before a later change of it (the window stage sends
  /// that only after the slice that closes the group, so a group it changes
  /// meanwhile that no slice so far held is absent from the close).
  void on_delta(const window_delta& d, int64_t now_ms, std::vector<alert>& out);

  size_t firing() const noexcept { return firing_.size(); }

  /// Checkpoints: the firing alerts and the window each last held in.
  void save(state_writer& w) const;
  void restore(state_reader& r);
  /// The firing alerts in saved state, read without the rules.
  static std::vector<alert> firing_in(state_reader& r);

private:
  struct compiled {
    rule_config cfg;
    std::unique_ptr<rule_expression> expr;
    std::vector<std::pair<double*, size_t>> inputs;  ///< expression slot <- value index
    std::vector<std::pair<double*, size_t>> previous;  ///< X_prev slot <- X's index, of the window before
    bool at_close = false;  ///< checked on whole windows only
    std::vector<rule_comparison> comparisons;  ///< in the order written
  };
  struct compiled_detector {
    detector_config cfg;
    size_t score = 0, value = 0, expected = 0, low = 0, high = 0, alert = 0;  // value indices
  };
  struct firing_alert {
    alert a;
    int64_t last_window_start;
  };
  struct previous_window {
    int64_t end_ms = 0;
    std::vector<double> values;
  };
  /// A close that comes in slices, between its first and its last.
  struct close_progress {
    int64_t start_ms = 0;
    std::set<std::string> held;  ///< rule + group: holding in a slice so far
  };
  bool holds(compiled& r, const std::vector<double>& values, const std::vector<double>* previous = nullptr);
  const std::vector<double>* previous_values(const std::string& window, const std::string& group, int64_t start_ms) const;
  void remember_closed(const window_delta& d);
  void on_closed_at_close(compiled& r, const window_delta& d, close_progress* progress, int64_t now_ms,
                          std::vector<alert>& out);
  void on_closed(compiled& r, const window_delta& d, close_progress* progress, int64_t now_ms,
                 std::vector<alert>& out, string_map<const group_snapshot*>& by_group);
  /// Before a change of a window closing in slices: the firing alerts of
  /// the groups it changes that the close so far did not hold resolve, as
  /// the close's last slice would resolve them.
  void resolve_absent_from_close(const window_delta& change, const close_progress& progress, int64_t now_ms,
                                 std::vector<alert>& out);
  /// Resolves a firing alert of rule `r` (erased), with its comparison's
  /// value from `values` (null: 0, the group was quiet).
  void resolve(const compiled& r, string_map<firing_alert>::iterator firing, const std::vector<double>* values,
               int64_t now_ms, std::vector<alert>& out);
  void on_closed_detector(const compiled_detector& c, const window_delta& d, int64_t now_ms, std::vector<alert>& out);
  alert make_alert(const compiled& r, const std::vector<std::pair<std::string, std::string>>& group,
                   int64_t start, int64_t end, const std::vector<double>& values, int64_t now) const;
  void resolve_not_held(const std::string& prefix, int64_t start_ms, const std::set<std::string>& held,
                        int64_t now_ms, std::vector<alert>& out,
                        const std::function<void(const std::string& key, alert&)>& fill);

  std::string node_;
  std::vector<compiled> rules_;
  std::vector<compiled_detector> detectors_;
  string_map<firing_alert> firing_;  // by rule + group
  /// Windows some rule reads X_prev of, and their groups' values at the
  /// last close (by window + group).
  std::set<std::string> keeps_previous_;
  std::map<std::string, previous_window> previous_;
  std::map<std::string, close_progress> closing_;  // by window
};

} // namespace vigil
