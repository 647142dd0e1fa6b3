#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace vigil {

/// Which peers of a node are up: a peer is up while frames (heartbeats or
/// data) come from it, and down once none came for `down_after`. Time is
/// passed in, so the logic is tested without waiting.
class peer_table {
public:
  using clock = std::chrono::steady_clock;

  /// `peers`: the node names expected (from the cluster config); all start
  /// down until heard from.
  peer_table(std::vector<std::string> peers, std::chrono::milliseconds down_after);

  /// A frame from `peer` arrived at `now`. False for a name not in the
  /// config (the caller counts and drops it).
  bool heard(const std::string& peer, clock::time_point now);

  struct change {
    std::string peer;
    bool up = false;
    std::chrono::milliseconds silent{0};  ///< for a peer going down: since its last frame
  };
  /// The peers whose state changed since the last call, as of `now`: up
  /// when heard from while down, down when silent for `down_after`.
  std::vector<change> check(clock::time_point now);

  bool up(const std::string& peer) const;
  size_t up_count() const;

private:
  struct peer {
    bool up = false;
    bool reported_up = false;     // as last returned by check()
    clock::time_point last;
  };
  std::map<std::string, peer> peers_;
  std::chrono::milliseconds down_after_;
};

} // namespace vigil
