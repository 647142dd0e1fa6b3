#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/line_sink.hpp"
#include "db/db_writer.hpp"
#include "messages/interfaces.hpp"

namespace vigil {

struct db_sink_config {
  std::string name;  ///< the [[sink]]'s name, for logs
  /// Makes the sink's connection (sqlite or postgres); called once, on the
  /// sink's thread.
  std::function<std::unique_ptr<db_writer>()> make_writer;
  /// Window results arrive as JSON lines and are turned into rows of
  /// `spec`; records arrive as rows already (COPY text, from the parse stages).
  bool window_results = false;
  table_spec spec;
  checkpoint_coordinator_actor coordinator;
  /// Where the replay starts in the sink's stream: the checkpoint's row
  /// count (or with no checkpoint, the baseline: the database's when the
  /// state store was first used). Rows before the database's own count are
  /// there already and are skipped.
  int64_t resume = 0;
  size_t batch_rows = 10000;
  std::chrono::milliseconds flush_interval{1000};
  /// A copy of each refused row, as a quarantine record (null: none).
  line_sink_actor quarantine;
  std::shared_ptr<db_sink_stats> stats;  ///< null: the sink's own
  std::shared_ptr<stage_tally> stage;    ///< null: not counted
};

/// Spawns a sink that writes rows into a database table, exactly once:
/// each transaction holds a batch of rows and the sink's progress (rows
/// of its stream written) in `vigil_sink_progress`, and a checkpoint
/// records the count at its barrier, so a replay after a crash skips what
/// the database holds. A batch goes when it has `batch_rows`, after
/// `flush_interval`, or at a barrier (which waits for it). A database that
/// is down or refuses the connection is retried with backoff; meanwhile
/// the write's reply, and the credit of the stages before, waits, so
/// nothing is dropped. Runs on a thread of its own.
line_sink_actor spawn_db_sink(caf::actor_system& sys, db_sink_config cfg);

} // namespace vigil
