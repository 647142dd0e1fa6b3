#pragma once

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
  explicit member_tally(std::string member_name) : name(std::move(member_name)) {}
  std::string name;
  std::atomic<bool> up{false};
  std::atomic<uint64_t> batches{0}, bytes{0};
  std::atomic<int64_t> last_batch_ms{0};  ///< wall clock; 0: none yet
};

/// The peers of a node, fixed when it starts (the cluster config names them).
class fleet_tally {
public:
  explicit fleet_tally(const std::vector<std::string>& peers) {
    for (const auto& p : peers) {
      members_.push_back(std::make_shared<member_tally>(p));
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
