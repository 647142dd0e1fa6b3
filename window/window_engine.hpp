#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/container/node_hash_map.h>

#include "hash/string_map.hpp"
#include "hash/xxh3.hpp"
#include "messages/window_delta.hpp"
#include "rules/metric_names.hpp"
#include "settings/config.hpp"
#include "window/partition.hpp"
#include "signature/signature_set.hpp"
#include "sketch/distinct_counter.hpp"
#include "sketch/quantile_sketch.hpp"
#include "window/declared_metrics.hpp"
#include "window/group_counters.hpp"
#include "window/value_box.hpp"

namespace vigil {

class state_writer;
class state_reader;

/// What a window needs of one event (views into its batch, plus the
/// signature classes the enrich stage found).
struct window_event {
  int64_t time_ms = 0;
  uint16_t status = 0;
  uint64_t bytes = 0;
  int64_t request_time_us = -1;  ///< < 0: none
  std::string_view ip, path, method, host, protocol, user_agent, referer;
  std::string_view route;     ///< the path's route template ("" = the path)
  std::string_view ua_class;  ///< browser, bot, scanner, tool, other
  /// Dimension-table labels, in the order of the engine's `label_names`.
  const std::string_view* labels = nullptr;
  signature_mask classes = 0;
  /// A record (the ETL job), in the node's record layout; null for a
  /// web-log event. Its strings are in `record_text`.
  const field_value* record = nullptr;
  std::string_view record_text;
  const record_info* record_meta = nullptr;  ///< its quality flags and masks (null: a plain record)
  /// Computed once per event for all windows by `prepare()`.
  uint64_t visitor_hash = 0, path_hash = 0;
  int32_t latency_bucket = 0;
  bool prepared = false;

  /// Fills the per-event hashes and the latency bucket from the fields.
  void prepare();
};

/// The metrics of one group in one window: the web-log ones (PRODUCT.md
/// metric names), or, for a window that declares `metrics`, those.
class window_metrics {
public:
  /// The declared metrics this group computes instead of the web-log
  /// ones (null: web-log). Shared: a result may outlive its engine.
  void declare(std::shared_ptr<const metric_plan> plan);
  const metric_plan* declared_plan() const noexcept {
    const auto* d = declared_.find();
    return d ? d->plan.get() : nullptr;
  }
  /// Points restored values at their plan (which `restore` cannot know).
  void bind(std::shared_ptr<const metric_plan> plan) {
    if (plan) declared_.get().plan = std::move(plan);
  }

  void add(const window_event& e);
  void merge(const window_metrics& other);

  /// The value of metric `name`; nullopt when the window has no such data
  /// (latency without request times) or the name is unknown.
  std::optional<double> value(window_metric m) const;
  std::optional<double> value(std::string_view name) const;
  /// Declared metric `i` of the plan.
  std::optional<double> declared_value(size_t i) const;
  /// Appends the metrics as the members of a JSON object.
  void append_json(std::string& out) const;

  uint64_t requests() const noexcept { return counters_[requests_]; }

