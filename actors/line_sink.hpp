#pragma once

#include <cstddef>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace vigil {

struct line_sink_config {
  std::string name;  ///< the [[sink]]'s name, for errors
  std::string path;  ///< a file to append to; "" writes to stdout
  /// Checkpoints (files only): where the sink's part, the file's length at
  /// the barrier, goes (null: none), and the length to cut the file back
  /// to before writing (from the checkpoint being resumed; -1: none), so
  /// what the replay writes again is not there twice.
  checkpoint_coordinator_actor coordinator;
  int64_t truncate_to = -1;
  /// Written first into an empty file (a CSV header); "" for none.
  std::string header;
};

/// Spawns a sink that appends lines to a file (created with its directory)
/// or stdout. A failing write to a file is logged and retried until it succeeds
/// (the pipeline waits); nothing is dropped. Start-up checks that the
/// file opens (pipeline/sink_preflight).
line_sink_actor spawn_line_sink(caf::actor_system& sys, const line_sink_config& cfg);

/// Makes every sink stop retrying a failing write, and drop what it holds:
/// for a node that stops without a checkpoint (its state store failed),
/// whose next start cuts the sinks back and writes those lines again.
/// (false: retry again; for tests.)
void give_up_failing_writes(bool give_up = true);

/// Sinks of this process whose writes are failing now (and retried): for
/// `/readyz` and `/metrics`.
size_t failing_sinks() noexcept;

} // namespace vigil
