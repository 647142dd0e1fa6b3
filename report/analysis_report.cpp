#include "report/analysis_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace vigil {

namespace {

bool ranks_before(const ranked_item& a, const ranked_item& b) {
  if (a.hits != b.hits) return a.hits > b.hits;
  if (a.bytes != b.bytes) return a.bytes > b.bytes;
  return a.value < b.value;
}

/// The `n` best of `items` in ranking order.
std::vector<ranked_item> top_n(std::vector<ranked_item> items, size_t n) {
  if (items.size() > n) {
    std::partial_sort(items.begin(), items.begin() + static_cast<ptrdiff_t>(n), items.end(),
                      ranks_before);
    items.resize(n);
  } else {
    std::sort(items.begin(), items.end(), ranks_before);
  }
  return items;
}

template <class Map, class Hits, class Bytes>
std::vector<ranked_item> rank(const Map& m, size_t n, Hits hits, Bytes bytes) {
  // Rank views of the keys; copy only the winners.
  struct view {
    const std::string* value;
    uint64_t hits, bytes;
  };
  std::vector<view> views;
  views.reserve(m.size());
  for (const auto& [k, v] : m)
    if (hits(v) > 0) views.push_back({&k, hits(v), bytes(v)});
  auto before = [](const view& a, const view& b) {
    if (a.hits != b.hits) return a.hits > b.hits;
    if (a.bytes != b.bytes) return a.bytes > b.bytes;
    return *a.value < *b.value;
  };
  const size_t k = std::min(n, views.size());
  std::partial_sort(views.begin(), views.begin() + static_cast<ptrdiff_t>(k), views.end(), before);
  std::vector<ranked_item> items;
  items.reserve(k);
  for (size_t i = 0; i < k; ++i) items.push_back({*views[i].value, views[i].hits, views[i].bytes});
  return items;
}

/// Names of ids, for tables keyed by id.
template <class Map>
std::vector<const std::string*> names_by_id(const Map& m) {
  std::vector<const std::string*> names(m.size());
  for (const auto& [k, v] : m) names[v.id] = &k;
  return names;
}

} // namespace

