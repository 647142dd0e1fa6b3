#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "metrics/histogram.hpp"

namespace vigil {

class state_store;

/// What the checkpoints of a node did, for `/metrics` and `/readyz`;
/// written from the checkpoint writer's thread.
struct checkpoint_tally {
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<int> failing_in_a_row{0};
  std::atomic<int64_t> last_written_ms{0};  ///< wall clock; 0: none yet
  std::atomic<uint64_t> last_bytes{0};
  std::atomic<int64_t> last_duration_ms{0};  ///< the last one written's, barriers to stored
  /// Seconds from a checkpoint's start to its state stored.
  fixed_histogram<10> duration{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}};
  /// Bytes of state per checkpoint written.
  fixed_histogram<8> size{{1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}};
};

struct checkpoint_coordinator_config {
  std::shared_ptr<state_store> store;
  /// Between the start of one checkpoint and the next; 0: only the final
  /// checkpoint of a graceful stop.
  std::chrono::milliseconds interval{1000};
  /// Every part a checkpoint needs ("source:NAME", "windows", "detect",
  /// "alerts", "sink:NAME"); complete when all are in.
  std::vector<std::string> participants;
  uint64_t next_id = 1;       ///< after the newest checkpoint in the store
  size_t keep = 3;            ///< complete checkpoints kept
  /// A checkpoint not complete by then is abandoned (a stage failed, a
  /// barrier was lost), also after a stop, which then gets its answer.
  std::chrono::milliseconds abandon_after{60000};
  /// An aggregator that follows the fleet's leader: a checkpoint begins
  /// when the first part of it arrives (the leader's barrier reached this
  /// node through the agents' streams), never on a timer, and `stored`
  /// runs once it is written, to tell the leader.
  bool follows = false;
  std::function<void(uint64_t id)> stored;
  /// The store could not write `failures_to_give_up` checkpoints in a row
  /// (a full disk, an I/O error): called once, from the writer's thread,
  /// with what failed. The node then stops; results written since the last
  /// complete checkpoint are cut back and replayed at the next start.
  std::function<void(const std::string& error)> store_failed;
  int failures_to_give_up = 3;
  /// Set while checkpoints fail for want of space (null: such failures
  /// count toward `failures_to_give_up` like any other): the sources then
  /// read nothing, the checkpoint is tried again every interval, and the
  /// first one written clears it. Nothing read is lost or counted twice.
  std::shared_ptr<std::atomic<bool>> intake_paused;
  std::shared_ptr<checkpoint_tally> tally;  ///< null: not counted
};

/// Spawns the actor that starts checkpoints (a barrier into every source),
/// collects each participant's part as the barrier reaches it, and writes
/// them in one atomic batch once all are in. A checkpoint starts only when
/// the previous one is complete; one that does not complete within
/// `abandon_after` is abandoned with a warning, and the next one starts.
checkpoint_coordinator_actor spawn_checkpoint_coordinator(caf::actor_system& sys,
                                                          const checkpoint_coordinator_config& cfg);

} // namespace vigil
