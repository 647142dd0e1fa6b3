#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "expr/expression.hpp"
#include "messages/record.hpp"
#include "record/record_layout.hpp"
#include "sketch/distinct_counter.hpp"
#include "sketch/quantile_sketch.hpp"
#include "sketch/top_k.hpp"

namespace vigil {

class state_writer;
class state_reader;

/// The business metrics a `[[window]]` declares over records:
/// `orders = "count()"`, `revenue = "sum(total)"`, `avg_basket = "avg(total)"`,
/// `active_users = "distinct(user_id)"`, `p95 = "quantile(total, 0.95)"`,
/// `top_products = "top(product_id, 10)"`,
/// `conversion = "count(event_type == \"purchase\") / count(event_type == \"view\")"`.
///
/// A metric is an expression over aggregates; each aggregate's argument is
/// an expression over the record. Aggregates: count() count(cond) sum(x)
/// avg(x) min(x) max(x) distinct(x) quantile(x, q) top(x, k). Error bounds:
/// distinct is exact to 8 values, then a HyperLogLog (1.6% standard
/// error); quantile is exact to 256 values, then within 1% of the value
/// (values >= 1; below 1 they read as 0); top is exact to 10*k distinct
/// values (at least 100), then space-saving (see sketch/top_k.hpp).
///
/// Data quality: invalid() (quarantined events with a good event time; in
/// windows without group_by), duplicates() (dropped by the dedup key),
/// coerced(field), defaulted(field); a field's nulls are count(f == null).
class metric_plan {
public:
  enum class aggregate_kind : uint8_t {
    count, count_if, sum, avg, min, max, distinct, quantile, top,
    invalid, duplicates, coerced, defaulted,  ///< data quality
  };
  struct aggregate {
    aggregate_kind kind = aggregate_kind::count;
    std::optional<expr::program> arg;  ///< none for count()
    double q = 0.5;                    ///< quantile
    size_t k = 10;                     ///< top
    size_t field = 0;                  ///< coerced, defaulted: the field's layout index
  };
  struct metric {
    std::string name;
    expr::program value;  ///< over aggregate slots
    int top = -1;         ///< a top() metric: its aggregate (a list, not a number)
    std::vector<size_t> aggregates;  ///< the ones `value` reads: only those are computed
  };

  /// Compiles `metrics` (name -> expression) against the record layout.
  /// On failure: null, `error` = "metrics.NAME: what".
  static std::shared_ptr<const metric_plan> compile(const std::vector<std::pair<std::string, std::string>>& metrics,
                                                    const record_layout& layout, std::string& error);

  const std::vector<aggregate>& aggregates() const noexcept { return aggregates_; }
  const std::vector<metric>& metrics() const noexcept { return metrics_; }
  std::optional<size_t> index_of(std::string_view name) const;
  std::vector<std::string> names() const;

private:
  std::vector<aggregate> aggregates_;
  std::vector<metric> metrics_;
};

/// One group's aggregates of a `metric_plan`.
class declared_values {
public:
  declared_values() = default;
  explicit declared_values(const metric_plan& plan);

  void add(const metric_plan& plan, const field_value* row, const record_info* info, std::string_view batch_text,
           expr::arena& scratch);
  void merge(const declared_values& other);

  /// Metric `i`'s value; nullopt when it has none (avg of nothing, a ratio
  /// over 0, a top() list).
  std::optional<double> value(const metric_plan& plan, size_t i) const;
  /// Appends `"name":value,...` for every metric (top() as a list of
  /// {"value","count"}).
  void append_json(const metric_plan& plan, std::string& out) const;

  void save(state_writer& w) const;
  void restore(state_reader& r);

private:
  struct counter {
    uint64_t n = 0;
    double sum = 0;
    double carry = 0;  // Neumaier compensation: cents add up to cents
    void add(double v) {
      const double t = sum + v;
      carry += std::fabs(sum) >= std::fabs(v) ? (sum - t) + v : (v - t) + sum;
      sum = t;
    }
    double total() const { return sum + carry; }
    double min = 0, max = 0;
  };
  struct quantiles {
    std::vector<double> exact;  // until the sketch takes over
    quantile_sketch sketch{0.01};
    bool sketched = false;
  };
  using slot = std::variant<counter, distinct_counter, quantiles, top_k>;
  double aggregate_value(const metric_plan& plan, size_t a, bool& has) const;
  std::vector<slot> slots_;
};

} // namespace vigil