  void save(state_writer& w) const;
  void restore(state_reader& r);

private:
  enum counter : size_t {
    requests_, page_views_, bytes_, probes_, bots_,
    status_1xx_, status_2xx_, status_3xx_, status_4xx_, status_5xx_,  // by class, in order
    status_401_, status_403_, status_404_, auth_failures_, counter_count_
  };
  group_counters<counter_count_> counters_;
  distinct_counter visitors_;  // hashes of (ip, user agent)
  distinct_counter paths_;     // hashes of path
  value_box<quantile_sketch> latency_;  // made at the first request time
  struct declared_part {
    std::shared_ptr<const metric_plan> plan;
    declared_values values;
  };
  value_box<declared_part> declared_;  // only in a window that declares metrics
};

/// A closed window's result for one group.
struct window_result {
  std::string window;    ///< the window's name
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::vector<std::pair<std::string, std::string>> group;  ///< group_by field -> value
  window_metrics metrics;
  /// Set by the window's detectors: `anomaly_score_<metric>` per detector,
  /// written after the metrics.
  std::vector<std::pair<std::string, double>> anomaly;
};

/// One group of one window instance, pre-aggregated from a batch's events
/// on an agent, merged on the aggregator.
struct window_partial {
  int64_t start_ms = 0;
  std::string key;   ///< the engine's group key (same config on both sides)
  std::vector<std::pair<std::string, std::string>> fields;
  int64_t last_event_ms = 0;
  window_metrics metrics;
};

/// The PRODUCT.md window result: {"window":{"start","end"},"group":{...},"metrics":{...}}.
std::string to_json(const window_result& r);

/// Windows of one `[[window]]` over an event stream, by event time.
/// Watermark = highest event time seen (of the slowest input) minus allowed lateness; a window
/// closes when the watermark passes its end. An event whose windows have
/// all closed is counted as late and dropped, never merged.
///
/// For the rules, the engine also keeps deltas: which groups changed, with
/// the values of the `watched` metrics, and every group of each instance
/// that closes. `take_deltas` hands them over (changes before closes).
class window_engine {
public:
  /// `label_names`: the dimension fields events carry in `labels`;
  /// `records`: the node's record layout, for windows over records (group
  /// by record fields, declared metrics). Throws std::invalid_argument for
  /// an unknown group_by field or a metric that does not compile.
  explicit window_engine(window_config cfg, std::vector<std::string> label_names = {},
                         const record_layout* records = nullptr);
  ~window_engine();
  window_engine(window_engine&&) noexcept;
  window_engine& operator=(window_engine&&) noexcept;

  /// The metrics to snapshot for deltas; none (the default): no deltas.
  void watch(std::vector<std::string> metrics);

  /// The inputs (sources) events come from; default 1. Each input has its
  /// own highest event time, and the watermark follows the slowest input
  /// that is not idle. Call before `restore`.
  void set_inputs(size_t n);
  /// An idle input (nothing arrived from it for a while) does not hold the
  /// watermark back; it stops being idle with its next event.
  void set_idle(size_t input, bool idle);

  /// On one of several aggregators: `add` takes only the events of groups
  /// `part` owns (the others' still move the watermark, so every
  /// aggregator closes a window at the same point of the stream).
  void set_partition(partition part) noexcept { partition_ = part; }

  /// Adds one event of `input`; appends the results of windows it closes
  /// to `closed` (they close before the event is added: none of its
  /// windows can).
  void add(const window_event& e, std::vector<window_result>& closed, size_t input = 0);

  /// Pre-aggregation (tumbling and sliding windows). On an agent: an
  /// engine made with `collecting` set takes a batch's events with no
  /// watermark, no lateness and no group limit, and `take_partials` moves
  /// its groups out. On the aggregator: `merge` adds a partial of `input`
  /// (counted late, all its requests, when its window closed), and
  /// `advance_input` then moves the input's event time to the batch's
  /// highest, closing what that closes.
  /// Session windows need the events, and so do windows of declared
  /// metrics (over records, which the aggregator gets whole).
  static bool can_pre_aggregate(const window_config& cfg) noexcept {
    return cfg.type != window_type::session && cfg.metrics.empty();
  }
  void set_collecting(bool on) noexcept { collecting_ = on; }
  void take_partials(std::vector<window_partial>& out);
  void merge(window_partial& p, size_t input);
  void advance_input(size_t input, int64_t max_time_ms, std::vector<window_result>& closed);

  /// Closes every open window (end of input, or shutdown).
  void flush(std::vector<window_result>& closed);
  /// The same a slice at a time: closes up to `budget` groups (whole
  /// sessions and instances when not in slices); true once all are closed.
  bool flush_some(size_t budget, std::vector<window_result>& closed);

  /// Closes in slices (tumbling and sliding windows; the window stage's):
  /// an instance the watermark passes is not closed by the call that moved
  /// the watermark but queued, and `close_some` closes its groups a bounded
  /// number per call, in key order, each slice a closed delta (`last` on the
  /// final one), so a minute of a million groups does not hold the stream
  /// up for its whole close. A close begins with an empty slice; meanwhile
  /// the change of a group of a later instance whose key still waits to
  /// close is held back, so the rules see a group's close before anything
  /// after it. One instance closes at a time: the watermark passing another
  /// finishes the one closing first. Checkpoints hold what is still to
  /// close. Off (the default): instances close whole, at once.
  void set_sliced_closes(bool on) noexcept { sliced_ = on; }
  bool sliced_closes() const noexcept { return sliced_; }
  /// Closes up to `budget` groups of the instance closing; true when none
  /// are left to close.
  bool close_some(size_t budget, std::vector<window_result>& closed);
  /// Groups still to close.
  size_t closing_groups() const noexcept;

