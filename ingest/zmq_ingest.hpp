#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "ingest/zmq_frames.hpp"
#include "messages/interfaces.hpp"
#include "transport/curve_keys.hpp"

namespace vigil {

struct source_tally;

struct zmq_ingest_options {
  std::string source;             ///< the [[source]] name, for logs
  std::string endpoint;           ///< "tcp://HOST:PORT"
  bool subscriber = false;        ///< a SUB socket (else PULL)
  bool bind = true;               ///< bind `endpoint` (else connect to it)
  std::vector<std::string> topics{""};  ///< SUB: the prefixes subscribed to
  frame_encoding encoding = frame_encoding::json;
  uint64_t max_frame_bytes = 16u << 20;
  curve_peers curve;               ///< none: plain TCP
  /// Messages counted by result, Curve refusals (null: not counted).
  std::shared_ptr<source_tally> tally;
  /// Messages read into one chunk at most (by bytes), so a busy socket
  /// makes large chunks and a quiet one sends each message at once.
  size_t chunk_bytes = 1u << 20;
};

/// The socket of a `type = "zmq"` source, on a thread of its own (the
/// ZeroMQ bridge thread of CAF017.md B10): it reads the messages waiting,
/// turns them into NDJSON lines (`append_frame_lines`) and hands them to
/// the source as one chunk, and reads the next only once the source handed
/// that chunk to a parse stage (within the parse stages' credit).
/// Backpressure is ZeroMQ's own: while vigil does not read, the
/// socket's queue fills to its high-water mark, and a PUSH peer's send
/// blocks (a PUB peer drops, as PUB does). A multi-part message's last
/// part is the payload (a SUB topic comes before it).
class zmq_ingest {
public:
  /// Binds or connects, and starts. Throws std::runtime_error naming the
  /// endpoint, or the key, when it cannot.
  zmq_ingest(caf::actor_system& sys, push_source_actor source, zmq_ingest_options opts);
  ~zmq_ingest();
  zmq_ingest(const zmq_ingest&) = delete;
  zmq_ingest& operator=(const zmq_ingest&) = delete;

  /// The endpoint bound (with its real port) or connected to.
  const std::string& endpoint() const noexcept { return endpoint_; }

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string endpoint_;
};

} // namespace vigil
