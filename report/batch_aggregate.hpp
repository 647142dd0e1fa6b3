#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/container/inlined_vector.h>

#include "hash/string_map.hpp"
#include "messages/event.hpp"
#include "parse/line_parser.hpp"
#include "parse/parse_error.hpp"
#include "signature/signature_matcher.hpp"

namespace vigil {

/// Settings of exact (batch) aggregation.
struct aggregate_options {
  /// Compiled signatures; required.
  std::shared_ptr<const signature_matcher> signatures;
  /// Malformed lines kept verbatim for the quarantine file; the rest are
  /// only counted. Default: 100,000.
  size_t quarantine_limit = 100000;
  /// Bytes of each quarantined line kept. Default: 4 KiB.
  size_t quarantine_line_bytes = 4096;
  /// Gap that ends a visitor's session. Default: 30 minutes.
  uint32_t session_gap_s = 1800;
  /// Keep each attack request (`vigil analyze --attacks`), up to the limit;
  /// the rest are only counted.
  bool keep_attacks = false;
  size_t attack_limit = 1000000;
  /// Bytes of each attack request's target and user agent kept.
  size_t attack_text_bytes = 2048;
};

/// Hits and bytes.
struct counter {
  uint64_t hits = 0;
  uint64_t bytes = 0;
};

/// Per client and minute: what burst detection looks at.
struct client_minute {
  uint32_t requests = 0;
  uint32_t not_found = 0;
  uint32_t auth_failures = 0;  ///< 401/403 on a login endpoint
};

struct client_stats {
  uint32_t id = 0;
  uint64_t hits = 0;
  uint64_t bytes = 0;
  int64_t first_ms = INT64_MAX;
  int64_t last_ms = INT64_MIN;
  /// Requests that matched only probe signatures and were served (status
  /// below 400): a crawler fetching a site's own `.conf` or `/kibana/` page,
  /// not a probe that found nothing. They do not count towards the blacklist.
  uint64_t served_probes = 0;
  /// The minute this client is in: counted here, and added to the
  /// per-minute table only when the client moves to another minute.
  int64_t open_minute = INT64_MIN;
  client_minute open;
};

struct agent_stats {
  uint32_t id = 0;
  uint64_t hits = 0;
  signature_mask classes = 0;  ///< who the agent is and what it carries, matched once per distinct agent
};

struct referrer_stats {
  uint64_t hits = 0;
  uint64_t bytes = 0;
  signature_mask classes = 0;  ///< attacks carried in it, matched once per distinct referer
};

struct path_stats {
  uint32_t id = 0;
  uint64_t hits = 0;
  uint64_t bytes = 0;
  uint64_t hits_404 = 0;
  uint64_t bytes_404 = 0;
  uint64_t hits_5xx = 0;
  uint64_t bytes_5xx = 0;
  uint64_t timed = 0;          ///< requests with a request time
  uint64_t time_sum_us = 0;
  uint64_t time_max_us = 0;
  signature_mask classes = 0;  ///< path signatures, matched once per distinct path
};

struct hour_stats {
  uint64_t hits = 0;
  uint64_t bytes = 0;
  uint64_t page_views = 0;
  uint64_t status_4xx = 0;
  uint64_t status_5xx = 0;
};

/// A closed interval of activity: [first, last] in Unix seconds.
struct activity_span {
  uint32_t first = 0;
  uint32_t last = 0;
};

/// Spans of one visitor, sorted, more than the session gap apart. Most
/// visitors have one or two, kept inline.
using span_list = absl::InlinedVector<activity_span, 2>;

/// What is known of one (client, user agent) pair.
struct visitor_activity {
  span_list spans;                        ///< its sessions
  absl::InlinedVector<int32_t, 2> days;   ///< distinct local days it was seen on
};

/// A malformed line kept for the quarantine file.
struct quarantine_record {
  uint32_t input = 0;
  uint64_t sequence = 0;  ///< chunk sequence number
  uint32_t line = 0;      ///< line index within the chunk
  parse_error reason = parse_error::none;
  std::string text;
};

/// A request an attack signature matched, kept for `--attacks`.
struct attack_record {
  uint32_t input = 0;
  uint64_t sequence = 0;  ///< chunk sequence number
  uint32_t line = 0;      ///< line index within the chunk
  int64_t time_ms = 0;
  std::string client, method, target, user_agent;
  std::string attacks;    ///< `explain_attacks` of it: JSON text
  uint16_t status = 0;
};

/// Lines per chunk, to turn chunk-relative line indices into line numbers.
struct chunk_lines {
  uint64_t sequence = 0;
  uint32_t input = 0;
  uint32_t lines = 0;  ///< line indices used, empty lines included
};

/// Exact counts over some of the input, from one worker. Merging partials in
/// any order gives the same totals, so the report does not depend on how
/// many workers ran or which chunks each got.
class batch_aggregate {
public:
  explicit batch_aggregate(aggregate_options opts);

  /// Folds the events of one parsed chunk in (chunk `sequence` of input
  /// `input`: where its attack records say they are).
  void add(const event_batch& batch, uint32_t input = 0, uint64_t sequence = 0);

