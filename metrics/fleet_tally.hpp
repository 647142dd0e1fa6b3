#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vigil {

/// What a cluster node knows of each peer, for the fleet view of its
/// dashboard: up or down (heartbeats), and on an aggregator the event
/// batches and bytes each agent sent and when the last one came.
struct member_tally {
  member_tally(std::string member_name, bool is_agent) : name(std::move(member_name)), agent(is_agent) {}
  std::string name;
  bool agent;  ///< an agent of this aggregator (its batches and lag are counted)
  std::atomic<bool> up{false};
  std::atomic<uint64_t> batches{0}, bytes{0};
  std::atomic<uint64_t> events{0};        ///< what its batches stand for (also when pre-aggregated)
  std::atomic<int64_t> last_batch_ms{0};  ///< wall clock; 0: none yet
  /// An agent's read lag, from its heartbeats: bytes not read yet over its
  /// sources, and the oldest of their newest event times (INT64_MIN: none
  /// parsed yet, or not an agent).
  std::atomic<uint64_t> lag_bytes{0};
  std::atomic<int64_t> newest_event_ms{INT64_MIN};
  std::atomic<bool> reports_lag{false};   ///< a heartbeat with its sources came
};

/// The peers of a node, fixed when it starts (the cluster config names them).
class fleet_tally {
public:
  /// `agents`: those of `peers` that send this node their batches.
  explicit fleet_tally(const std::vector<std::string>& peers, const std::vector<std::string>& agents = {}) {
    for (const auto& p : peers) {
      const bool agent = std::find(agents.begin(), agents.end(), p) != agents.end();
      members_.push_back(std::make_shared<member_tally>(p, agent));
      by_name_[p] = members_.back();
    }
  }
  /// Null for a name that is not a peer.
  member_tally* of(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second.get();
  }
  const std::vector<std::shared_ptr<member_tally>>& all() const noexcept { return members_; }

private:
  std::vector<std::shared_ptr<member_tally>> members_;
  std::map<std::string, std::shared_ptr<member_tally>> by_name_;
};

} // namespace vigil