uint64_t nearest_rank(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

analysis_report build_report(batch_aggregate& agg, const report_options& opts) {
  agg.seal();
  analysis_report r;
  uint64_t failed = 0;
  for (size_t i = 1; i < agg.failed_by_reason.size(); ++i) failed += agg.failed_by_reason[i];
  r.total_requests = agg.valid + failed;
  r.valid_requests = agg.valid;
  r.failed_requests = failed;
  for (const auto& [k, v] : agg.visitors) {
    r.unique_visitors += v.days.size();
    r.sessions += v.spans.size();
  }
  r.bandwidth = agg.bytes;
  if (agg.valid > 0) {
    r.first_ms = agg.first_ms;
    r.last_ms = agg.last_ms;
  }
  r.page_views = agg.page_views;
  r.static_requests = agg.static_hits;
  r.bot_requests = agg.bot_hits;
  if (!agg.visitors.empty())
    r.sessions_per_visitor =
      std::round(static_cast<double>(r.sessions) / static_cast<double>(agg.visitors.size()) * 1000)
      / 1000;
  r.unique_paths = agg.paths.size();
  r.unique_hosts = agg.clients.size();
  r.unique_referrers = agg.referrers.size();
  r.unique_user_agents = agg.agents.size();
  r.unique_not_found = agg.not_found_requests.size();
  for (const auto& [k, p] : agg.paths) r.unique_404_paths += p.hits_404 > 0;

  for (size_t code = 0; code < agg.status.size(); ++code) {
    if (agg.status[code] == 0) continue;
    r.status_codes.emplace_back(static_cast<uint16_t>(code), agg.status[code]);
    if (code >= 100) r.status_classes[code / 100 - 1] += agg.status[code];
  }
  if (agg.valid > 0) {
    r.error_rate = static_cast<double>(r.status_classes[4]) / static_cast<double>(agg.valid);
    r.client_error_rate = static_cast<double>(r.status_classes[3]) / static_cast<double>(agg.valid);
  }

  const size_t n = opts.top;
  r.top_paths = rank(agg.paths, n, [](auto& p) { return p.hits; }, [](auto& p) { return p.bytes; });
  r.top_404 = rank(agg.paths, n, [](auto& p) { return p.hits_404; }, [](auto& p) { return p.bytes_404; });
  r.top_5xx = rank(agg.paths, n, [](auto& p) { return p.hits_5xx; }, [](auto& p) { return p.bytes_5xx; });
  r.top_hosts = rank(agg.clients, n, [](auto& c) { return c.hits; }, [](auto& c) { return c.bytes; });
  r.top_referrers = rank(agg.referrers, n, [](auto& c) { return c.hits; }, [](auto& c) { return c.bytes; });
  r.top_user_agents = rank(agg.agents, n, [](auto& a) { return a.hits; }, [](auto&) { return uint64_t{0}; });
  r.methods = rank(agg.methods, agg.methods.size(), [](auto h) { return h; }, [](auto) { return uint64_t{0}; });
  r.protocols = rank(agg.protocols, agg.protocols.size(), [](auto h) { return h; }, [](auto) { return uint64_t{0}; });

  for (const auto& [hour, stats] : agg.hours) r.series.push_back({hour, stats});
  std::sort(r.series.begin(), r.series.end(),
            [](const hour_point& a, const hour_point& b) { return a.hour_s < b.hour_s; });

  if (!agg.request_times_us.empty()) {
    std::vector<uint32_t> times = agg.request_times_us;
    std::sort(times.begin(), times.end());
    latency_summary l;
    l.count = times.size();
    l.p50 = nearest_rank(times, 50);
    l.p90 = nearest_rank(times, 90);
    l.p95 = nearest_rank(times, 95);
    l.p99 = nearest_rank(times, 99);
    l.max = agg.request_time_max_us;
    uint64_t sum = 0;
    for (const auto& [k, p] : agg.paths) sum += p.time_sum_us;
    l.mean = sum / l.count;
    r.latency = l;
    for (const auto& [k, p] : agg.paths)
      if (p.timed > 0) r.slow_paths.push_back({k, p.timed, p.time_sum_us / p.timed, p.time_max_us});
    std::sort(r.slow_paths.begin(), r.slow_paths.end(), [](const slow_path& a, const slow_path& b) {
      if (a.mean_us != b.mean_us) return a.mean_us > b.mean_us;
      return a.path < b.path;
    });
    if (r.slow_paths.size() > n) r.slow_paths.resize(n);
  }

  // -- security --
  const auto client_names = names_by_id(agg.clients);
  const auto path_names = names_by_id(agg.paths);
  std::map<uint32_t, std::vector<ranked_item>> by_client, by_path;
  std::vector<uint64_t> attack_hits_of(agg.clients.size(), 0);  // what requests carried
  std::vector<uint64_t> scanner_hits_of(agg.clients.size(), 0), badbot_hits_of(agg.clients.size(), 0);
  std::map<uint32_t, uint64_t> hits_of_class;
  for (const auto& [k, hits] : agg.attacks_by_client) {
    auto cls = static_cast<uint32_t>(k >> 32);
    auto client = static_cast<uint32_t>(k);
    by_client[cls].push_back({*client_names[client], hits, 0});
    hits_of_class[cls] += hits;
    if (cls == static_cast<uint32_t>(signature_class::scanner))
      scanner_hits_of[client] += hits;
    else if (cls == static_cast<uint32_t>(signature_class::badbot))
      badbot_hits_of[client] += hits;
    else if (cls != static_cast<uint32_t>(signature_class::auth))  // failed logins count as brute_force bursts
      attack_hits_of[client] += hits;
  }
  for (const auto& [k, hits] : agg.attacks_by_path)
    by_path[static_cast<uint32_t>(k >> 32)].push_back({*path_names[static_cast<uint32_t>(k)], hits, 0});
  for (auto& [cls, clients] : by_client) {
    attack_finding f;
    f.cls = static_cast<signature_class>(cls);
    f.hits = hits_of_class[cls];
    f.clients = clients.size();
    f.top_clients = top_n(std::move(clients), n);
    f.top_paths = top_n(std::move(by_path[cls]), n);
    r.findings.push_back(std::move(f));
  }

  struct burst_acc {
    uint64_t peak = 0, minutes = 0;
    int64_t first = INT64_MAX;
  };
  std::map<std::pair<std::string, uint32_t>, burst_acc> bursts;  // (kind, client)
  auto note = [&](const char* kind, uint32_t client, uint64_t count, int64_t minute) {
    auto& b = bursts[{kind, client}];
    b.peak = std::max(b.peak, count);
    ++b.minutes;
    b.first = std::min(b.first, minute * 60);
  };
  for (const auto& [k, m] : combined_client_minutes(agg.client_minutes)) {
    auto client = static_cast<uint32_t>(k >> 32);
    auto minute = static_cast<int64_t>(static_cast<uint32_t>(k));
    if (m.not_found >= opts.not_found_burst) note("404_burst", client, m.not_found, minute);
    if (m.auth_failures >= opts.auth_failure_burst) note("brute_force", client, m.auth_failures, minute);
    if (m.requests >= opts.flood_requests) note("flood", client, m.requests, minute);
  }
  std::map<uint32_t, std::vector<std::string>> reasons;
  for (const auto& [key, b] : bursts) {
    r.bursts.push_back({key.first, *client_names[key.second], b.peak, b.minutes, b.first});
    reasons[key.second].push_back(key.first);
  }
  std::sort(r.bursts.begin(), r.bursts.end(), [](const burst_finding& a, const burst_finding& b) {
    if (a.peak != b.peak) return a.peak > b.peak;
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.client < b.client;
  });
  std::vector<uint64_t> served_probes_of(agg.clients.size(), 0);
  for (const auto& [name, cs] : agg.clients) served_probes_of[cs.id] = cs.served_probes;
  for (uint32_t c = 0; c < attack_hits_of.size(); ++c) {
    if (attack_hits_of[c] - std::min(attack_hits_of[c], served_probes_of[c]) >= opts.attack_hits_to_blacklist)
      reasons[c].push_back("attacks");
    if (scanner_hits_of[c] > 0) reasons[c].push_back("scanner_ua");
    if (badbot_hits_of[c] > 0) reasons[c].push_back("badbot_ua");
  }
  for (auto& [client, why] : reasons) {
    std::sort(why.begin(), why.end());
    const client_stats& cs = agg.clients.find(*client_names[client])->second;
    r.blacklist.push_back({*client_names[client], std::move(why), cs.hits, cs.first_ms, cs.last_ms,
                           cs.last_ms + opts.blacklist_ttl_s * 1000});
  }
  std::sort(r.blacklist.begin(), r.blacklist.end(),
            [](const blacklist_entry& a, const blacklist_entry& b) { return a.client < b.client; });

  // -- data quality --
  r.lines = agg.lines;
  r.empty_lines = agg.empty_lines;
  r.malformed = agg.failed_by_reason;
  r.duplicates = agg.valid - agg.line_hashes.size();
  r.missing_bytes = agg.missing_bytes;
  r.missing_referer = agg.missing_referer;
  r.missing_user_agent = agg.missing_agent;
  r.missing_request = agg.missing_request;
  r.truncated_user_agent = agg.truncated_agent;
  return r;
}

} // namespace vigil