  /// Counts (and keeps, up to the limit) the lines of a chunk that failed.
  void add_failures(uint32_t input, uint64_t sequence, const event_batch& batch,
                    const std::vector<line_failure>& failures);

  /// Records the line accounting of one chunk.
  void add_chunk(uint32_t input, uint64_t sequence, const line_counts& counts);

  /// Finishes deferred work (open client minutes, line-hash dedup) so the
  /// tables are complete. Idempotent; `merge` and the report need it.
  void seal();

  /// Folds `other` in (both are sealed first). `other` is consumed: only
  /// destroy it afterwards.
  void merge(batch_aggregate&& other);

  const aggregate_options& options() const noexcept { return opts_; }

  // -- totals --
  uint64_t lines = 0;        ///< non-empty lines
  uint64_t empty_lines = 0;
  uint64_t valid = 0;
  parse_error_counts failed_by_reason = {};
  uint64_t bytes = 0;
  uint64_t page_views = 0;
  uint64_t static_hits = 0;
  uint64_t bot_hits = 0;
  uint64_t missing_bytes = 0;
  uint64_t missing_referer = 0;
  uint64_t missing_agent = 0;
  uint64_t truncated_agent = 0;
  uint64_t missing_request = 0;
  int64_t first_ms = INT64_MAX;
  int64_t last_ms = INT64_MIN;
  std::array<uint64_t, 600> status = {};

  // -- keyed tables; ids are local to this aggregate --
  string_map<client_stats> clients;
  string_map<agent_stats> agents;
  string_map<path_stats> paths;
  string_map<referrer_stats> referrers;
  string_map<uint64_t> methods;
  string_map<uint64_t> protocols;
  /// Distinct "METHOD target PROTOCOL" of 404s: GoAccess's unique_not_found.
  string_set not_found_requests;
  absl::flat_hash_map<int64_t, hour_stats> hours;  ///< key: UTC hour start, Unix seconds

  /// Per (client id << 32 | agent id): sessions and days. Unique visitors
  /// (client, agent, local day) are the sum of the day counts.
  absl::flat_hash_map<uint64_t, visitor_activity> visitors;
  /// Runs of one client within one minute, key (client id << 32 | minute
  /// since epoch), appended as clients change minutes. The same key may
  /// appear more than once: `combined_client_minutes` sums them.
  struct client_minute_run {
    uint64_t key;
    client_minute counts;
  };
  std::vector<client_minute_run> client_minutes;
  /// Attack hits per (class << 32 | client id).
  absl::flat_hash_map<uint64_t, uint64_t> attacks_by_client;
  /// Attack hits per (class << 32 | path id).
  absl::flat_hash_map<uint64_t, uint64_t> attacks_by_path;
  std::array<uint64_t, signature_class_count> class_hits = {};

  /// Request times in microseconds (saturated at 2^32-1), for exact percentiles.
  std::vector<uint32_t> request_times_us;
  uint64_t request_time_max_us = 0;

  /// 64-bit hashes of whole valid lines, for the duplicate count: appended
  /// while adding (no random access per line), sorted and deduplicated by
  /// `seal()`.
  std::vector<uint64_t> line_hashes;
  bool sealed = true;

  std::vector<quarantine_record> quarantine;
  uint64_t quarantine_dropped = 0;  ///< failures over the limit, counted only
  std::vector<attack_record> attacks;  ///< with `keep_attacks`
  uint64_t attacks_dropped = 0;        ///< attack requests over the limit, counted only
  std::vector<chunk_lines> chunks;

private:
  void close_minute(client_stats& c);

  aggregate_options opts_;
  signature_matcher::scanner scanner_;
  std::string key_buffer_;  // reused to build lookup keys
  std::string decode_buffer_;  // reused to decode escaped paths
  // Queries repeat (a scanner's payloads, `?page=2`): each distinct one is
  // classified once, up to a bound past which the cache starts over.
  string_map<signature_mask> query_classes_;
  // Consecutive lines often come from one visitor: remember the last one.
  uint64_t last_visitor_ = UINT64_MAX;
  int32_t last_day_ = INT32_MIN;
  visitor_activity* last_activity_ = nullptr;
  // ... and usually the same method and protocol.
  std::string_view last_method_, last_protocol_;
  uint64_t* last_method_count_ = nullptr;
  uint64_t* last_protocol_count_ = nullptr;
};

/// `runs` sorted by key with equal keys summed.
std::vector<batch_aggregate::client_minute_run>
combined_client_minutes(std::vector<batch_aggregate::client_minute_run> runs);

/// Inserts `t` into a sorted list of spans, merging spans closer than `gap`.
void add_activity(span_list& spans, activity_span s, uint32_t gap);

/// Adds `day` to `days` unless present.
inline void add_day(absl::InlinedVector<int32_t, 2>& days, int32_t day) {
  for (int32_t d : days)
    if (d == day) return;
  days.push_back(day);
}

} // namespace vigil
