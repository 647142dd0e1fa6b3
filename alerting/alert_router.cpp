#include "alerting/alert_router.hpp"

#include <algorithm>

namespace vigil {

alert_router::alert_router(std::vector<alert_output> outputs, size_t remember)
  : outputs_(std::move(outputs)), remember_(remember), groups_(outputs_.size()) {}

std::vector<std::string> alert_router::render(size_t output, const std::vector<alert>& alerts) const {
  std::vector<std::string> lines;
  if (!outputs_[output].readable) {
    for (const auto& a : alerts) lines.push_back(to_json(a));
    return lines;
  }
  if (alerts.size() == 1) {
    lines.push_back(to_text(alerts[0]));
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
    route(a, now_ms, out);
  }
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
    for (const auto& a : due) out[i].push_back(render(i, {a}));
  }
}

void alert_router::drain(std::vector<writes>& out) {
  out.resize(outputs_.size());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    for (auto& [key, g] : groups_[i]) out[i].push_back(render(i, g.alerts));
    groups_[i].clear();
  }
}

} // namespace vigil
