// batch_aggregate::merge: kept apart from the hot add() path because it is
// all id translation. Ids are local to each aggregate, so every table keyed
// by ids is rebuilt through the string tables first.

#include <algorithm>
#include <tuple>

#include "report/batch_aggregate.hpp"

namespace vigil {

namespace {

/// Folds the string-keyed table `from` into `into`, renumbering ids in
/// insertion order of `into`, and returns old id -> new id.
template <class Map, class Fold>
std::vector<uint32_t> merge_keyed(Map& into, Map& from, Fold fold) {
  std::vector<uint32_t> ids(from.size());
  for (auto& [key, stats] : from) {
    auto [it, inserted] = into.try_emplace(key);
    if (inserted) it->second.id = static_cast<uint32_t>(into.size() - 1);
    fold(it->second, stats);
    ids[stats.id] = it->second.id;
  }
  from.clear();
  return ids;
}

inline uint64_t remap_low(uint64_t key, const std::vector<uint32_t>& ids) {
  return (key & 0xFFFFFFFF00000000ull) | ids[static_cast<uint32_t>(key)];
}

/// Keeps the first `limit` records in input order and returns how many
/// went. The limits are the run's, not each worker's: every worker keeps
/// its own first `limit` (it reads its chunks in order), so what is kept
/// here is the input's first `limit`, whatever the number of workers.
template <class Record>
uint64_t keep_first(std::vector<Record>& records, size_t limit) {
  if (records.size() <= limit) return 0;
  auto before = [](const Record& a, const Record& b) { return std::tie(a.sequence, a.line) < std::tie(b.sequence, b.line); };
  std::nth_element(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(limit), records.end(), before);
  const uint64_t dropped = records.size() - limit;
  records.resize(limit);
  return dropped;
}

} // namespace

void batch_aggregate::merge(batch_aggregate&& other) {
  seal();
  other.seal();
  lines += other.lines;
  empty_lines += other.empty_lines;
  valid += other.valid;
  for (size_t i = 0; i < failed_by_reason.size(); ++i) failed_by_reason[i] += other.failed_by_reason[i];
  bytes += other.bytes;
  page_views += other.page_views;
  static_hits += other.static_hits;
  bot_hits += other.bot_hits;
  missing_bytes += other.missing_bytes;
  missing_referer += other.missing_referer;
  missing_agent += other.missing_agent;
  truncated_agent += other.truncated_agent;
  missing_request += other.missing_request;
  first_ms = std::min(first_ms, other.first_ms);
  last_ms = std::max(last_ms, other.last_ms);
  for (size_t i = 0; i < status.size(); ++i) status[i] += other.status[i];
  for (size_t i = 0; i < class_hits.size(); ++i) class_hits[i] += other.class_hits[i];

  // Both are sealed: no client has an open minute left.
  auto client_ids = merge_keyed(clients, other.clients, [](client_stats& a, const client_stats& b) {
    a.hits += b.hits;
    a.bytes += b.bytes;
    a.served_probes += b.served_probes;
    a.first_ms = std::min(a.first_ms, b.first_ms);
    a.last_ms = std::max(a.last_ms, b.last_ms);
  });
  auto agent_ids = merge_keyed(agents, other.agents, [](agent_stats& a, const agent_stats& b) {
    a.hits += b.hits;
    a.classes |= b.classes;
  });
  auto path_ids = merge_keyed(paths, other.paths, [](path_stats& a, const path_stats& b) {
    a.hits += b.hits;
    a.bytes += b.bytes;
    a.hits_404 += b.hits_404;
    a.bytes_404 += b.bytes_404;
    a.hits_5xx += b.hits_5xx;
    a.bytes_5xx += b.bytes_5xx;
    a.timed += b.timed;
    a.time_sum_us += b.time_sum_us;
    a.time_max_us = std::max(a.time_max_us, b.time_max_us);
    a.classes |= b.classes;
  });

  for (auto& [k, c] : other.referrers) {
    referrer_stats& r = referrers[k];
    r.hits += c.hits;
    r.bytes += c.bytes;
  }
  for (auto& [k, n] : other.methods) methods[k] += n;
  for (auto& [k, n] : other.protocols) protocols[k] += n;
  not_found_requests.merge(other.not_found_requests);
  for (auto& [k, h] : other.hours) {
    hour_stats& x = hours[k];
    x.hits += h.hits;
    x.bytes += h.bytes;
    x.page_views += h.page_views;
    x.status_4xx += h.status_4xx;
    x.status_5xx += h.status_5xx;
  }

  for (auto& [k, activity] : other.visitors) {
    uint64_t key = (uint64_t{client_ids[static_cast<uint32_t>(k >> 32)]} << 32)
                   | agent_ids[static_cast<uint32_t>(k)];
    auto [it, inserted] = visitors.try_emplace(key);
    if (inserted) {
      it->second = std::move(activity);
      continue;
    }
    for (const auto& s : activity.spans) add_activity(it->second.spans, s, opts_.session_gap_s);
    for (int32_t d : activity.days) add_day(it->second.days, d);
  }
  client_minutes.reserve(client_minutes.size() + other.client_minutes.size());
  for (const auto& run : other.client_minutes) {
    uint64_t key = (uint64_t{client_ids[static_cast<uint32_t>(run.key >> 32)]} << 32)
                   | (run.key & 0xFFFFFFFFu);
    client_minutes.push_back({key, run.counts});
  }
  for (auto& [k, n] : other.attacks_by_client) attacks_by_client[remap_low(k, client_ids)] += n;
  for (auto& [k, n] : other.attacks_by_path) attacks_by_path[remap_low(k, path_ids)] += n;

  request_times_us.insert(request_times_us.end(), other.request_times_us.begin(),
                          other.request_times_us.end());
  request_time_max_us = std::max(request_time_max_us, other.request_time_max_us);
  std::vector<uint64_t> hashes;
  hashes.reserve(line_hashes.size() + other.line_hashes.size());
  std::set_union(line_hashes.begin(), line_hashes.end(), other.line_hashes.begin(),
                 other.line_hashes.end(), std::back_inserter(hashes));
  line_hashes = std::move(hashes);

  std::move(other.quarantine.begin(), other.quarantine.end(), std::back_inserter(quarantine));
  quarantine_dropped += other.quarantine_dropped + keep_first(quarantine, opts_.quarantine_limit);
  std::move(other.attacks.begin(), other.attacks.end(), std::back_inserter(attacks));
  attacks_dropped += other.attacks_dropped + keep_first(attacks, opts_.attack_limit);
  chunks.insert(chunks.end(), other.chunks.begin(), other.chunks.end());
}

} // namespace vigil
