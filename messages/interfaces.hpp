#pragma once

#include <cstdint>
#include <memory>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/alert.hpp"
#include "messages/atoms.hpp"
#include "messages/checkpoint.hpp"
#include "messages/event.hpp"
#include "messages/text_chunk.hpp"
#include "messages/window_delta.hpp"

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
//
// source -> parse_stage -> enrich_stage -> window_stage -> detect_stage
//   -> alert_stage -> alert sinks; window results -> window sinks.
// Every hop that carries events is a request: the reply is the sender's
// credit, so a slow stage (or sink) slows the source and no mailbox grows
// without bound.

/// Writes lines to one output (a JSONL file, the console, a webhook).
using line_sink_actor = caf::typed_actor<
  /// Appends the lines. Reply: how many were taken (the sender's credit).
  caf::replies_to<write_atom, std::vector<std::string>>::with<uint64_t>,
  /// Reply once everything written so far is out (fsync'd for files;
  /// handed to the sender thread for webhooks).
  caf::replies_to<flush_atom>::with<bool>,
  /// A checkpoint barrier: the sink sends its part (a file's length) to
  /// the checkpoint coordinator.
  caf::reacts_to<checkpoint_atom, uint64_t>>;

/// Sends alerts on: de-duplication, grouping, repeats, resolved
/// notifications, fan-out to the alert sinks.
using alert_stage_actor = caf::typed_actor<
  /// Sender: the detect stage. Reply: alerts taken.
  caf::replies_to<ingest_atom, std::vector<alert>>::with<uint64_t>,
  /// Periodic: due repeats and group flushes.
  caf::reacts_to<tick_atom>,
  /// Sends every waiting group, then flushes the sinks.
  caf::replies_to<flush_atom>::with<bool>,
  /// A checkpoint barrier from the detect stage: store, pass to the sinks.
  caf::reacts_to<checkpoint_atom, uint64_t>>;

/// Checks the node's [[rule]]s against window deltas.
using detect_stage_actor = caf::typed_actor<
  /// Sender: the window stage. Reply once the alert stage took the alerts.
  caf::replies_to<ingest_atom, std::vector<window_delta>>::with<uint64_t>,
  /// Flushes the alert stage.
  caf::replies_to<flush_atom>::with<bool>,
  /// A checkpoint barrier from the window stage: store, pass on.
  caf::reacts_to<checkpoint_atom, uint64_t>>;

/// Holds every [[window]] of the node.
using window_stage_actor = caf::typed_actor<
  /// Sender: an enrich stage. Reply (the sender's credit): events taken.
  caf::replies_to<ingest_atom, event_batch>::with<uint64_t>,
  /// Close every window if the flag is set, then flush the detect stage
  /// and the sinks. Reply when all of it is out.
  caf::replies_to<flush_atom, bool>::with<bool>,
  /// Sender: the stage itself. Writes the next slice of checkpoint N's
  /// state, between batches.
  caf::reacts_to<checkpoint_atom, uint64_t>,
  /// Sender: the stage itself. Closes the next slice of the windows the
  /// watermark passed, between batches.
  caf::reacts_to<close_atom>>;

/// Tags events with signature classes, agent class, route and dimension
/// labels.
using enrich_stage_actor = caf::typed_actor<
  /// Sender: a parse stage. Reply once the window stage took the batch.
  caf::replies_to<ingest_atom, event_batch>::with<uint64_t>,
  /// Periodic: reload dimension tables whose file changed.
  caf::reacts_to<tick_atom>>;

/// Parses and cleans the chunks of one source.
using parse_stage_actor = caf::typed_actor<
  /// Sender: a source. Reply once the window stage took the batch: the
  /// source's credit, so a slow window stage slows the source.
  caf::replies_to<parse_atom, text_chunk>::with<uint64_t>,
  /// Periodic, with lookup tables: reload those whose file changed.
  caf::reacts_to<tick_atom>>;

