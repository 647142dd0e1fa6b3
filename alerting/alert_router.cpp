#include "alerting/alert_router.hpp"

#include "state/state_codec.hpp"

#include <algorithm>
#include <tuple>

namespace vigil {

alert_router::alert_router(std::vector<alert_output> outputs, size_t remember)
  : outputs_(std::move(outputs)), remember_(remember), groups_(outputs_.size()) {}

std::vector<std::string> alert_router::render(size_t output, const std::vector<alert>& alerts, bool repeat) const {
  std::vector<std::string> lines;
  if (!outputs_[output].readable) {
    for (const auto& a : alerts) lines.push_back(to_json(a));
    return lines;
  }
  if (alerts.size() == 1) {
    lines.push_back(to_text(alerts[0], repeat));
    return lines;
  }
  lines.push_back("[" + alerts[0].status + "] " + alerts[0].rule + ": " + std::to_string(alerts.size()) + " alerts");
  for (const auto& a : alerts) lines.push_back("  " + to_text(a));
  return lines;
}

void alert_router::route(const alert& a, int64_t now_ms, std::vector<writes>& out) {
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (outputs_[i].group_wait_ms <= 0) {
      out[i].push_back(render(i, {a}));
      continue;
    }
    auto& g = groups_[i][a.rule + "\x1e" + a.status];
    if (g.alerts.empty()) g.first_ms = now_ms;
    g.alerts.push_back(a);
  }
}

void alert_router::take(const std::vector<alert>& alerts, int64_t now_ms, std::vector<writes>& out) {
  out.resize(outputs_.size());
  for (const auto& a : alerts) {
    if (a.status == "firing") {
      if (firing_.count(a.id) || resolved_.count(a.id)) {
        ++duplicates_;
        continue;
      }
      firing_.emplace(a.id, firing_alert{a, std::vector<int64_t>(outputs_.size(), now_ms)});
    } else {
      auto it = firing_.find(a.id);
      if (it == firing_.end()) {
        // Never seen firing: a replay of a resolve we sent, or of one whose
        // firing we lost; without the firing there is nothing to resolve.
        ++duplicates_;
        continue;
      }
      firing_.erase(it);
      resolved_.insert(a.id);
      resolved_order_.push_back(a.id);
      if (resolved_order_.size() > remember_) {
        resolved_.erase(resolved_order_.front());
        resolved_order_.pop_front();
      }
    }
    ++sent_[{a.rule, a.severity, a.status}];
    route(a, now_ms, out);
  }
}

std::vector<alert> alert_router::firing_alerts() const {
  std::vector<alert> out;
  out.reserve(firing_.size());
  for (const auto& [id, f] : firing_) out.push_back(f.a);
  std::sort(out.begin(), out.end(), [](const alert& a, const alert& b) {
    return std::tie(a.first_seen_ms, a.id) < std::tie(b.first_seen_ms, b.id);
  });
  return out;
}

void alert_router::tick(int64_t now_ms, std::vector<writes>& out) {
  out.resize(outputs_.size());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    for (auto it = groups_[i].begin(); it != groups_[i].end();) {
      if (now_ms - it->second.first_ms >= outputs_[i].group_wait_ms) {
        out[i].push_back(render(i, it->second.alerts));
        it = groups_[i].erase(it);
      } else {
        ++it;
      }
    }
    const int64_t every = outputs_[i].repeat_interval_ms;
    if (every <= 0) continue;
    std::vector<alert> due;
    for (auto& [id, f] : firing_)
      if (now_ms - f.last_sent[i] >= every) {
        f.last_sent[i] = now_ms;
        due.push_back(f.a);
        due.back().emitted_at_ms = now_ms;
      }
    std::sort(due.begin(), due.end(), [](const alert& a, const alert& b) { return a.id < b.id; });
    for (const auto& a : due) out[i].push_back(render(i, {a}, true));
  }
}

void alert_router::drain(std::vector<writes>& out) {
  out.resize(outputs_.size());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    for (auto& [key, g] : groups_[i]) out[i].push_back(render(i, g.alerts));
    groups_[i].clear();
  }
}

void alert_router::save(state_writer& w) const {
  w.u64(firing_.size());
  for (const auto& [id, f] : firing_) {
    vigil::save(w, f.a);
    w.u64s(std::vector<uint64_t>(f.last_sent.begin(), f.last_sent.end()));
  }
  w.u64(resolved_order_.size());
  for (const auto& id : resolved_order_) w.str(id);
  w.u64(groups_.size());
  for (const auto& per_output : groups_) {
    w.u64(per_output.size());
    for (const auto& [key, g] : per_output) {
      w.str(key);
      w.i64(g.first_ms);
      w.u64(g.alerts.size());
      for (const auto& a : g.alerts) vigil::save(w, a);
    }
  }
  w.u64(duplicates_);
}

void alert_router::restore(state_reader& r) {
  firing_.clear();
  resolved_.clear();
  resolved_order_.clear();
  for (size_t n = r.count(); n > 0; --n) {
    alert a = restore_alert(r);
    auto sent = r.u64s();
    std::vector<int64_t> last_sent(sent.begin(), sent.end());
    last_sent.resize(outputs_.size(), 0);
    std::string id = a.id;
    firing_.emplace(std::move(id), firing_alert{std::move(a), std::move(last_sent)});
  }
  for (size_t n = r.count(); n > 0; --n) {
    resolved_order_.push_back(r.str());
    resolved_.insert(resolved_order_.back());
  }
  const size_t outputs = r.count();
  if (outputs != groups_.size())
    throw state_decode_error("alert state has " + std::to_string(outputs) + " outputs, the config " +
                             std::to_string(groups_.size()));
  for (auto& per_output : groups_) {
    per_output.clear();
    for (size_t n = r.count(); n > 0; --n) {
      auto& g = per_output[r.str()];
      g.first_ms = r.i64();
      for (size_t k = r.count(); k > 0; --k) g.alerts.push_back(restore_alert(r));
    }
  }
  duplicates_ = r.u64();
}

} // namespace vigil