  /// Moves the deltas since the last call into `out` (appends).
  void take_deltas(std::vector<window_delta>& out);

  /// Checkpoints: open windows (or sessions) with their groups and
  /// sketches, the watermark and the counters. Save after `take_deltas`
  /// (between batches); restore into an engine made with the same config.
  /// `save` writes it all at once (`begin_save` then `end_save`).
  std::string save();
  void restore(state_reader& r);

  /// Checkpoints without a pause in the stream. `begin_save` fixes what
  /// the checkpoint holds: the state as it is now. `save_some` then writes
  /// up to `budget` groups of it per call, between batches. A group about
  /// to change, merge or close meanwhile is written first (copy on write),
  /// so nothing added after `begin_save` reaches the checkpoint. A new
  /// `begin_save` finishes the one in progress first.
  /// `in_pieces`: the caller takes what is written as it goes
  /// (`take_saved`), so no room is made for all of it at once.
  void begin_save(bool in_pieces = false);
  /// True once every group is written (then call `end_save`).
  bool save_some(size_t budget);
  /// The bytes written so far and not taken yet.
  size_t saved_size() const noexcept;
  /// Takes the bytes written so far: the first piece of what `end_save`
  /// would return, which then returns the rest.
  std::string take_saved();
  /// The saved bytes, as `save` writes them (after any taken); finishes
  /// what is left.
  std::string end_save();
  bool saving() const noexcept { return save_ != nullptr; }

  /// What saved state holds, read without the config (`vigil state inspect`).
  struct state_summary {
    std::string window;
    int64_t watermark = 0;
    uint64_t late = 0, groups_dropped = 0;
    std::vector<std::pair<int64_t, uint64_t>> instances;  ///< open window start -> groups
    uint64_t sessions = 0;
    uint64_t requests = 0;  ///< in all open groups
  };
  static state_summary summarize(state_reader& r);

  const window_config& config() const noexcept { return cfg_; }
  /// Declares metrics: takes records, not web-log events.
  bool over_records() const noexcept { return plan_ != nullptr; }
  int64_t watermark() const noexcept { return watermark_; }
  uint64_t late_dropped() const noexcept { return late_; }
  /// Events of keys that found no room under max_groups: counted in
  /// overflow groups instead (their client's network, then one group for
  /// the rest), which rules and sinks see as any other group.
  uint64_t groups_dropped() const noexcept { return groups_dropped_; }
  /// Events whose group value was longer than max_group_value_bytes (cut).
  uint64_t values_cut() const noexcept { return values_cut_; }
  static constexpr size_t max_group_value_bytes = 256;
  /// Groups per window instance before keys overflow: max_groups, or fewer
  /// when max_state_bytes over a group's worst case is less.
  size_t group_cap() const noexcept { return group_cap_; }
  size_t open_groups() const noexcept;

private:
  /// One group: what it holds and where it is, its field values in its
  /// key (see `make_key`), which the map it is in holds.
  struct group_state {
    const std::string* key = nullptr;  // its map's key (a node's: it never moves)
    window_metrics metrics;
    int64_t start_ms = 0, end_ms = 0;
    int64_t last_event_ms = 0;
    uint32_t saved_in = 0;   // the last checkpoint it was written to (or is not part of)
    uint32_t save_slot = 0;  // its place in that checkpoint's to-do list
    bool dirty = false;
  };
  struct pending_save;
  /// The group tables' hash: XXH3 with a seed drawn per engine and kept in
  /// its checkpoints. A restart adopts the seed, so the groups, saved in
  /// table order, go back into their tables in the same order (a walk
  /// through the table rather than a cache miss per group), and the seed
  /// stays unknown to whoever sends the keys.
  struct group_hash {
    using is_transparent = void;
    uint64_t seed = 0;
    size_t operator()(std::string_view s) const noexcept { return xxh3(s, seed); }
  };
  using group_map = absl::node_hash_map<std::string, group_state, group_hash, string_eq>;
  /// The instance the watermark passed, closing: its groups in key order
  /// (erasing from a node map leaves the other iterators valid; nothing is
  /// added to an instance once it closes).
  struct close_cursor {
    int64_t start = 0;
    std::vector<group_map::iterator> order;
    size_t next = 0;
  };
  using session_list = std::vector<std::unique_ptr<group_state>>;
  using session_map = absl::node_hash_map<std::string, session_list, group_hash, string_eq>;