/// Reads one [[source]]: tails its files, or reads stdin.
using source_actor = caf::typed_actor<
  caf::reacts_to<tick_atom>,
  /// Reply (bytes read in all) once the input is read to its end (files:
  /// as they are now; stdin: until it closes) and everything read went
  /// through the pipeline.
  caf::replies_to<run_atom>::with<uint64_t>,
  /// Stop reading; reply once everything read went through.
  caf::replies_to<stop_atom>::with<uint64_t>,
  /// Sender: the checkpoint coordinator. Queues the checkpoint's barrier
  /// behind the lines read so far; reply: the source's part (the position
  /// in each file, as of the barrier).
  caf::replies_to<checkpoint_atom, uint64_t>::with<state_part>>;

/// A source that takes events pushed to it (`POST /ingest/NAME`, ZeroMQ).
using push_source_actor = source_actor::extend<
  /// Sender: an ingest server, for one request or message: its NDJSON
  /// lines. Reply: events taken, once they are in the pipeline (or
  /// in a stored checkpoint, with ack = "checkpoint"); errc::busy when the
  /// pipeline's credit is used up, errc::unavailable when stopping.
  caf::replies_to<ingest_atom, std::string>::with<uint64_t>,
  /// From the node: checkpoint ID is stored (true) or failed.
  caf::reacts_to<checkpoint_atom, uint64_t, bool>>;

/// Takes consistent checkpoints of the node (barriers flow with the data)
/// and stores them in RocksDB once every participant's part is in.
using checkpoint_coordinator_actor = caf::typed_actor<
  /// Starts taking a checkpoint every interval, through these sources.
  caf::reacts_to<run_atom, std::vector<source_actor>>,
  /// A participant's part.
  caf::reacts_to<checkpoint_atom, state_part>,
  /// From the coordinator's writer thread: checkpoint written (or not).
  caf::reacts_to<checkpoint_atom, uint64_t, bool>,
  /// Periodic: start the next checkpoint.
  caf::reacts_to<tick_atom>,
  /// Stop taking checkpoints; with the flag, take a final one first. Reply:
  /// the id of the newest complete checkpoint (0: none) once none is in
  /// progress.
  caf::replies_to<stop_atom, bool>::with<uint64_t>>;

// -- cluster nodes (pipeline/cluster_node.hpp) --
//
// agent:      source -> parse -> enrich -> uplink ==frames==> aggregator
// aggregator: frames -> fleet_ingress -> window_stage -> ... as above;
//             one remote_source per agent source stands in for it at the
//             checkpoint coordinator.

/// Agent: takes the window stage's place at the end of the enrich stages
/// and sends each batch to the aggregator, in order per source. Its reply
/// (the credit) waits for the aggregator's ack, so a slow aggregator slows
/// the agent's sources.
using uplink_actor = window_stage_actor::extend<
  /// From aggregator `from`: batch `sequence` of source `name` was taken.
  caf::reacts_to<ack_atom, std::string, uint64_t, std::string>,
  /// The source's input ended (`--once`): tell the aggregator.
  caf::reacts_to<end_atom, std::string>,
  /// Retries frames the link could not queue.
  caf::reacts_to<tick_atom>>;

/// Agent: takes the checkpoint coordinator's place. Barriers come from the
/// aggregator; parts (read positions, dedup filters) go to it.
using checkpoint_relay_actor = checkpoint_coordinator_actor::extend<
  /// From the aggregator: start checkpoint `id` at source `name`.
  caf::reacts_to<barrier_atom, uint64_t, std::string>>;

/// Aggregator: one agent source, as the checkpoint coordinator sees it. A
/// checkpoint request becomes a barrier frame to the agent; the reply is
/// the part the agent sends back.
using remote_source_actor = source_actor::extend<
  /// From the agent (through the node's link): its part of a checkpoint.
  caf::reacts_to<checkpoint_atom, state_part>>;

/// Aggregator: decodes the agents' event frames and hands the batches to
/// the window stage; acks each once taken.
using fleet_ingress_actor = caf::typed_actor<
  /// An events frame's body, and the agent that sent it.
  caf::reacts_to<ingest_atom, std::string, std::string>>;

} // namespace vigil
