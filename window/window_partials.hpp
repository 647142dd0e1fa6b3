#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/event.hpp"
#include "settings/config.hpp"
#include "window/window_engine.hpp"

namespace vigil {

/// An agent's pre-aggregation: the groups each tumbling or sliding window
/// would get from a batch, as one serialized blob (`event_batch::partials`).
class partial_collector {
public:
  partial_collector(const std::vector<window_config>& windows, std::vector<std::string> label_names);

  /// The blob for `b`; "" when no window pre-aggregates.
  std::string collect(const event_batch& b);
  /// One blob per aggregator of `partitions` (window/partition.hpp): each
  /// holds the groups that aggregator owns, and every window (some with no
  /// group), so each aggregator's windows advance by the whole batch.
  /// Empty when no window pre-aggregates.
  std::vector<std::string> collect(const event_batch& b, size_t partitions);
  /// Whether some window (a session window) still needs the events.
  bool needs_events() const noexcept { return needs_events_; }

private:
  std::vector<size_t> indexes_;         // of the windows pre-aggregated
  std::vector<window_engine> engines_;  // collecting, one per index
  std::vector<std::string> label_names_;
  std::vector<window_result> unused_;
  std::vector<window_partial> taken_;
  std::vector<std::vector<const window_partial*>> by_partition_;
  bool needs_events_ = false;
};

/// Merges a blob into `engines` as coming from `input`; `merged[i]` is set
/// for each engine the blob covers (their events are not to be added), and
/// windows that close go to `closed[i]`. Throws `state_decode_error` when
/// it does not decode or names a window that is not there.
void merge_partials(std::string_view blob, size_t input, std::vector<window_engine>& engines,
                    std::vector<std::vector<window_result>>& closed, std::vector<bool>& merged);

} // namespace vigil
