#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "parse/parse_error.hpp"
#include "report/batch_aggregate.hpp"
#include "signature/signature_set.hpp"

namespace vigil {

/// Settings of the final report.
struct report_options {
  /// Entries in each top list. Default: 10.
  size_t top = 10;
  /// 404s from one client in one minute that make a 404 burst. Default: 20.
  uint32_t not_found_burst = 20;
  /// 401/403 on login endpoints from one client in one minute that make a
  /// brute-force attempt. Default: 10.
  uint32_t auth_failure_burst = 10;
  /// Requests from one client in one minute that make a flood. Default: 600.
  uint32_t flood_requests = 600;
  /// Attack hits (every class a request carries: probe, traversal, sqli,
  /// xss, cmdi, ...; probes the server answered below 400 excepted) that put
  /// a client on the blacklist. Default: 5.
  uint32_t attack_hits_to_blacklist = 5;
  /// How long a blacklist entry lasts after the client's last request.
  /// Default: 24 h.
  int64_t blacklist_ttl_s = 86400;
};

struct ranked_item {
  std::string value;
  uint64_t hits = 0;
  uint64_t bytes = 0;
};

struct hour_point {
  int64_t hour_s = 0;  ///< UTC hour start, Unix seconds
  hour_stats stats;
};

/// Exact percentiles by the nearest-rank method, in microseconds.
struct latency_summary {
  uint64_t count = 0;
  uint64_t p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0, mean = 0;
};

struct slow_path {
  std::string path;
  uint64_t hits = 0;     ///< requests with a request time
  uint64_t mean_us = 0;
  uint64_t max_us = 0;
};

/// Requests that matched one attack class.
struct attack_finding {
  signature_class cls;
  uint64_t hits = 0;
  uint64_t clients = 0;
  std::vector<ranked_item> top_clients;  ///< bytes unused (0)
  std::vector<ranked_item> top_paths;    ///< bytes unused (0)
};

/// A client that crossed a per-minute threshold.
struct burst_finding {
  std::string kind;     ///< "404_burst", "brute_force" or "flood"
  std::string client;
  uint64_t peak = 0;    ///< the most in one minute
  uint64_t minutes = 0; ///< minutes over the threshold
  int64_t first_minute_s = 0;
};

struct blacklist_entry {
  std::string client;
  std::vector<std::string> reasons;
  uint64_t hits = 0;
  int64_t first_ms = 0;
  int64_t last_ms = 0;
  int64_t expires_ms = 0;
};

/// Everything `vigil analyze` reports; every writer renders this.
struct analysis_report {
  // -- summary --
  uint64_t total_requests = 0;   ///< non-empty lines
  uint64_t valid_requests = 0;
  uint64_t failed_requests = 0;
  uint64_t unique_visitors = 0;  ///< distinct (client, user agent, local day)
  uint64_t bandwidth = 0;
  std::optional<int64_t> first_ms, last_ms;
  uint64_t page_views = 0;
  uint64_t static_requests = 0;
  uint64_t bot_requests = 0;
  uint64_t sessions = 0;
  double sessions_per_visitor = 0;
  uint64_t unique_paths = 0;
  uint64_t unique_hosts = 0;
  uint64_t unique_referrers = 0;
  uint64_t unique_user_agents = 0;
  uint64_t unique_not_found = 0;   ///< distinct 404 request lines (GoAccess's count)
  uint64_t unique_404_paths = 0;   ///< distinct 404 paths, query stripped
  double error_rate = 0;           ///< 5xx / valid requests
  double client_error_rate = 0;    ///< 4xx / valid requests

  std::vector<std::pair<uint16_t, uint64_t>> status_codes;  ///< ascending code
  std::array<uint64_t, 5> status_classes = {};               ///< 1xx..5xx

  std::vector<ranked_item> top_paths, top_404, top_5xx, top_hosts, top_referrers, top_user_agents;
  std::vector<ranked_item> methods, protocols;  ///< bytes unused (0)
  std::vector<hour_point> series;

  std::optional<latency_summary> latency;
  std::vector<slow_path> slow_paths;

  std::vector<attack_finding> findings;
  std::vector<burst_finding> bursts;
  std::vector<blacklist_entry> blacklist;

  // -- data quality --
  uint64_t lines = 0;
  uint64_t empty_lines = 0;
  parse_error_counts malformed = {};
  uint64_t duplicates = 0;
  uint64_t missing_bytes = 0, missing_referer = 0, missing_user_agent = 0, missing_request = 0;
  uint64_t truncated_user_agent = 0;
};

/// Computes the report from a merged aggregate (sealing it first).
/// Deterministic: ties in every ranking break on the value, so equal inputs
/// give equal reports.
analysis_report build_report(batch_aggregate& agg, const report_options& opts);

/// Nearest-rank percentile `p` (0 < p <= 100) of `sorted`.
uint64_t nearest_rank(const std::vector<uint32_t>& sorted, double p);

} // namespace vigil
