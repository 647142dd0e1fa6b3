#pragma once

#include <caf/atom.hpp>

namespace vigil {

// Atoms are limited to 10 characters in CAF 0.17; keep them short and unique.

/// Hands a chunk of lines to a parse worker.
using parse_atom = caf::atom_constant<caf::atom("parse")>;
constexpr parse_atom parse_atom_v{};

/// Asks a worker for its partial result.
using collect_atom = caf::atom_constant<caf::atom("collect")>;
constexpr collect_atom collect_atom_v{};

/// Hands a partial result to the merger.
using merge_atom = caf::atom_constant<caf::atom("merge")>;
constexpr merge_atom merge_atom_v{};

/// Starts a job and asks for its final result.
using run_atom = caf::atom_constant<caf::atom("run")>;
constexpr run_atom run_atom_v{};

/// Asks the merger for the merged result.
using result_atom = caf::atom_constant<caf::atom("result")>;
constexpr result_atom result_atom_v{};

/// Hands a parsed, enriched batch to the window stage.
using ingest_atom = caf::atom_constant<caf::atom("ingest")>;
constexpr ingest_atom ingest_atom_v{};

/// Asks a stage to write out what it holds (sinks: flush files; window
/// stage with `true`: close every window first).
using flush_atom = caf::atom_constant<caf::atom("flush")>;
constexpr flush_atom flush_atom_v{};

/// Hands lines (JSON) to a sink.
using write_atom = caf::atom_constant<caf::atom("write")>;
constexpr write_atom write_atom_v{};

/// A source's periodic look for new data.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
constexpr tick_atom tick_atom_v{};

/// Stops a source: no more reads; replies once everything read is through.
using stop_atom = caf::atom_constant<caf::atom("stop")>;
constexpr stop_atom stop_atom_v{};

/// Checkpoints: a barrier passing a stage, or a stage's state for one.
using checkpoint_atom = caf::atom_constant<caf::atom("checkpoint")>;
constexpr checkpoint_atom checkpoint_atom_v{};

/// The window stage to itself: close the next slice of the windows the
/// watermark passed, between batches.
using close_atom = caf::atom_constant<caf::atom("close")>;
constexpr close_atom close_atom_v{};

using ack_atom = caf::atom_constant<caf::atom("ack")>;
constexpr ack_atom ack_atom_v{};

using barrier_atom = caf::atom_constant<caf::atom("barrier")>;
constexpr barrier_atom barrier_atom_v{};

using end_atom = caf::atom_constant<caf::atom("end")>;
constexpr end_atom end_atom_v{};

} // namespace vigil
