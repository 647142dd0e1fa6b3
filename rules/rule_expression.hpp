#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

/// A rule condition such as `error_rate > 0.05 && requests >= 100`,
/// compiled once with muParser over the window metric names.
class rule_expression {
public:
  /// Compiles `text` over `metrics` (empty: the web-log metric names). On
  /// failure returns null and sets `error` to what is wrong and where
  /// ("unknown metric 'foo' at position 3").
  static std::unique_ptr<rule_expression> compile(std::string_view text, std::string& error,
                                                  const std::vector<std::string>& metrics = {});

  ~rule_expression();
  rule_expression(const rule_expression&) = delete;
  rule_expression& operator=(const rule_expression&) = delete;

  /// The value slot of metric `name` (null for an unknown name): set the
  /// metrics, then call `holds()`.
  double* metric(std::string_view name);

  /// True when the condition holds for the current metric values.
  bool holds();

  /// The metrics the expression reads: only these need setting.
  const std::vector<std::string>& used_metrics() const noexcept;

private:
  rule_expression();
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace vigil
