#include "anomaly/detector_bank.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "state/state_codec.hpp"
#include "window/window_engine.hpp"

namespace vigil {

namespace {

constexpr size_t no_slot = SIZE_MAX;

} // namespace

detector_value_names::detector_value_names(const std::string& metric)
  : score("anomaly_score_" + metric), value("anomaly_value_" + metric), expected("anomaly_expected_" + metric),
    low("anomaly_low_" + metric), high("anomaly_high_" + metric), alert("anomaly_alert_" + metric) {}

detector_bank::detector_bank(const window_config& window, const std::vector<detector_config>& detectors,
                             const std::vector<std::string>& watched)
  : window_(window.name) {
  for (const auto& d : detectors) {
    if (d.window != window.name) continue;
    entry e;
    e.cfg = d;
    e.score_name = detector_value_names(d.metric).score;
    for (const auto& f : d.group_by) {
      auto it = std::find(window.group_by.begin(), window.group_by.end(), f);
      if (it != window.group_by.end()) e.key_fields.push_back(static_cast<size_t>(it - window.group_by.begin()));
    }
    for (const auto& name : detector_value_names(d.metric).all()) {
      auto it = std::find(watched.begin(), watched.end(), name);
      e.slots.push_back(it == watched.end() ? no_slot : static_cast<size_t>(it - watched.begin()));
    }
    detectors_.push_back(std::move(e));
  }
}

void detector_bank::judge(std::vector<window_result>& closed, std::vector<window_delta>& deltas) {
  if (detectors_.empty() || closed.empty()) return;
  for (auto& e : detectors_) {
    // By instance (the results of one close are together): each series'
    // value, summed over its groups, then judged in key order.
    for (size_t begin = 0; begin < closed.size();) {
      size_t end = begin;
      while (end < closed.size() && closed[end].start_ms == closed[begin].start_ms
             && closed[end].end_ms == closed[begin].end_ms)
        ++end;
      std::map<std::string, std::pair<double, std::vector<size_t>>> by_series;
      std::string key;
      for (size_t i = begin; i < end; ++i) {
        const auto& group = closed[i].group;
        key.clear();
        for (size_t f : e.key_fields)
          if (f < group.size()) key += group[f].first + "=" + group[f].second + "\x1f";
        auto& [sum, members] = by_series[key];
        const double v = closed[i].metrics.value(e.cfg.metric).value_or(std::nan(""));
        sum = members.empty() ? v : sum + v;
        members.push_back(i);
      }
      std::unordered_map<std::string, std::pair<anomaly_point, double>> points;  // by the group's text, for the deltas
      for (auto& [series_key, value_and_members] : by_series) {
        auto& [value, members] = value_and_members;
        anomaly_point p;
        auto it = e.series.find(series_key);
        if (it != e.series.end()) {
          p = it->second.observe(closed[members.front()].start_ms, value);
        } else if (e.series.size() >= e.cfg.max_series) {
          ++e.dropped;
          continue;
        } else {
          // A series' first window is not learned from: a node that starts,
          // or a group that appears, in the middle of a window sees only a
          // part of it, and a detector's first point sets its level.
          e.series.emplace(series_key, series_detector(e.cfg.params));
          p.expected = p.low = p.high = value;
        }
        for (size_t i : members) {
          closed[i].anomaly.emplace_back(e.score_name, p.score);
          points.emplace(group_text(closed[i].group), std::make_pair(p, value));
        }
      }
      // The close deltas of the instance carry the same points.
      for (auto& d : deltas) {
        if (!d.closed || d.start_ms != closed[begin].start_ms || d.end_ms != closed[begin].end_ms) continue;
        for (auto& g : d.groups) {
          auto p = points.find(group_text(g.group));
          if (p == points.end()) continue;
          const auto& [point, value] = p->second;
          const double values[] = {point.score, value, point.expected, point.low, point.high, point.alert ? 1.0 : 0.0};
          for (size_t k = 0; k < e.slots.size(); ++k)
            if (e.slots[k] != no_slot && e.slots[k] < g.values.size()) g.values[e.slots[k]] = values[k];
        }
      }
      begin = end;
    }
  }
}

size_t detector_bank::series() const noexcept {
  size_t n = 0;
  for (const auto& e : detectors_) n += e.series.size();
  return n;
}

uint64_t detector_bank::series_dropped() const noexcept {
  uint64_t n = 0;
  for (const auto& e : detectors_) n += e.dropped;
  return n;
}

void detector_bank::save(state_writer& w) const {
  w.u64(detectors_.size());
  for (const auto& e : detectors_) {
    w.str(e.cfg.name);
    w.str(e.cfg.metric);
    w.u64(e.dropped);
    w.u64(e.series.size());
    for (const auto& [key, d] : e.series) {
      w.str(key);
      d.save(w);
    }
  }
}

void detector_bank::restore(state_reader& r) {
  for (auto& e : detectors_) {
    e.series.clear();
    e.dropped = 0;
  }
  for (size_t n = r.count(); n > 0; --n) {
    const std::string name = r.str();
    const std::string metric = r.str();
    auto it = std::find_if(detectors_.begin(), detectors_.end(),
                           [&](const entry& e) { return e.cfg.name == name && e.cfg.metric == metric; });
    const uint64_t dropped = r.u64();
    const size_t series = r.count();
    for (size_t k = 0; k < series; ++k) {
      std::string key = r.str();
      // A detector since removed or changed: read past its state.
      series_detector d(it != detectors_.end() ? it->cfg.params : detector_params{});
      if (it == detectors_.end() || !d.restore_if_same(r)) continue;
      it->series.emplace(std::move(key), std::move(d));
    }
    if (it != detectors_.end()) it->dropped = dropped;
  }
}

} // namespace vigil
