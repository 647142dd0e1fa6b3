#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil {

class fleet_tally;
struct http_page;
struct node_counters;

/// What a node's dashboard and `/api/v1/status` show, sampled once a second
/// on a thread of its own: events and quarantined lines per second over the
/// last 15 minutes, totals per source, each stage's rate and how busy it
/// is, the sinks, the windows, checkpoints, readiness, and the alerts
/// firing now.
class node_status {
public:
  /// `fleet`: a cluster node's peers (null: a single node).
  node_status(std::string node, std::string role, std::shared_ptr<const node_counters> counters,
              std::function<std::string()> unready, std::shared_ptr<const fleet_tally> fleet = nullptr);
  ~node_status();

  /// `/api/v1/status`: {"node","role","uptime_s","ready","not_ready_reason","events_per_s",
  /// "quarantined_per_s","sources":[...],"stages":[...],"sinks":[...],"windows":[...],
  /// "checkpoints":{...},"alerts":[...],"series":[...]}.
  std::string status_json() const;
  /// `/api/v1/alerts`: the firing alerts, PRODUCT.md's alert schema.
  std::string alerts_json() const;

private:
  struct sample {
    int64_t time_ms;
    double events_per_s;
    double quarantined_per_s;
  };
  /// A stage's or a database sink's rates over the last second.
  struct rates {
    double in_per_s = 0, out_per_s = 0, busy = 0;  ///< busy: handler seconds per second
    uint64_t in = 0, out = 0, busy_ns = 0;         ///< the totals they came from
  };
  void run();
  void sample_rates(double seconds);

  const std::string node_, role_;
  std::shared_ptr<const node_counters> counters_;
  std::function<std::string()> unready_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  mutable std::mutex lock_;
  std::deque<sample> series_;  // the last 900 seconds
  std::map<std::string, rates> stage_rates_, sink_rates_;
  std::map<std::string, rates> member_rates_, member_event_rates_;  // batches in, bytes out; events in
  std::shared_ptr<const fleet_tally> fleet_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

/// The pages a node serves from its status: the dashboard `/`,
/// `/api/v1/status`, `/api/v1/alerts` and `/api/v1/events` (Server-Sent
/// Events). They read `status`, which must outlive the endpoint.
std::vector<http_page> status_pages(const node_status& status);

} // namespace vigil
