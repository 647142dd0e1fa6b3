#include "rules/rule_engine.hpp"

#include "state/state_codec.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>

#include "hash/stable_hash.hpp"
#include "anomaly/detector_bank.hpp"
#include "rules/metric_names.hpp"

namespace vigil {

namespace {

/// An alert's id: its rule or detector, its group and its window's start,
/// so a replay gives the same one.
std::string alert_id(const std::string& name, const std::string& group, int64_t start_ms) {
  char id[32];
  std::snprintf(id, sizeof(id), "%016llx",
                static_cast<unsigned long long>(stable_hash(name + "\x1e" + group + "\x1e" + std::to_string(start_ms))));
  return id;
}

/// A metric of a window's values; one the window lacks reads as 0.
double metric_value(const std::vector<double>& values, size_t i) {
  return i < values.size() && !std::isnan(values[i]) ? values[i] : 0.0;
}

/// Every "metric OP number" in a condition, in the order written, each
/// compiled on its own so that it holds exactly when muParser says so: an
/// alert reports the first that holds (the reason it fired), so `value` and
/// `threshold` belong to one comparison. A condition with none of that
/// shape (`errors * 2 > x`) reports its first metric against 0.
std::vector<rule_comparison> comparisons_in(const std::string& when, const std::vector<std::string>& names) {
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::vector<std::pair<size_t, rule_comparison>> found;  // by position
  for (const auto& name : names.empty() ? window_metric_names() : names) {
    for (size_t pos = when.find(name); pos != std::string::npos; pos = when.find(name, pos + 1)) {
      size_t end = pos + name.size();
      if ((pos > 0 && word_char(when[pos - 1])) || (end < when.size() && word_char(when[end]))) continue;
      rule_comparison c{name, 0, 0, nullptr};
      size_t at = when.find_first_not_of(' ', end);
      size_t op = at == std::string::npos ? 0 : std::strspn(when.c_str() + at, "<>=!");
      if (op > 0) {
        const char* number = when.c_str() + at + op;
        char* after = nullptr;
        c.threshold = std::strtod(number, &after);
        std::string error;  // not a comparison muParser takes: not one to report
        // "revenue < 0.5 * revenue_prev" compares with a product, not with 0.5.
        const char* next = after;
        while (*next == ' ') ++next;
        const bool operand = *next != '\0' && std::strchr("*/+-^", *next) != nullptr;
        if (after != number && !operand)
          c.test = rule_expression::compile(when.substr(pos, after - when.c_str() - pos), error, names);
        if (operand) c.threshold = std::nan("");  // no number to report
      }
      found.emplace_back(pos, std::move(c));
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<rule_comparison> out;
  for (auto& [pos, c] : found)
    if (c.test) out.push_back(std::move(c));
  if (out.empty() && !found.empty()) out.push_back(std::move(found.front().second));  // no test: never holds
  return out;
}

bool comparison_holds(const rule_comparison& c, const std::vector<double>& values) {
  if (!c.test) return false;
  *c.test->metric(c.metric) = metric_value(values, c.index);
  return c.test->holds();
}

/// The first comparison that holds (why a rule fires), else the first.
const rule_comparison* reported(const std::vector<rule_comparison>& comparisons, const std::vector<double>& values) {
  for (const auto& c : comparisons)
    if (comparison_holds(c, values)) return &c;
  return comparisons.empty() ? nullptr : &comparisons.front();
}

/// The comparison a firing alert reported, found again by its threshold
/// (the first of equal ones): firing state keeps no index.
const rule_comparison* reported_by(const std::vector<rule_comparison>& comparisons, double threshold) {
  for (const auto& c : comparisons)
    if (c.threshold == threshold || (std::isnan(c.threshold) && std::isnan(threshold))) return &c;
  return nullptr;
}

/// A metric's value for people: latencies (kept in microseconds) in ms or
/// s, rates in percent, counts as they are.
std::string with_unit(const std::string& metric, double v) {
  char buf[64];
  if (metric.rfind("latency_", 0) == 0) {
    if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.4g s", v / 1e6);
    else std::snprintf(buf, sizeof buf, "%.4g ms", v / 1e3);
  } else if (metric == "error_rate" || metric == "client_error_rate") {
    std::snprintf(buf, sizeof buf, "%.4g%%", v * 100);
  } else {
    std::snprintf(buf, sizeof buf, "%.10g", v);
  }
  return buf;
}

/// "scanner for ip 198.51.100.7: probes 5 (threshold 5; when status_404 >= 20 || probes >= 5)"
std::string summary_of(const rule_config& rule, const std::vector<std::pair<std::string, std::string>>& group,
                       const rule_comparison* c, double value) {
  std::string who;
  for (const auto& [k, v] : group) who += (who.empty() ? " for " : ", ") + k + " " + v;
  if (!c) return rule.name + who + ": " + rule.when;
  if (std::isnan(c->threshold))
    return rule.name + who + ": " + c->metric + " " + with_unit(c->metric, value) + " (when " + rule.when + ")";
  return rule.name + who + ": " + c->metric + " " + with_unit(c->metric, value) + " (threshold "
         + with_unit(c->metric, c->threshold) + "; when " + rule.when + ")";
}

} // namespace

std::optional<std::string> previous_of(const std::string& metric) {
  constexpr std::string_view suffix = "_prev";
  if (metric.size() <= suffix.size() || metric.compare(metric.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  return metric.substr(0, metric.size() - suffix.size());
}

std::vector<std::string> with_previous(const std::vector<std::string>& metrics) {
  std::vector<std::string> out = metrics;
  for (const auto& m : metrics) out.push_back(m + "_prev");
  return out;
}

std::vector<std::string> watched_metrics(const std::vector<rule_config>& rules, const std::string& window) {
  std::vector<std::string> names;
  for (const auto& r : rules) {
    if (r.window != window) continue;
    std::string error;
    auto expr = rule_expression::compile(r.when, error, r.metric_names);
    if (!expr) continue;
    // Every metric a comparison reports is one the expression reads; the
    // previous window's value of X (X_prev) is kept by the rules, from X.
    for (const auto& m : expr->used_metrics()) names.push_back(previous_of(m).value_or(m));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string> watched_metrics(const std::vector<rule_config>& rules,
                                         const std::vector<detector_config>& detectors, const std::string& window) {
  std::vector<std::string> names = watched_metrics(rules, window);
  for (const auto& d : detectors) {
    if (d.window != window) continue;
    names.push_back(d.metric);
    for (auto& n : detector_value_names(d.metric).all()) names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::unique_ptr<rule_engine> rule_engine::make(const std::vector<rule_config>& rules, std::string node,
                                               std::string& error) {
  return make(rules, {}, std::move(node), error);
}

std::unique_ptr<rule_engine> rule_engine::make(const std::vector<rule_config>& rules,
                                               const std::vector<detector_config>& detectors, std::string node,
                                               std::string& error) {
  std::unique_ptr<rule_engine> e(new rule_engine);
  e->node_ = std::move(node);
  std::map<std::string, std::vector<std::string>> watched_by_window;  // each window's, worked out once
  auto watched_of = [&](const std::string& window) -> const std::vector<std::string>& {
    auto [w, fresh] = watched_by_window.try_emplace(window);
    if (fresh) w->second = watched_metrics(rules, detectors, window);
    return w->second;
  };
  for (const auto& d : detectors) {
    const auto& watched = watched_of(d.window);
    auto index_of = [&](const std::string& m) {
      return static_cast<size_t>(std::find(watched.begin(), watched.end(), m) - watched.begin());
    };
    const detector_value_names n(d.metric);
    e->detectors_.push_back(compiled_detector{d, index_of(n.score), index_of(n.value),
                                              index_of(n.expected), index_of(n.low), index_of(n.high),
                                              index_of(n.alert)});
  }
  for (const auto& r : rules) {
    compiled c{r, rule_expression::compile(r.when, error, r.metric_names), {}, {}, false, {}};
    if (!c.expr) {
      error = "rule " + r.name + ": " + error;
      return nullptr;
    }
    const auto& watched = watched_of(r.window);
    auto index_of = [&](const std::string& m) {
      return static_cast<size_t>(std::find(watched.begin(), watched.end(), m) - watched.begin());
    };
    for (const auto& m : c.expr->used_metrics()) {
      if (auto base = previous_of(m)) {
        c.previous.emplace_back(c.expr->metric(m), index_of(*base));
        e->keeps_previous_.insert(r.window);
      } else {
        c.inputs.emplace_back(c.expr->metric(m), index_of(m));
      }
    }
    // A rule on the previous window compares whole windows: at their close.
    c.at_close = r.at_close || !c.previous.empty();
    c.comparisons = comparisons_in(r.when, r.metric_names);
    for (auto& cmp : c.comparisons) cmp.index = index_of(cmp.metric);
    e->rules_.push_back(std::move(c));
  }
  return e;
}

bool rule_engine::holds(compiled& r, const std::vector<double>& values, const std::vector<double>* previous) {
  for (auto [slot, i] : r.inputs) *slot = metric_value(values, i);
  for (auto [slot, i] : r.previous) *slot = previous ? metric_value(*previous, i) : std::nan("");
  return r.expr->holds();
}

const std::vector<double>* rule_engine::previous_values(const std::string& window, const std::string& group,
                                                        int64_t start_ms) const {
  auto it = previous_.find(window + "\x1e" + group);
  // Only the window right before: a group quiet in it has no previous value.
  return it != previous_.end() && it->second.end_ms == start_ms ? &it->second.values : nullptr;
}

void rule_engine::remember_closed(const window_delta& d) {
  if (!keeps_previous_.count(d.window)) return;
  const std::string prefix = d.window + "\x1e";
  // Entries from before the window just closed can no longer be anyone's previous.
  for (auto it = previous_.begin(); it != previous_.end();) {
    if (it->first.rfind(prefix, 0) == 0 && it->second.end_ms < d.start_ms) previous_.erase(it++);
    else ++it;
  }
  for (const auto& g : d.groups) previous_[prefix + group_text(g.group)] = previous_window{d.end_ms, g.values};
}

/// Resolves the firing alerts of `prefix` (a rule or detector) from
/// windows before `start_ms` that this close did not hold, in key order;
/// `fill` gives each its value and summary.
void rule_engine::resolve_not_held(const std::string& prefix, int64_t start_ms, const std::set<std::string>& held,
                                   int64_t now_ms, std::vector<alert>& out,
                                   const std::function<void(const std::string& key, alert&)>& fill) {
  std::vector<std::string> keys;
  for (const auto& [k, f] : firing_)
    if (k.rfind(prefix, 0) == 0 && f.last_window_start < start_ms && !held.count(k)) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  for (const auto& k : keys) {
    auto it = firing_.find(k);
    alert a = it->second.a;
    a.status = "resolved";
    a.emitted_at_ms = now_ms;
    fill(k, a);
    out.push_back(std::move(a));
    firing_.erase(it);
  }
}

void rule_engine::resolve(const compiled& r, string_map<firing_alert>::iterator firing, const std::vector<double>* values,
                          int64_t now_ms, std::vector<alert>& out) {
  alert a = std::move(firing->second.a);
  firing_.erase(firing);
  a.status = "resolved";
  a.emitted_at_ms = now_ms;
  const auto* c = reported_by(r.comparisons, a.threshold);
  a.value = values && c ? metric_value(*values, c->index) : 0;
  a.summary = summary_of(r.cfg, a.key, c, a.value);
  out.push_back(std::move(a));
}

void rule_engine::on_closed_at_close(compiled& r, const window_delta& d, close_progress* progress, int64_t now_ms,
                                     std::vector<alert>& out) {
  const std::string prefix = r.cfg.name + "\x1e";
  std::set<std::string> held_here;
  std::set<std::string>& held = progress ? progress->held : held_here;
  for (const auto& g : d.groups) {
    const std::string text = group_text(g.group);
    const std::string key = prefix + text;
    auto it = firing_.find(key);
    if (!holds(r, g.values, previous_values(d.window, text, d.start_ms))) {
      // A slice resolves its own groups (it has their values); the last
      // resolves, with the rest, those the close lacks.
      if (!d.last && it != firing_.end() && it->second.last_window_start < d.start_ms) {
        resolve(r, it, &g.values, now_ms, out);
      }
      continue;
    }
    held.insert(key);
    if (it != firing_.end()) {
      it->second.last_window_start = std::max(it->second.last_window_start, d.start_ms);
      continue;
    }
    alert a = make_alert(r, g.group, d.start_ms, d.end_ms, g.values, now_ms);
    a.status = "firing";
    a.first_seen_ms = g.last_event_ms;
    out.push_back(a);
    firing_.emplace(key, firing_alert{std::move(a), d.start_ms});
  }
  if (!d.last) return;
  resolve_not_held(prefix, d.start_ms, held, now_ms, out, [&](const std::string& key, alert& a) {
    const auto* c = reported_by(r.comparisons, a.threshold);
    a.value = 0;
    for (const auto& g : d.groups)
      if (c && prefix + group_text(g.group) == key) a.value = metric_value(g.values, c->index);
    a.summary = summary_of(r.cfg, a.key, c, a.value);
  });
}

void rule_engine::on_closed(compiled& r, const window_delta& d, close_progress* progress, int64_t now_ms,
                            std::vector<alert>& out, string_map<const group_snapshot*>& by_group) {
  const std::string prefix = r.cfg.name + "\x1e";
  if (!d.last) {
    // A slice: the alerts of its groups hold or resolve here.
    for (const auto& g : d.groups) {
      const std::string key = prefix + group_text(g.group);
      auto it = firing_.find(key);
      if (it == firing_.end() || it->second.last_window_start > d.start_ms) continue;
      if (holds(r, g.values)) {
        progress->held.insert(key);
        continue;
      }
      resolve(r, it, &g.values, now_ms, out);
    }
    return;
  }
  // Resolve in key order: the output must not depend on hash-table order.
  std::vector<std::string> candidates;
  for (const auto& [key, f] : firing_)
    if (key.rfind(prefix, 0) == 0 && f.last_window_start <= d.start_ms && !(progress && progress->held.count(key)))
      candidates.push_back(key);
  if (candidates.empty()) return;  // the common case: nothing of this rule to resolve
  std::sort(candidates.begin(), candidates.end());
  // An instance can hold many groups (one per client): index them once,
  // for all rules of the window, and only when something may resolve.
  if (by_group.empty())
    for (const auto& g : d.groups) by_group.emplace(group_text(g.group), &g);
  for (const auto& key : candidates) {
    auto it = firing_.find(key);
    auto res = by_group.find(std::string_view(key).substr(prefix.size()));
    // Resolved when its window closes below the line, or the group went quiet.
    if (res != by_group.end() && holds(r, res->second->values)) continue;
    resolve(r, it, res != by_group.end() ? &res->second->values : nullptr, now_ms, out);
  }
}

void rule_engine::resolve_absent_from_close(const window_delta& change, const close_progress& progress,
                                            int64_t now_ms, std::vector<alert>& out) {
  for (auto& r : rules_) {
    if (r.cfg.window != change.window || r.at_close) continue;
    const std::string prefix = r.cfg.name + "\x1e";
    for (const auto& g : change.groups) {
      const std::string key = prefix + group_text(g.group);
      auto it = firing_.find(key);
      if (it == firing_.end() || it->second.last_window_start > progress.start_ms || progress.held.count(key)) continue;
      resolve(r, it, nullptr, now_ms, out);
    }
  }
}

alert rule_engine::make_alert(const compiled& r, const std::vector<std::pair<std::string, std::string>>& group,
                              int64_t start, int64_t end, const std::vector<double>& values, int64_t now) const {
  alert a;
  a.rule = r.cfg.name;
  a.severity = to_string(r.cfg.level);
  a.key = group;
  const auto* c = reported(r.comparisons, values);
  if (c) {
    a.value = metric_value(values, c->index);
    a.threshold = c->threshold;
  }
  a.window_start_ms = start;
  a.window_end_ms = end;
  a.emitted_at_ms = now;
  a.node = node_;
  a.id = alert_id(r.cfg.name, group_text(group), start);
  a.summary = summary_of(r.cfg, group, c, a.value);
  return a;
}

namespace {

/// A learned value for people: as a metric's value, to 4 digits.
std::string learned(const std::string& metric, double v) {
  if (metric.rfind("latency_", 0) == 0 || metric == "error_rate" || metric == "client_error_rate")
    return with_unit(metric, v);
  char buf[32];
  std::snprintf(buf, sizeof buf, std::abs(v) >= 1000 ? "%.0f" : "%.4g", v);
  return buf;
}

/// "requests 1234 outside its learned band 200 to 400 (expected 300; anomaly score 0.93)"
std::string detector_summary(const detector_config& d, const std::vector<std::pair<std::string, std::string>>& key,
                             double value, double expected, double low, double high, double score, bool resolved) {
  std::string who;
  for (const auto& [k, v] : key) who += (who.empty() ? " for " : ", ") + k + " " + v;
  std::string s = d.name + who + ": " + d.metric + " " + with_unit(d.metric, value);
  s += resolved ? " back within its learned band " : " outside its learned band ";
  s += learned(d.metric, low) + " to " + learned(d.metric, high) + " (expected " + learned(d.metric, expected);
  char buf[48];
  std::snprintf(buf, sizeof buf, "; anomaly score %.2f)", score);
  return s + buf;
}

} // namespace

void rule_engine::on_closed_detector(const compiled_detector& c, const window_delta& d, int64_t now_ms,
                                     std::vector<alert>& out) {
  const std::string prefix = c.cfg.name + "\x1e";
  std::set<std::string> held, seen;
  struct reading {
    double score, value, expected, low, high, alert;
  };
  std::map<std::string, reading> now;  // this close's reading of each series, by key
  for (const auto& g : d.groups) {
    std::vector<std::pair<std::string, std::string>> key;
    for (const auto& f : g.group)
      if (std::find(c.cfg.group_by.begin(), c.cfg.group_by.end(), f.first) != c.cfg.group_by.end()) key.push_back(f);
    const std::string text = group_text(key);
    if (!seen.insert(text).second) continue;  // groups summed into one series: the first says it
    const reading v{metric_value(g.values, c.score), metric_value(g.values, c.value),
                    metric_value(g.values, c.expected), metric_value(g.values, c.low), metric_value(g.values, c.high),
                    metric_value(g.values, c.alert)};
    const std::string k = prefix + text;
    now[k] = v;
    auto it = firing_.find(k);
    if (it != firing_.end()) {
      if (v.value < v.low || v.value > v.high) {  // still outside the band
        held.insert(k);
        it->second.last_window_start = std::max(it->second.last_window_start, d.start_ms);
      }
      continue;
    }
    if (v.alert < 1) continue;
    alert a;
    a.rule = c.cfg.name;
    a.severity = to_string(c.cfg.level);
    a.status = "firing";
    a.key = key;
    a.value = v.value;
    a.threshold = v.value > v.expected ? v.high : v.low;
    a.window_start_ms = d.start_ms;
    a.window_end_ms = d.end_ms;
    a.first_seen_ms = g.last_event_ms;
    a.emitted_at_ms = now_ms;
    a.node = node_;
    a.id = alert_id(c.cfg.name, text, d.start_ms);
    a.summary = detector_summary(c.cfg, key, v.value, v.expected, v.low, v.high, v.score, false);
    out.push_back(a);
    firing_.emplace(k, firing_alert{std::move(a), d.start_ms});
    held.insert(k);
  }
  resolve_not_held(prefix, d.start_ms, held, now_ms, out, [&](const std::string& k, alert& a) {
    auto v = now.find(k);
    a.value = v != now.end() ? v->second.value : 0;
    a.summary = v != now.end() ? detector_summary(c.cfg, a.key, a.value, v->second.expected, v->second.low,
                                                  v->second.high, v->second.score, true)
                               : c.cfg.name + ": the series had no data in the window (resolved)";
  });
}

void rule_engine::on_delta(const window_delta& d, int64_t now_ms, std::vector<alert>& out) {
  close_progress* progress = nullptr;
  if (auto it = closing_.find(d.window); it != closing_.end()) progress = &it->second;
  if (!d.closed) {
    if (progress && d.start_ms > progress->start_ms) resolve_absent_from_close(d, *progress, now_ms, out);
  } else if (!d.last && (!progress || progress->start_ms != d.start_ms)) {
    progress = &closing_[d.window];
    *progress = close_progress{d.start_ms, {}};
  }
  if (d.closed)
    for (const auto& c : detectors_)
      if (c.cfg.window == d.window) on_closed_detector(c, d, now_ms, out);
  string_map<const group_snapshot*> by_group;  // closed instances: group text -> snapshot
  for (auto& r : rules_) {
    if (r.cfg.window != d.window) continue;
    if (r.at_close) {
      if (d.closed) on_closed_at_close(r, d, progress, now_ms, out);
      continue;
    }
    if (d.closed) {
      on_closed(r, d, progress, now_ms, out, by_group);
      continue;
    }
    const std::string prefix = r.cfg.name + "\x1e";
    for (const auto& g : d.groups) {
      const std::string key = prefix + group_text(g.group);
      auto it = firing_.find(key);
      if (it != firing_.end()) {
        it->second.last_window_start = std::max(it->second.last_window_start, d.start_ms);
        continue;  // already firing: no repeat
      }
      if (!holds(r, g.values)) continue;
      alert a = make_alert(r, g.group, d.start_ms, d.end_ms, g.values, now_ms);
      a.status = "firing";
      a.first_seen_ms = g.last_event_ms;
      out.push_back(a);
      firing_.emplace(key, firing_alert{std::move(a), d.start_ms});
    }
  }
  if (d.closed) remember_closed(d);
  if (d.closed && d.last) closing_.erase(d.window);
}

void rule_engine::save(state_writer& w) const {
  w.u64(firing_.size());
  for (const auto& [key, f] : firing_) {
    w.str(key);
    vigil::save(w, f.a);
    w.i64(f.last_window_start);
  }
  // In key order: the same state writes the same bytes.
  std::vector<const std::pair<const std::string, previous_window>*> previous;
  for (const auto& p : previous_) previous.push_back(&p);
  std::sort(previous.begin(), previous.end(), [](auto* a, auto* b) { return a->first < b->first; });
  w.u64(previous.size());
  for (const auto* p : previous) {
    w.str(p->first);
    w.i64(p->second.end_ms);
    w.u64(p->second.values.size());
    for (double v : p->second.values) w.f64(v);
  }
  // Closes in slices that a checkpoint caught between their first and last.
  w.u64(closing_.size());
  for (const auto& [window, progress] : closing_) {
    w.str(window);
    w.i64(progress.start_ms);
    w.u64(progress.held.size());
    for (const auto& key : progress.held) w.str(key);
  }
}

std::vector<alert> rule_engine::firing_in(state_reader& r) {
  std::vector<alert> out;
  for (size_t n = r.count(); n > 0; --n) {
    r.str();
    out.push_back(restore_alert(r));
    r.i64();
  }
  return out;
}

void rule_engine::restore(state_reader& r) {
  firing_.clear();
  for (size_t n = r.count(); n > 0; --n) {
    std::string key = r.str();
    alert a = restore_alert(r);
    const int64_t last = r.i64();
    firing_.emplace(std::move(key), firing_alert{std::move(a), last});
  }
  previous_.clear();
  for (size_t n = r.count(); n > 0; --n) {
    std::string key = r.str();
    previous_window p;
    p.end_ms = r.i64();
    for (size_t k = r.count(); k > 0; --k) p.values.push_back(r.f64());
    previous_.emplace(std::move(key), std::move(p));
  }
  closing_.clear();
  if (r.done()) return;  // state from before closes in slices
  for (size_t n = r.count(); n > 0; --n) {
    std::string window = r.str();
    close_progress& progress = closing_[window];
    progress.start_ms = r.i64();
    for (size_t k = r.count(); k > 0; --k) progress.held.insert(r.str());
  }
}

} // namespace vigil
