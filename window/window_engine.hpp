#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_set.h>

#include "hash/string_map.hpp"
#include "settings/config.hpp"
#include "signature/signature_set.hpp"
#include "sketch/quantile_sketch.hpp"

namespace vigil {

/// What a window needs of one event (views into its batch, plus the
/// signature classes the enrich stage found).
struct window_event {
  int64_t time_ms = 0;
  uint16_t status = 0;
  uint64_t bytes = 0;
  int64_t request_time_us = -1;  ///< < 0: none
  std::string_view ip, path, method, host, protocol, user_agent, referer;
  signature_mask classes = 0;
};

/// The metrics of one group in one window (PRODUCT.md metric names).
class window_metrics {
public:
  void add(const window_event& e);
  void merge(const window_metrics& other);

  /// The value of metric `name`; nullopt when the window has no such data
  /// (latency without request times) or the name is unknown.
  std::optional<double> value(std::string_view name) const;

  uint64_t requests() const noexcept { return requests_; }

private:
  uint64_t requests_ = 0, page_views_ = 0, bytes_ = 0, probes_ = 0, bots_ = 0;
  uint64_t status_[6] = {};  // by class: 1xx..5xx at [1..5]
  uint64_t status_401_ = 0, status_403_ = 0, status_404_ = 0;
  absl::flat_hash_set<uint64_t> visitors_;  // hash of (ip, user agent)
  absl::flat_hash_set<uint64_t> paths_;     // hash of path
  quantile_sketch latency_;
};

/// A closed window's result for one group.
struct window_result {
  std::string window;    ///< the window's name
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::vector<std::pair<std::string, std::string>> group;  ///< group_by field -> value
  window_metrics metrics;
};

/// The PRODUCT.md window result: {"window":{"start","end"},"group":{...},"metrics":{...}}.
std::string to_json(const window_result& r);

/// The route template of a path: numeric or long hex segments become ":id".
std::string route_of(std::string_view path);

/// Windows of one `[[window]]` over an event stream, by event time.
/// Watermark = highest event time seen minus allowed lateness; a window
/// closes when the watermark passes its end. An event whose windows have
/// all closed is counted as late and dropped, never merged.
class window_engine {
public:
  explicit window_engine(window_config cfg);

  /// Adds one event; appends the results of windows it closes to `closed`.
  void add(const window_event& e, std::vector<window_result>& closed);

  /// Calls `f(start, end, group, metrics)` for every open window group
  /// `e` belongs to (after `add`): what rules are checked against.
  template <class F>
  void visit_group(const window_event& e, F f) {
    std::vector<std::pair<std::string, std::string>> fields;
    const std::string key = group_key(e, &fields);
    if (cfg_.type == window_type::session) {
      auto it = sessions_.find(key);
      if (it == sessions_.end()) return;
      for (const auto& s : it->second)
        if (e.time_ms >= s.first_ms && e.time_ms <= s.last_ms)
          f(s.first_ms, s.last_ms + cfg_.gap.count(), fields, s.state.metrics);
      return;
    }
    const int64_t size = cfg_.size.count();
    const int64_t slide = cfg_.type == window_type::sliding ? cfg_.slide.count() : size;
    const int64_t t = e.time_ms;
    for (int64_t start = (t >= 0 ? t / slide : (t - slide + 1) / slide) * slide; start > t - size; start -= slide) {
      auto w = open_.find(start);
      if (w == open_.end()) continue;
      auto g = w->second.find(key);
      if (g != w->second.end()) f(start, start + size, fields, g->second.metrics);
    }
  }

  /// Closes every open window (end of input, or shutdown).
  void flush(std::vector<window_result>& closed);

  int64_t watermark() const noexcept { return watermark_; }
  uint64_t late_dropped() const noexcept { return late_; }
  uint64_t groups_dropped() const noexcept { return groups_dropped_; }
  size_t open_groups() const noexcept;

private:
  struct group_state {
    std::vector<std::pair<std::string, std::string>> fields;
    window_metrics metrics;
  };
  struct session {
    int64_t first_ms, last_ms;
    group_state state;
  };

  std::string group_key(const window_event& e, std::vector<std::pair<std::string, std::string>>* fields) const;
  void advance(int64_t watermark, std::vector<window_result>& closed);
  void close_window(int64_t start, string_map<group_state>& groups, std::vector<window_result>& closed);

  window_config cfg_;
  int64_t max_time_ = INT64_MIN;
  int64_t watermark_ = INT64_MIN;
  uint64_t late_ = 0;
  uint64_t groups_dropped_ = 0;
  std::map<int64_t, string_map<group_state>> open_;         // tumbling, sliding: by start
  string_map<std::vector<session>> sessions_;               // session: by group
  size_t open_sessions_ = 0;
};

} // namespace vigil
