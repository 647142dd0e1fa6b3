#include "window/window_partials.hpp"

#include <algorithm>

#include "state/state_codec.hpp"
#include "window/event_view.hpp"
#include "window/partition.hpp"

namespace vigil {

partial_collector::partial_collector(const std::vector<window_config>& windows, std::vector<std::string> label_names)
  : label_names_(std::move(label_names)) {
  for (size_t i = 0; i < windows.size(); ++i) {
    if (!window_engine::can_pre_aggregate(windows[i])) {
      needs_events_ = true;
      continue;
    }
    indexes_.push_back(i);
    engines_.emplace_back(windows[i], label_names_);
    engines_.back().set_collecting(true);
  }
}

std::string partial_collector::collect(const event_batch& b) {
  auto blobs = collect(b, 1);
  return blobs.empty() ? std::string() : std::move(blobs.front());
}

std::vector<std::string> partial_collector::collect(const event_batch& b, size_t partitions) {
  if (engines_.empty()) return {};
  partitions = std::max<size_t>(partitions, 1);
  int64_t max_time = INT64_MIN;
  batch_event_view events(b, label_names_);
  for (size_t k = 0; k < events.size(); ++k) {
    const window_event& e = events.at(k);
    max_time = std::max(max_time, e.time_ms);
    for (auto& engine : engines_) engine.add(e, unused_);
  }
  std::vector<state_writer> writers(partitions);
  for (auto& w : writers) {
    w.i64(max_time);
    w.u64(engines_.size());
  }
  by_partition_.resize(partitions);
  for (size_t i = 0; i < engines_.size(); ++i) {
    taken_.clear();
    engines_[i].take_partials(taken_);
    for (auto& list : by_partition_) list.clear();
    for (const auto& p : taken_) by_partition_[partition_of(engines_[i].config(), p.key, partitions)].push_back(&p);
    for (size_t part = 0; part < partitions; ++part) {
      state_writer& w = writers[part];
      w.u64(indexes_[i]);
      w.u64(by_partition_[part].size());
      for (const window_partial* p : by_partition_[part]) {
        w.i64(p->start_ms);
        w.str(p->key);
        w.fields(p->fields);
        w.i64(p->last_event_ms);
        p->metrics.save(w);
      }
    }
  }
  std::vector<std::string> blobs;
  blobs.reserve(partitions);
  for (auto& w : writers) blobs.push_back(w.take());
  return blobs;
}

void merge_partials(std::string_view blob, size_t input, std::vector<window_engine>& engines,
                    std::vector<std::vector<window_result>>& closed, std::vector<bool>& merged) {
  state_reader r(blob);
  const int64_t max_time = r.i64();
  merged.assign(engines.size(), false);
  window_partial p;
  for (size_t n = r.count(); n > 0; --n) {
    const uint64_t index = r.u64();
    if (index >= engines.size() || !window_engine::can_pre_aggregate(engines[index].config()) || merged[index])
      throw state_decode_error("partials for window " + std::to_string(index) + ", which does not take them");
    merged[index] = true;
    for (size_t g = r.count(); g > 0; --g) {
      p = window_partial{};
      p.start_ms = r.i64();
      p.key = r.str();
      p.fields = r.fields();
      p.last_event_ms = r.i64();
      p.metrics.restore(r);
      engines[index].merge(p, input);
    }
  }
  if (!r.done()) throw state_decode_error("partials have bytes after their last window");
  // Windows close once the whole batch is in: with events in order within
  // the allowed lateness, the same ones as event by event.
  if (max_time != INT64_MIN)
    for (size_t i = 0; i < engines.size(); ++i)
      if (merged[i]) engines[i].advance_input(input, max_time, closed[i]);
}

} // namespace vigil
