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

  /// A group the last `add` changed: what rules are checked against.
  struct touched_group {
    int64_t start_ms, end_ms;
    const std::vector<std::pair<std::string, std::string>>* group;
    const window_metrics* metrics;
  };

  /// Adds one event; appends the results of windows it closes to `closed`
  /// (they close before the event is added: none of its windows can).
  void add(const window_event& e, std::vector<window_result>& closed);

  /// The groups the last `add` changed; valid until the next `add`/`flush`.
  const std::vector<touched_group>& touched() const noexcept { return touched_; }

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

  std::string group_key(const window_event& e) const;
  std::vector<std::pair<std::string, std::string>> group_fields(const window_event& e) const;
  static std::string field_value(const window_event& e, const std::string& field);
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
  std::vector<touched_group> touched_;
};

} // namespace vigil
