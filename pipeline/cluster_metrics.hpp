#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "settings/config.hpp"

namespace vigil {

class fleet_tally;
class http_endpoint;
class metrics_registry;
class node_link;
class node_status;
struct node_counters;

/// What a cluster node shows on its HTTP port (`node.http`; "" for none):
/// `vigil_peer_up{peer}`, sessions and rollbacks, and the frames its link
/// took or dropped (by reason), and the sinks failing now, on `/metrics`;
/// `/readyz` is 200 while the node is in a session and no sink is failing.
/// With the node's counters, also the dashboard `/`, `/api/v1/status`,
/// `/api/v1/alerts` and `/api/v1/events`, with the fleet: each peer up or
/// down, and on an aggregator each agent's batches, bytes and their rates.
class cluster_metrics {
public:
  /// Throws `std::runtime_error` when the HTTP port cannot be opened.
  /// `agents`: on an aggregator, those of `peers` that send it batches.
  cluster_metrics(const vigil_config& cfg, const std::string& role, std::shared_ptr<node_link> link,
                  const std::vector<std::string>& peers, std::shared_ptr<const node_counters> counters = nullptr,
                  const std::vector<std::string>& agents = {});
  ~cluster_metrics();

  void peer(const std::string& name, bool up);
  void session_started();
  void rolled_back();
  void ready(bool in_session) noexcept { *ready_ = in_session; }

  /// The port it serves on; 0 without one.
  int port() const noexcept;

  /// Where the fleet ingress counts each agent's batches.
  const std::shared_ptr<fleet_tally>& fleet() const noexcept { return fleet_; }

private:
  std::shared_ptr<metrics_registry> registry_;
  /// Shared with the HTTP thread's /readyz.
  std::shared_ptr<std::atomic<bool>> ready_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<fleet_tally> fleet_;
  std::unique_ptr<node_status> status_;  ///< with counters: what the dashboard shows
  std::unique_ptr<http_endpoint> http_;
};

} // namespace vigil
