#pragma once

#include <cstdint>
#include <memory>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
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

} // namespace vigil
