#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "metrics/stage_tally.hpp"
#include "settings/config.hpp"
#include "record/record_format.hpp"
#include "record/record_layout.hpp"
#include "anomaly/detector_bank.hpp"
#include "window/window_engine.hpp"

namespace vigil {

/// What one window holds now, for `/metrics`: set by the window stage
/// after every batch.
struct window_tally {
  explicit window_tally(std::string window_name) : window(std::move(window_name)) {}
  std::string window;
  std::atomic<uint64_t> open_groups{0};
  std::atomic<int64_t> watermark_ms{0};
  std::atomic<uint64_t> late_events{0};     ///< behind the watermark: counted and dropped
  std::atomic<uint64_t> dropped_groups{0};  ///< over max_groups
  std::atomic<uint64_t> values_cut{0};      ///< group values over max_group_value_bytes
  std::atomic<uint64_t> detector_series{0};          ///< series the window's detectors keep
  std::atomic<uint64_t> detector_series_dropped{0};  ///< values of series over max_series

  /// Closed instances, for the dashboard: of a window without group_by
  /// its metrics (`metrics`, in `names` order; NaN where there is no
  /// value); of a keyed one, for each metric in `names` order, the groups
  /// with the most of it (at most `top_groups`, none for a metric without
  /// numbers), as "field=value" keys. The newest `history_size` are kept;
  /// of a keyed window only the newest (the dashboard ranks its groups).
  struct closed_view {
    using ranking = std::vector<std::pair<std::string, double>>;
    int64_t start_ms = 0;  ///< 0: none closed yet
    std::vector<double> metrics;
    std::vector<ranking> tops;
  };
  static constexpr size_t top_groups = 10, history_size = 90;
  std::vector<std::string> names;  ///< set before anything runs
  bool keyed = false;
  /// A keyed window's instance that closes in slices comes slice by
  /// slice: each merges into the ranking of its instance.
  void add_closed(closed_view v) {
    std::lock_guard<std::mutex> guard(closed_lock_);
    if (keyed && !closed_.empty() && closed_.back().start_ms == v.start_ms) {
      merge_tops(closed_.back(), std::move(v));
      return;
    }
    closed_.push_back(std::move(v));
    if (closed_.size() > (keyed ? 1 : history_size)) closed_.pop_front();
  }
  std::deque<closed_view> closed() const {
    std::lock_guard<std::mutex> guard(closed_lock_);
    return closed_;
  }

private:
  static void merge_tops(closed_view& into, closed_view from) {
    for (size_t m = 0; m < into.tops.size() && m < from.tops.size(); ++m) {
      auto& top = into.tops[m];
      for (auto& entry : from.tops[m]) top.push_back(std::move(entry));
      std::stable_sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
      if (top.size() > top_groups) top.resize(top_groups);
    }
  }
  mutable std::mutex closed_lock_;
  std::deque<closed_view> closed_;  ///< oldest first
};

/// Where the records of a batch go (the ETL job's record sinks), written
/// in read order like the quarantine, so checkpointed like every sink.
struct record_output {
  line_sink_actor sink;
  record_line_format format;
};

struct window_stage_config {
  std::vector<window_config> windows;
  /// Per window, the metrics its rules read (`watched_metrics`); windows
  /// without rules send no deltas.
  std::vector<std::vector<std::string>> watched;
  /// Dimension fields, in the order the enrich stage labels events.
  std::vector<std::string> label_names;
  /// One of several aggregators: the groups this stage keeps.
  partition part;
  detect_stage_actor detect;
  /// Per window name, where its closed results go (JSON lines).
  std::vector<std::pair<std::string, line_sink_actor>> window_sinks;
  /// Where the batches' quarantine records go, in read order; may be null.
  line_sink_actor quarantine;
  /// Where the batches' attack requests go (`input = "attacks"`), in read order.
  std::vector<line_sink_actor> attack_sinks;
  /// The node's record layout (null: no ETL job) and the record sinks.
  std::shared_ptr<const record_layout> records;
  std::vector<record_output> record_sinks;
  /// Requests in flight (to the detect stage and sinks) before the stage
  /// holds back its senders' credit. Default: 8.
  size_t max_in_flight = 8;
  /// Checkpoints: where the stage's part goes (null: no checkpoints), the
  /// sources whose barriers it aligns (every one must arrive before the
  /// stage stores its state), and the state to start from (empty: none).
  checkpoint_coordinator_actor coordinator;
  /// Send the windows' part in pieces as they are written (a coordinator
  /// that streams them to disk; not a relay to another node), so that a
  /// million groups' state is never held whole in memory.
  bool checkpoint_in_pieces = false;
  std::vector<std::string> sources;
  std::shared_ptr<std::vector<window_engine>> restored;
  /// The detectors (`[[detector]]`), and their state to start from (null: fresh).
  std::vector<detector_config> detectors;
  std::shared_ptr<std::vector<detector_bank>> restored_detectors;
  /// A source that sent no events for this long stops holding the
  /// watermark back (a quiet log must not keep every window open).
  std::chrono::milliseconds idle_after{10000};
  /// One per window, in order, for `/metrics` (empty: not counted).
  std::vector<std::shared_ptr<window_tally>> tallies;
  std::shared_ptr<stage_tally> stage;  ///< null: not counted
};

/// The engines of `cfg` with the state a checkpoint holds for them (the
/// window stage's part), and into `detectors` (when given) the windows'
/// detectors. Throws `state_decode_error` when it does not decode or is
/// for other windows.
std::vector<window_engine> restore_window_engines(const window_stage_config& cfg, std::string_view state,
                                                  std::vector<detector_bank>* detectors = nullptr);
/// The detector banks of `cfg`, one per window (fresh).
std::vector<detector_bank> fresh_detector_banks(const window_stage_config& cfg);

/// Spawns the stage that keeps the node's windows (see `window_stage_actor`),
/// starting from `cfg.restored` when set.
window_stage_actor spawn_window_stage(caf::actor_system& sys, const window_stage_config& cfg);

} // namespace vigil
