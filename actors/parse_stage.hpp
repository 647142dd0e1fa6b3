#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "metrics/stage_tally.hpp"
#include "clean/duplicate_filter.hpp"
#include "parse/line_parser.hpp"
#include "record/record_pipeline.hpp"

namespace vigil {

/// What the parse stages of one source took and dropped, added up over
/// all of them (a source has several): read by `/metrics`, and the drops
/// logged once per source when the last stage lets go of it.
struct source_tally {
  explicit source_tally(std::string source_name) : source(std::move(source_name)) {}
  ~source_tally();
  std::string source;
  std::atomic<uint64_t> events{0};      ///< lines parsed into events (duplicates not counted)
  std::atomic<uint64_t> bytes{0};       ///< bytes of text parsed
  std::atomic<uint64_t> malformed{0};
  std::array<std::atomic<uint64_t>, parse_error_count> malformed_by_reason{};  ///< by `parse_error`
  std::atomic<uint64_t> duplicates{0};
  /// Set by the first event stamped beyond max_future (logged once).
  std::atomic<bool> future_seen{false};
  /// A source with a schema: what its ETL steps took, dropped and quarantined.
  record_tally records;
  bool has_schema = false, is_http = false, is_zmq = false;  ///< set once, before anything runs
  /// http sources: requests answered 200, refused (400, 401, 413), pushed back (429, 503).
  std::atomic<uint64_t> http_accepted{0}, http_rejected{0}, http_throttled{0};
  /// zmq sources: messages by `frame_result` (taken, bad, too_large), and
  /// Curve handshakes refused.
  std::array<std::atomic<uint64_t>, 3> zmq_messages{};
  std::atomic<uint64_t> zmq_refused_peers{0};
  /// The newest event time parsed (UTC ms; INT64_MIN before any).
  std::atomic<int64_t> newest_event_ms{INT64_MIN};
  void saw_event_time(int64_t ms) noexcept {
    int64_t now = newest_event_ms.load(std::memory_order_relaxed);
    while (ms > now && !newest_event_ms.compare_exchange_weak(now, ms, std::memory_order_relaxed)) {}
  }
  /// File sources: bytes in the followed files not read yet (set every poll).
  std::atomic<uint64_t> lag_bytes{0};
  /// File sources: why nothing can be followed ("" while a file is), for
  /// `/readyz` and the dashboard.
  void set_access_problem(std::string problem) {
    std::lock_guard<std::mutex> guard(problem_lock_);
    access_problem_ = std::move(problem);
  }
  std::string access_problem() const {
    std::lock_guard<std::mutex> guard(problem_lock_);
    return access_problem_;
  }

private:
  mutable std::mutex problem_lock_;
  std::string access_problem_;
};

/// The tallies of a node's sources, by name, for `/metrics`.
class source_tallies {
public:
  /// The tally of `source`, made on first use.
  std::shared_ptr<source_tally> of(const std::string& source) {
    std::lock_guard<std::mutex> guard(lock_);
    auto& t = tallies_[source];
    if (!t) t = std::make_shared<source_tally>(source);
    return t;
  }
  std::vector<std::shared_ptr<source_tally>> all() const {
    std::lock_guard<std::mutex> guard(lock_);
    std::vector<std::shared_ptr<source_tally>> out;
    for (const auto& [name, t] : tallies_) out.push_back(t);
    return out;
  }

private:
  mutable std::mutex lock_;
  std::map<std::string, std::shared_ptr<source_tally>> tallies_;
};

struct parse_stage_config {
  std::string source;        ///< the [[source]] name, for records and logs
  parser_options parser;
  int64_t dedup_horizon_ms = 0;  ///< 0: keep duplicate lines
  enrich_stage_actor next;
  /// Whether the node has a quarantine sink: malformed lines then ride in
  /// their batch as records (`event_batch::quarantined`); else they are
  /// only counted.
  bool quarantine = false;
  /// Checkpoints, with a dedup horizon: where the filter's state goes when
  /// a barrier passes (participant "dedup:SOURCE"), and the filter to start
  /// from (null: an empty one).
  checkpoint_coordinator_actor coordinator;
  std::shared_ptr<duplicate_filter> restored_filter;
  /// Shared by the source's parse stages (null: one of this stage's own).
  std::shared_ptr<source_tally> tally;
  /// The ETL job: a source with a schema parses its lines into records
  /// with this plan (null: web-log events), joining the node's lookups.
  std::shared_ptr<const record_plan> records;
  std::shared_ptr<lookup_tables> lookups;
  /// Shared by the source's parse stages (null: not counted).
  std::shared_ptr<stage_tally> stage;
  /// Events stamped later than the wall clock plus this are quarantined as
  /// `future_timestamp` (0: no bound).
  int64_t max_future_ms = 0;
};

/// Spawns the stage that parses a source's chunks, cleans the events
/// (method and protocol upper-cased, duplicates within the horizon
/// dropped), turns malformed lines into quarantine records with their
/// reason, and hands the batch on (see `parse_stage_actor`).
parse_stage_actor spawn_parse_stage(caf::actor_system& sys, const parse_stage_config& cfg);

} // namespace vigil