  /// Appends the value of group field `field`; true when it was longer
  /// than `max_group_value_bytes` and was cut (see the .cpp).
  bool append_field(const window_event& e, size_t field, std::string& out) const;
  void make_key(const window_event& e);
  /// The group fields a key holds (an overflow key's too).
  std::vector<std::pair<std::string, std::string>> fields_of(std::string_view key) const;
  /// The key of the overflow group of a key over the group cap, with `open`
  /// groups in its window: its network's group while fewer than the
  /// overflow budget are open, else the one "(overflow)" group. `each_value`
  /// hands each group value to the function it is given.
  template <class Values>
  const std::string& overflow_key(size_t open, Values&& each_value);
  const std::string& overflow_key(const window_event& e, size_t open);
  void touch(group_state& g, const window_event& e);
  /// A changed group: its snapshot goes out with the next deltas.
  void mark_changed(group_state& g);
  group_state new_group(int64_t start, int64_t end) const;
  /// A new group of key `key` in `groups`, pointing at its key there.
  group_map::iterator emplace_group(group_map& groups, std::string_view key, int64_t start, int64_t end);
  group_snapshot snapshot(const group_state& g) const;
  group_snapshot snapshot(const group_state& g, std::vector<std::pair<std::string, std::string>> fields) const;
  void drain_changes();
  void advance(int64_t watermark, std::vector<window_result>& closed);
  void raise_input(size_t input, int64_t t, std::vector<window_result>& closed);
  void queue_close(int64_t start, group_map& groups);
  /// The groups of the instance that starts at `start`, made if new.
  group_map& instance_at(int64_t start);
  /// Hashes group keys with `seed` from now on (the tables must be empty).
  void use_hash_seed(uint64_t seed);
  /// Whether a change of `g` waits: its key is still to close in the older instance closing.
  bool waits_for_close(const group_state& g) const;
  void write_header(state_writer& w, uint64_t groups) const;
  void save_group(state_writer& w, const group_state& g) const;
  void keep_for_checkpoint(group_state& g);
  void forget_for_checkpoint(const group_state& g);
  void finish_save();

  window_config cfg_;
  std::vector<std::string> label_names_;
  std::vector<int> field_ids_;        // per group_by field: a built-in field or a label
  std::vector<std::optional<window_metric>> watched_;  // unknown names: NaN
  std::vector<std::optional<size_t>> watched_declared_;  // with a metric plan
  std::shared_ptr<const metric_plan> plan_;  // declared metrics; null: web-log
  std::string key_;                   // reused: the group key of the event being added
  std::string overflow_key_, value_scratch_;  // reused by overflow_key
  partition partition_;
  bool collecting_ = false;            // an agent's pre-aggregation: no watermark, no limits
  int64_t max_time_ = INT64_MIN;       // over all inputs
  std::vector<int64_t> input_max_{INT64_MIN};  // per input
  std::vector<char> input_idle_{0};
  int64_t watermark_ = INT64_MIN;
  uint64_t late_ = 0;
  uint64_t groups_dropped_ = 0;
  uint64_t values_cut_ = 0;
  size_t group_cap_ = 0;
  uint64_t hash_seed_ = 0;              // of group_hash: see there
  std::map<int64_t, group_map> open_;   // tumbling, sliding: by start (closing ones too)
  std::optional<close_cursor> closing_;  // the first instance of open_, while it closes
  bool sliced_ = false;
  session_map sessions_;                // session: by group (nodes: its groups point at their keys)
  size_t open_sessions_ = 0;
  std::vector<group_state*> dirty_;     // changed since the last drain; node-stable
  std::vector<window_delta> deltas_;
  uint32_t save_epoch_ = 0;               // the last checkpoint begun (wraps after 136 years of 1 s)
  std::unique_ptr<pending_save> save_;    // the one being written, if any
  size_t saved_bytes_per_group_ = 0;      // in the last checkpoint: the next one's room
};

} // namespace vigil
