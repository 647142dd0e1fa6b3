#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hash/string_map.hpp"
#include "messages/alert.hpp"
#include "rules/rule_expression.hpp"
#include "settings/config.hpp"
#include "window/window_engine.hpp"

namespace vigil {

/// Turns window changes into alerts. A rule fires on the first change that
/// makes its condition hold for a group (the line that crossed the line),
/// stays firing while later windows of that group hold, and resolves when
/// one of its windows closes without the condition holding (or with no
/// traffic from the group). One alert id per firing: rule + group + the
/// start of the window it fired in, so a replay produces the same ids.
class rule_engine {
public:
  /// Compiles the rules; `error` names the first rule that does not compile.
  static std::unique_ptr<rule_engine> make(const std::vector<rule_config>& rules, std::string node,
                                           std::string& error);

  /// A group of window `window` changed, by the event at `event_time_ms`.
  void on_change(const std::string& window, int64_t start_ms, int64_t end_ms,
                 const std::vector<std::pair<std::string, std::string>>& group,
                 const window_metrics& metrics, int64_t event_time_ms, int64_t now_ms,
                 std::vector<alert>& out);

  /// A window instance closed with these groups (all of them, in one call).
  void on_close(const std::string& window, int64_t start_ms,
                const std::vector<const window_result*>& results, int64_t now_ms,
                std::vector<alert>& out);

  size_t firing() const noexcept { return firing_.size(); }

private:
  struct compiled {
    rule_config cfg;
    std::unique_ptr<rule_expression> expr;
    std::string lead_metric;  ///< the first metric compared in `when`
    double threshold = 0;
  };
  struct firing_alert {
    alert a;
    int64_t last_window_start;
  };
  bool holds(compiled& r, const window_metrics& m);
  alert make_alert(const compiled& r, const std::vector<std::pair<std::string, std::string>>& group,
                   int64_t start, int64_t end, const window_metrics& m, int64_t now) const;

  std::string node_;
  std::vector<compiled> rules_;
  string_map<firing_alert> firing_;  // by rule + group
};

} // namespace vigil
