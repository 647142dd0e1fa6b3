#include "window/declared_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "hash/xxh3.hpp"
#include "json/json_text.hpp"
#include "record/record_format.hpp"
#include "state/state_codec.hpp"

namespace vigil {

namespace {

constexpr size_t exact_quantile_values = 256;

struct aggregate_name {
  const char* name;
  metric_plan::aggregate_kind kind;
  size_t min_args, max_args;
};
constexpr aggregate_name aggregate_names[] = {
  {"count", metric_plan::aggregate_kind::count, 0, 1},
  {"sum", metric_plan::aggregate_kind::sum, 1, 1},
  {"avg", metric_plan::aggregate_kind::avg, 1, 1},
  {"min", metric_plan::aggregate_kind::min, 1, 1},
  {"max", metric_plan::aggregate_kind::max, 1, 1},
  {"distinct", metric_plan::aggregate_kind::distinct, 1, 1},
  {"quantile", metric_plan::aggregate_kind::quantile, 2, 2},
  {"top", metric_plan::aggregate_kind::top, 1, 2},
  {"invalid", metric_plan::aggregate_kind::invalid, 0, 0},
  {"duplicates", metric_plan::aggregate_kind::duplicates, 0, 0},
  {"coerced", metric_plan::aggregate_kind::coerced, 1, 1},
  {"defaulted", metric_plan::aggregate_kind::defaulted, 1, 1},
};

/// The outer expression's view: aggregate slot -> its value.
class aggregate_scope : public expr::scope {
public:
  explicit aggregate_scope(const std::vector<expr::value>& values) : values_(values) {}
  expr::value get(int slot) const override { return values_[static_cast<size_t>(slot)]; }

private:
  const std::vector<expr::value>& values_;
};

} // namespace

std::shared_ptr<const metric_plan> metric_plan::compile(const std::vector<std::pair<std::string, std::string>>& metrics,
                                                        const record_layout& layout, std::string& error) {
  auto plan = std::make_shared<metric_plan>();
  for (const auto& [name, text] : metrics) {
    struct taken {
      aggregate_kind kind;
      std::vector<int> args;
    };
    std::vector<taken> calls;
    expr::names n = layout_names(layout);
    n.call = [&](std::string_view fn, const std::vector<int>& args, std::string& err) -> std::optional<int> {
      for (const auto& a : aggregate_names) {
        if (fn != a.name) continue;
        if (args.size() < a.min_args || args.size() > a.max_args) {
          err = std::string(a.name) + "() takes " + std::to_string(a.min_args)
                + (a.max_args != a.min_args ? " or " + std::to_string(a.max_args) : "") + " argument"
                + (a.max_args > 1 ? "s" : "");
          return std::nullopt;
        }
        auto kind = a.kind;
        if (kind == aggregate_kind::count && !args.empty()) kind = aggregate_kind::count_if;
        calls.push_back({kind, args});
        return static_cast<int>(plan->aggregates_.size() + calls.size() - 1);
      }
      return std::nullopt;
    };
    std::string why;
    auto program = expr::program::compile(text, n, why);
    if (!program) {
      error = "metrics." + name + ": " + why;
      return nullptr;
    }
    if (auto free = program->free_variables(); !free.empty()) {
      error = "metrics." + name + ": field '" + free.front()
              + "' outside an aggregate (write e.g. sum(" + free.front() + ") or count())";
      return nullptr;
    }
    if (calls.empty()) {
      error = "metrics." + name + ": no aggregate (count() sum(x) avg(x) min(x) max(x) distinct(x) quantile(x, q) top(x, k))";
      return nullptr;
    }
    metric m{name, *program, -1, {}};
    for (size_t k = 0; k < calls.size(); ++k) m.aggregates.push_back(plan->aggregates_.size() + k);
    for (auto& c : calls) {
      aggregate a;
      a.kind = c.kind;
      if (!c.args.empty()) a.arg = program->sub(c.args[0]);
      if (c.kind == aggregate_kind::coerced || c.kind == aggregate_kind::defaulted) {
        const auto vars = a.arg->variables();
        auto field = layout.index_of(a.arg->source());
        if (vars.size() != 1 || !field) {
          error = "metrics." + name + ": coerced() and defaulted() take a field name, e.g. coerced(price)";
          return nullptr;
        }
        a.field = *field;
        a.arg.reset();
      }
      if (c.kind == aggregate_kind::quantile) {
        auto q = program->literal(c.args[1]);
        if (!q || q->type != expr::value::kind::number || q->num <= 0 || q->num > 1) {
          error = "metrics." + name + ": quantile()'s second argument must be a number in (0, 1], e.g. 0.95";
          return nullptr;
        }
        a.q = q->num;
      }
      if (c.kind == aggregate_kind::top) {
        if (c.args.size() > 1) {
          auto k = program->literal(c.args[1]);
          if (!k || k->type != expr::value::kind::number || k->num < 1 || k->num > 1000 || k->num != std::floor(k->num)) {
            error = "metrics." + name + ": top()'s second argument must be a whole number from 1 to 1000";
            return nullptr;
          }
          a.k = static_cast<size_t>(k->num);
        }
        // A list is a metric of its own, not a number to compute with.
        if (!program->whole_is_taken_call()) {
          error = "metrics." + name + ": top() must be the whole metric (it is a list)";
          return nullptr;
        }
        m.top = static_cast<int>(plan->aggregates_.size());
      }
      plan->aggregates_.push_back(std::move(a));
    }
    plan->metrics_.push_back(std::move(m));
  }
  return plan;
}

std::optional<size_t> metric_plan::index_of(std::string_view name) const {
  for (size_t i = 0; i < metrics_.size(); ++i)
    if (metrics_[i].name == name) return i;
  return std::nullopt;
}

std::vector<std::string> metric_plan::names() const {
  std::vector<std::string> out;
  for (const auto& m : metrics_) out.push_back(m.name);
  return out;
}

declared_values::declared_values(const metric_plan& plan) {
  slots_.reserve(plan.aggregates().size());
  for (const auto& a : plan.aggregates()) {
    switch (a.kind) {
      case metric_plan::aggregate_kind::distinct: slots_.emplace_back(distinct_counter{}); break;
      case metric_plan::aggregate_kind::quantile: slots_.emplace_back(quantiles{}); break;
      case metric_plan::aggregate_kind::top: slots_.emplace_back(top_k(std::max<size_t>(100, 10 * a.k))); break;
      default: slots_.emplace_back(counter{}); break;
    }
  }
}

void declared_values::add(const metric_plan& plan, const field_value* row, const record_info* info,
                          std::string_view batch_text, expr::arena& scratch) {
  const record_scope vars(row, batch_text);
  const auto& aggregates = plan.aggregates();
  const uint8_t quality = info ? info->quality : 0;
  for (size_t i = 0; i < aggregates.size() && i < slots_.size(); ++i) {
    const auto& a = aggregates[i];
    using kind = metric_plan::aggregate_kind;
    // A row kept for data quality counts there and nowhere else.
    if (a.kind == kind::invalid || a.kind == kind::duplicates) {
      const uint8_t bit = a.kind == kind::invalid ? record_quality::invalid : record_quality::duplicate;
      if (quality & bit) ++std::get<counter>(slots_[i]).n;
      continue;
    }
    if (quality != 0) continue;
    if (a.kind == kind::coerced || a.kind == kind::defaulted) {
      const uint64_t mask = !info ? 0 : a.kind == kind::coerced ? info->coerced : info->defaulted;
      if (a.field < 64 && (mask >> a.field) & 1) ++std::get<counter>(slots_[i]).n;
      continue;
    }
    if (a.kind == metric_plan::aggregate_kind::count) {
      ++std::get<counter>(slots_[i]).n;
      continue;
    }
    scratch.reset();
    const expr::value v = a.arg->eval(vars, scratch);
    switch (a.kind) {
      case metric_plan::aggregate_kind::count_if:
        if (v.truthy()) ++std::get<counter>(slots_[i]).n;
        break;
      case metric_plan::aggregate_kind::sum:
      case metric_plan::aggregate_kind::avg:
      case metric_plan::aggregate_kind::min:
      case metric_plan::aggregate_kind::max: {
        if (v.type != expr::value::kind::number && v.type != expr::value::kind::time && v.type != expr::value::kind::boolean)
          break;  // null (or text) values are not counted, as SQL does
        auto& c = std::get<counter>(slots_[i]);
        if (c.n == 0 || v.num < c.min) c.min = v.num;
        if (c.n == 0 || v.num > c.max) c.max = v.num;
        ++c.n;
        c.add(v.num);
        break;
      }
      case metric_plan::aggregate_kind::distinct: {
        if (v.is_null()) break;
        std::string_view text = v.type == expr::value::kind::text ? v.text : std::string_view();
        char buf[sizeof(double)];
        if (v.type != expr::value::kind::text) {
          std::memcpy(buf, &v.num, sizeof buf);
          text = std::string_view(buf, sizeof buf);
        }
        std::get<distinct_counter>(slots_[i]).add(xxh3(text));
        break;
      }
      case metric_plan::aggregate_kind::quantile: {
        if (v.type != expr::value::kind::number) break;
        auto& q = std::get<quantiles>(slots_[i]);
        if (q.sketched) {
          q.sketch.add(v.num);
        } else {
          q.exact.push_back(v.num);
          if (q.exact.size() > exact_quantile_values) {
            for (double x : q.exact) q.sketch.add(x);
            q.exact.clear();
            q.exact.shrink_to_fit();
            q.sketched = true;
          }
        }
        break;
      }
      case metric_plan::aggregate_kind::top: {
        if (v.is_null()) break;
        thread_local std::string buf;
        buf.clear();
        std::string_view text = v.type == expr::value::kind::text ? v.text : std::string_view();
        if (v.type != expr::value::kind::text) {
          append_json_number(buf, v.num);
          text = buf;
        }
        std::get<top_k>(slots_[i]).add(text);
        break;
      }
      default: break;
    }
  }
}

void declared_values::merge(const declared_values& other) {
  if (slots_.empty()) {
    slots_ = other.slots_;
    return;
  }
  for (size_t i = 0; i < slots_.size() && i < other.slots_.size(); ++i) {
    std::visit(
      [&](auto& mine) {
        using T = std::decay_t<decltype(mine)>;
        const T& theirs = std::get<T>(other.slots_[i]);
        if constexpr (std::is_same_v<T, counter>) {
          if (theirs.n > 0) {
            mine.min = mine.n == 0 ? theirs.min : std::min(mine.min, theirs.min);
            mine.max = mine.n == 0 ? theirs.max : std::max(mine.max, theirs.max);
          }
          mine.n += theirs.n;
          mine.add(theirs.sum);
          mine.add(theirs.carry);
        } else if constexpr (std::is_same_v<T, quantiles>) {
          if (!mine.sketched && !theirs.sketched && mine.exact.size() + theirs.exact.size() <= exact_quantile_values) {
            mine.exact.insert(mine.exact.end(), theirs.exact.begin(), theirs.exact.end());
            return;
          }
          if (!mine.sketched) {
            for (double x : mine.exact) mine.sketch.add(x);
            mine.exact.clear();
            mine.sketched = true;
          }
          mine.sketch.merge(theirs.sketch);
          for (double x : theirs.exact) mine.sketch.add(x);
        } else {
          mine.merge(theirs);
        }
      },
      slots_[i]);
  }
}

double declared_values::aggregate_value(const metric_plan& plan, size_t a, bool& has) const {
  has = true;
  const auto& spec = plan.aggregates()[a];
  const slot& s = slots_[a];
  switch (spec.kind) {
    case metric_plan::aggregate_kind::count:
    case metric_plan::aggregate_kind::count_if:
    case metric_plan::aggregate_kind::invalid:
    case metric_plan::aggregate_kind::duplicates:
    case metric_plan::aggregate_kind::coerced:
    case metric_plan::aggregate_kind::defaulted: return static_cast<double>(std::get<counter>(s).n);
    case metric_plan::aggregate_kind::sum: return std::get<counter>(s).total();
    case metric_plan::aggregate_kind::avg:
    case metric_plan::aggregate_kind::min:
    case metric_plan::aggregate_kind::max: {
      const auto& c = std::get<counter>(s);
      if (c.n == 0) {
        has = false;
        return 0;
      }
      if (spec.kind == metric_plan::aggregate_kind::avg) return c.total() / static_cast<double>(c.n);
      return spec.kind == metric_plan::aggregate_kind::min ? c.min : c.max;
    }
    case metric_plan::aggregate_kind::distinct: return static_cast<double>(std::get<distinct_counter>(s).count());
    case metric_plan::aggregate_kind::quantile: {
      const auto& q = std::get<quantiles>(s);
      if (q.sketched) return q.sketch.quantile(spec.q);
      if (q.exact.empty()) {
        has = false;
        return 0;
      }
      // Nearest rank, as the sketch answers.
      std::vector<double> sorted = q.exact;
      std::sort(sorted.begin(), sorted.end());
      size_t rank = static_cast<size_t>(std::ceil(spec.q * static_cast<double>(sorted.size())));
      return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
    }
    case metric_plan::aggregate_kind::top: has = false; return 0;
  }
  has = false;
  return 0;
}

std::optional<double> declared_values::value(const metric_plan& plan, size_t i) const {
  const auto& m = plan.metrics()[i];
  if (m.top >= 0 || slots_.size() != plan.aggregates().size()) return std::nullopt;
  // Only the metric's own aggregates: a distinct count or a quantile costs
  // more than the rest, and rules read a few metrics after every batch.
  thread_local std::vector<expr::value> values;
  values.assign(plan.aggregates().size(), expr::value::null());
  for (size_t a : m.aggregates) {
    bool has;
    double v = aggregate_value(plan, a, has);
    values[a] = has ? expr::value::number(v) : expr::value::null();
  }
  thread_local expr::arena scratch;
  scratch.reset();
  expr::value v = m.value.eval(aggregate_scope(values), scratch);
  if (v.type == expr::value::kind::null || v.type == expr::value::kind::text || !std::isfinite(v.num)) return std::nullopt;
  return v.num;
}

void declared_values::append_json(const metric_plan& plan, std::string& out) const {
  bool first = true;
  for (size_t i = 0; i < plan.metrics().size(); ++i) {
    const auto& m = plan.metrics()[i];
    if (m.top >= 0) {
      if (static_cast<size_t>(m.top) >= slots_.size()) continue;
      if (!first) out += ',';
      first = false;
      append_json_string(out, m.name);
      out += ":[";
      auto items = std::get<top_k>(slots_[static_cast<size_t>(m.top)]).sorted();
      const size_t k = plan.aggregates()[static_cast<size_t>(m.top)].k;
      for (size_t j = 0; j < items.size() && j < k; ++j) {
        if (j > 0) out += ',';
        out += "{\"value\":";
        append_json_string(out, items[j].value);
        out += ",\"count\":";
        append_json_number(out, static_cast<double>(items[j].count));
        out += '}';
      }
      out += ']';
      continue;
    }
    if (!first) out += ',';
    first = false;
    append_json_string(out, m.name);
    out += ':';
    auto v = value(plan, i);
    if (v) append_json_number(out, *v);
    else out += "null";
  }
}

void declared_values::save(state_writer& w) const {
  w.u64(slots_.size());
  for (const auto& s : slots_) {
    w.u64(s.index());
    std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, counter>) {
          w.u64(x.n);
          w.f64(x.sum);
          w.f64(x.carry);
          w.f64(x.min);
          w.f64(x.max);
        } else if constexpr (std::is_same_v<T, quantiles>) {
          w.boolean(x.sketched);
          w.u64(x.exact.size());
          for (double v : x.exact) w.f64(v);
          x.sketch.save(w);
        } else {
          x.save(w);
        }
      },
      s);
  }
}

void declared_values::restore(state_reader& r) {
  slots_.clear();
  const uint64_t n = r.count();
  for (uint64_t i = 0; i < n; ++i) {
    switch (r.u64()) {
      case 0: {
        counter c;
        c.n = r.u64();
        c.sum = r.f64();
        c.carry = r.f64();
        c.min = r.f64();
        c.max = r.f64();
        slots_.emplace_back(c);
        break;
      }
      case 1: {
        distinct_counter d;
        d.restore(r);
        slots_.emplace_back(std::move(d));
        break;
      }
      case 2: {
        quantiles q;
        q.sketched = r.boolean();
        const uint64_t values = r.count();
        for (uint64_t k = 0; k < values; ++k) q.exact.push_back(r.f64());
        q.sketch.restore(r);
        slots_.emplace_back(std::move(q));
        break;
      }
      case 3: {
        top_k t;
        t.restore(r);
        slots_.emplace_back(std::move(t));
        break;
      }
      default: throw state_decode_error("window state: unknown aggregate kind");
    }
  }
}

} // namespace vigil
