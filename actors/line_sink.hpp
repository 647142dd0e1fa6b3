#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "metrics/stage_tally.hpp"

namespace vigil {

/// Where a file sink stood at a checkpoint: the segments it had closed
/// (rotated away) and the length of the file it was writing.
struct sink_position {
  int64_t length = -1;    ///< -1: nothing to resume
  uint64_t segments = 0;
};

/// "LENGTH" or "LENGTH SEGMENTS" (a checkpoint part, a store setting).
std::string encode_sink_position(const sink_position& p);
/// Throws std::invalid_argument on text that is not one.
sink_position decode_sink_position(const std::string& text);

/// Segment `k` (1, 2, ...) of a rotated file: "var/records.jsonl" ->
/// "var/records.000001.jsonl" (the number before the extension).
std::string segment_path(const std::string& path, uint64_t k);

/// The highest segment of `path` on disk (0: none).
uint64_t last_segment_on_disk(const std::string& path);

struct line_sink_config {
  std::string name;  ///< the [[sink]]'s name, for errors
  std::string path;  ///< a file to append to; "" writes to stdout
  /// Checkpoints (files only): where the sink's part, its position at the
  /// barrier, goes (null: none), and the position to go back to before
  /// writing (from the checkpoint being resumed; length -1: none): the file
  /// is cut back to it, and segments rotated after it are put back, so what
  /// the replay writes again is not there twice.
  checkpoint_coordinator_actor coordinator;
  sink_position resume;
  /// Written first into an empty file (a CSV header); "" for none.
  std::string header;
  /// Rotation (0: none): the file is closed and renamed to its next segment
  /// before it would pass `rotate_bytes`, or when the clock passes a
  /// multiple of `rotate_every` (UTC: "1h" rotates on the hour).
  uint64_t rotate_bytes = 0;
  std::chrono::milliseconds rotate_every{0};
  /// Lines that would take the file past this are counted, said once and
  /// not written (0: no bound). With rotation it bounds each segment.
  uint64_t max_bytes = 0;
  std::shared_ptr<stage_tally> stage;  ///< null: not counted
  /// The actors that send it each checkpoint's barrier (the quarantine:
  /// the window stage and every database sink, which copies refused rows
  /// into it). Its position is taken when all have; what a sender sends
  /// after its own barrier is held until then, so the checkpoint counts
  /// exactly the lines before every input's barrier.
  size_t barrier_inputs = 1;
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

/// Whether `give_up_failing_writes` was called: for sinks other than
/// files that wait on their peer the same way.
bool giving_up_writes() noexcept;

/// Such a sink's writes started (true) or stopped (false) failing: counted
/// in `failing_sinks`.
void sink_write_failing(bool failing) noexcept;

} // namespace vigil
