#pragma once

#include <atomic>

#include <cstddef>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace vigil {

struct push_source_config {
  std::string name;
  std::string origin = "http";          ///< the source type, in quarantined events and the checkpoint
  std::vector<parse_stage_actor> next;  ///< chunk `sequence` to stage `sequence % size()`
  size_t credit = 4;                    ///< chunks in flight to the parse stages at most
  /// Requests waiting for credit at most; past it a request is refused
  /// (errc::busy: HTTP 429, a ZeroMQ message not read yet): backpressure reaches the client and nothing is
  /// buffered without bound.
  size_t max_waiting = 8;
  /// Acknowledge once the events are in a stored checkpoint (at-least-once
  /// for a client that resends what was not acknowledged) instead of once
  /// they are in the pipeline.
  bool ack_checkpoint = false;
  /// Acknowledged-at-checkpoint requests waiting for one at most.
  size_t max_unacked = 64;
  /// Answer a request once its chunk is handed to a parse stage, not once
  /// the stage is through with it: for a client that only needs
  /// backpressure (a ZeroMQ socket, which acknowledges nothing), so its
  /// next chunk can be read while this one is parsed.
  bool reply_when_sent = false;
  /// While set (the state store is full), requests are refused as
  /// unavailable (HTTP 503) (null: never).
  std::shared_ptr<const std::atomic<bool>> paused;
};

/// Spawns a source that takes the events pushed to it by an ingest server
/// (HTTP requests, ZeroMQ messages; see `push_source_actor`). Each request is one chunk, in arrival order;
/// checkpoint barriers go between requests. Events are not kept for a
/// replay: after a crash, what the source took since the last checkpoint
/// is gone unless the client sends it again (at-least-once with
/// `ack_checkpoint`; a client event id plus the schema's dedup_key makes a
/// resend count once).
push_source_actor spawn_push_source(caf::actor_system& sys, const push_source_config& cfg);

} // namespace vigil
