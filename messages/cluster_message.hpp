#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "messages/checkpoint.hpp"

namespace vigil {

// The bodies of the frames agents and aggregators exchange (messages/frame.hpp
// has the header). Each is a msgpack array; decoders never throw and refuse
// anything of the wrong shape with `errc::bad_frame`.
//
// A session ("epoch") is one run of the leading aggregator's pipeline from
// one checkpoint, which every other node joins. Every frame that belongs to a session names it, so frames
// from before a restart or a rollback are told apart and dropped.

/// hello, agent or following aggregator -> the leader: "I (re)started;
/// where do I resume?"
struct hello_message {
  uint64_t incarnation = 0;          ///< random per agent process start
  std::vector<std::string> sources;  ///< the agent's [[source]] names
};

/// A checkpoint part by participant name ("source:access", "dedup:access").
struct named_part {
  std::string participant;
  std::string bytes;
};

/// resume, the leader -> agent or follower: join session `epoch`, from
/// checkpoint `checkpoint` (an agent reads from its positions in it).
/// Follower -> agent, with no parts: ready for session `epoch`.
struct resume_message {
  uint64_t epoch = 0;
  uint64_t checkpoint = 0;          ///< 0: none yet, start fresh
  std::vector<named_part> parts;    ///< the agent's parts in it, local names
};

/// events, agent -> aggregator: one parsed, enriched batch of a source.
struct events_message {
  uint64_t epoch = 0;
  uint64_t barrier = 0;              ///< non-zero: this checkpoint's barrier follows the events
  std::string_view batch;            ///< `encode_event_batch` bytes (decoded: into the frame)
  std::vector<std::string> quarantined;
  bool last = false;                 ///< the source's input ended (`--once`): no events follow
  std::string_view partials;         ///< `event_batch::partials` (decoded: into the frame)
  /// The events (or records) the batch stands for, also when the agent
  /// sent only their partials: what the aggregator counts as taken in.
  /// Absent from an older agent's frame: 0.
  uint64_t events = 0;
};

/// barrier, aggregator -> agent: start checkpoint `checkpoint` at `source`.
struct barrier_message {
  uint64_t epoch = 0;
  uint64_t checkpoint = 0;
  std::string source;
};

/// part, agent -> the leader: a participant's part of a checkpoint;
/// follower -> the leader: "aggregator:NAME", its own part is stored.
struct part_message {
  uint64_t epoch = 0;
  state_part part;                   ///< participant with the agent's local names
};

/// ack, aggregator -> agent: batch `sequence` of `source` was taken (credit).
struct ack_message {
  uint64_t epoch = 0;
  std::string source;
  uint64_t sequence = 0;
};

/// How far behind its input a source of an agent reads: bytes written to
/// its files and not read yet, and the newest event time it parsed
/// (INT64_MIN before any; Unix ms).
struct source_lag {
  std::string source;
  uint64_t bytes = 0;
  int64_t newest_event_ms = INT64_MIN;
};

/// heartbeat, both ways: the sender's session (0 before it joined one) and
/// process. done (`--once`), follower -> the leader: its windows are
/// closed; the leader -> everyone: the fleet's input is complete and every
/// window closed, exit.
struct heartbeat_message {
  uint64_t epoch = 0;
  uint64_t incarnation = 0;
  /// An agent's sources, how far behind each is reading (for the
  /// aggregators' fleet view). Empty from aggregators and older agents.
  std::vector<source_lag> lags;
};

/// rollback, aggregator -> the leading aggregator: session `epoch` lost
/// data (why: `reason`); roll the fleet back to the last complete checkpoint.
struct rollback_message {
  uint64_t epoch = 0;
  std::string reason;
};

std::string encode(const hello_message& m);
std::string encode(const resume_message& m);
std::string encode(const events_message& m);
std::string encode(const barrier_message& m);
std::string encode(const part_message& m);
std::string encode(const ack_message& m);
std::string encode(const heartbeat_message& m);
std::string encode(const rollback_message& m);

caf::expected<hello_message> decode_hello(std::string_view body);
caf::expected<resume_message> decode_resume(std::string_view body);
/// `batch` points into `body`.
caf::expected<events_message> decode_events(std::string_view body);
caf::expected<barrier_message> decode_barrier(std::string_view body);
caf::expected<part_message> decode_part(std::string_view body);
caf::expected<ack_message> decode_ack(std::string_view body);
caf::expected<heartbeat_message> decode_heartbeat(std::string_view body);
caf::expected<rollback_message> decode_rollback(std::string_view body);

} // namespace vigil
