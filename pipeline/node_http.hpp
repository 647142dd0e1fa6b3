#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "settings/config.hpp"

namespace vigil {

class http_endpoint;
class metrics_registry;
class node_status;
struct node_counters;

/// What a single node (`vigil run` without a cluster) serves on `node.http`
/// ("" for none): `/metrics` (per source: events, bytes, malformed and
/// duplicate lines; per window open groups, watermark, late events and
/// groups over max_groups; alerts sent per rule, severity and status;
/// checkpoints written and failed, the last one's time and size; sinks
/// failing; webhook and Alertmanager sinks' deliveries, retries, drops
/// and queue; the process's CPU, memory and descriptors),
/// `/healthz`, `/readyz` (503 with the reason while the node is starting, a
/// source has nothing to follow, a checkpoint just failed, or a sink is
/// failing to write), the dashboard
/// `/`, `/api/v1/status`, `/api/v1/alerts` and `/api/v1/events` (the
/// status as Server-Sent Events, one a second).
class node_http {
public:
  /// Throws `std::runtime_error` naming the address when it cannot listen.
  node_http(const vigil_config& cfg, std::shared_ptr<const node_counters> counters);
  ~node_http();

  /// The sources run: from now on ready unless something fails.
  void started() noexcept { *started_ = true; }

  /// The port it serves on; 0 without one.
  int port() const noexcept;

private:
  std::shared_ptr<metrics_registry> registry_;
  std::shared_ptr<std::atomic<bool>> started_ = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<node_status> status_;
  std::unique_ptr<http_endpoint> http_;
};

} // namespace vigil
