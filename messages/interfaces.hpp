#pragma once

#include <cstdint>
#include <memory>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/event.hpp"
#include "messages/text_chunk.hpp"

namespace vigil {

class batch_aggregate;

/// A worker's exact partial result. Local only: never serialized.
using aggregate_ptr = std::shared_ptr<batch_aggregate>;

/// Parses chunks of log lines and aggregates them into a partial result.
using analyze_worker_actor = caf::typed_actor<
  /// Sender: the input reader. Reply: the number of lines in the chunk;
  /// the reply is the reader's credit to send this worker another chunk.
  caf::replies_to<parse_atom, text_chunk>::with<uint64_t>,
  /// Sender: the input reader, after the last chunk was acknowledged.
  /// Reply: the worker's partial result; the worker resets afterwards.
  caf::replies_to<collect_atom>::with<aggregate_ptr>>;

/// Merges partial results into one.
using report_merger_actor = caf::typed_actor<
  /// Sender: the input reader. Reply: the number of partials merged so far.
  caf::replies_to<merge_atom, aggregate_ptr>::with<uint64_t>,
  /// Reply: the merged result (empty aggregate when nothing was merged).
  caf::replies_to<result_atom>::with<aggregate_ptr>>;

/// Reads the inputs, feeds the workers under credit, and hands partials to
/// the merger.
using input_reader_actor = caf::typed_actor<
  /// Sender: the job driver. Reply: the merged result once every input was
  /// read and every chunk parsed; `errc::input_failed` if an input fails.
  caf::replies_to<run_atom>::with<aggregate_ptr>>;

// -- vigil run: the live pipeline --

/// Writes lines to one output (a JSONL file, or the console).
using line_sink_actor = caf::typed_actor<
  /// Sender: the window stage. Appends the lines; no reply.
  caf::reacts_to<write_atom, std::vector<std::string>>,
  /// Reply once everything written so far is on disk (fsync'd for files).
  caf::replies_to<flush_atom>::with<bool>>;

/// Holds every [[window]] of the node and its [[rule]]s.
using window_stage_actor = caf::typed_actor<
  /// Sender: a parse stage. Reply (the sender's credit): events taken.
  caf::replies_to<ingest_atom, event_batch>::with<uint64_t>,
  /// Close every window if the flag is set, then flush the sinks. Reply
  /// when the sinks have flushed.
  caf::replies_to<flush_atom, bool>::with<bool>>;

/// Parses and enriches the chunks of one source.
using parse_stage_actor = caf::typed_actor<
  /// Sender: a source. Reply once the window stage took the batch: the
  /// source's credit, so a slow window stage slows the source.
  caf::replies_to<parse_atom, text_chunk>::with<uint64_t>>;

/// Tails the files of one [[source]].
using file_source_actor = caf::typed_actor<
  caf::reacts_to<tick_atom>,
  /// Reply (bytes read in all) once the files are read to their end and
  /// everything read went through the pipeline: `vigil run --once`.
  caf::replies_to<run_atom>::with<uint64_t>,
  /// Stop reading; reply once everything read went through.
  caf::replies_to<stop_atom>::with<uint64_t>>;

} // namespace vigil
