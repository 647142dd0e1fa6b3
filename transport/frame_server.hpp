#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "messages/frame.hpp"

namespace vigil {

/// A node's CurveZMQ key pair, Z85 text (see `vigil keygen`).
struct curve_identity {
  std::string public_key;
  std::string secret_key;
};

struct frame_server_config {
  std::string node;      ///< this node's name, for logs
  std::string endpoint;  ///< "tcp://HOST:PORT"; port "*" picks a free one
  frame_limits limits;
  /// With keys: CurveZMQ is required, and only peers whose public key is
  /// in `allowed_peers` (Z85) get in. Without: plain TCP.
  std::optional<curve_identity> curve;
  std::vector<std::string> allowed_peers;
  /// With Curve: the node name of each allowed key. A frame whose sender
  /// is not the name of the key that sent it is dropped: a node's valid
  /// key must not speak for another node.
  std::map<std::string, std::string> peer_names;
};

/// What a server saw; frames that fail `decode_frame` are counted by why
/// and dropped, never passed on.
struct frame_counters {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> bad_frame{0};
  std::atomic<uint64_t> unsupported_version{0};
  std::atomic<uint64_t> too_large{0};
  std::atomic<uint64_t> refused_peers{0};  ///< Curve handshakes with a key not allowed
  std::atomic<uint64_t> impostors{0};      ///< frames named for a node other than their key's
};

/// Receives frames from peers on a ROUTER socket, on its own thread (the
/// ZeroMQ bridge thread of CAF017.md B10): each good frame goes to
/// `on_frame` on that thread; bad ones are counted, logged (the first of
/// each kind, then every 1000th) and dropped.
class frame_server {
public:
  /// Binds and starts. Throws `std::runtime_error` naming the endpoint
  /// when it cannot bind, or the key when it is not a Curve key.
  frame_server(frame_server_config cfg, std::function<void(const frame_view&)> on_frame);
  ~frame_server();
  frame_server(const frame_server&) = delete;
  frame_server& operator=(const frame_server&) = delete;

  /// The endpoint bound, with the real port.
  const std::string& endpoint() const noexcept { return bound_; }
  const frame_counters& counters() const noexcept { return counters_; }

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string bound_;
  frame_counters counters_;
};

/// Sends frames to one peer's `frame_server` over a DEALER socket.
class frame_client {
public:
  /// `server_public_key` ("" without Curve) and `self` must both be set or
  /// both be empty. Connects in the background (ZeroMQ reconnects too).
  frame_client(const std::string& endpoint, std::optional<curve_identity> self, const std::string& server_public_key);
  ~frame_client();
  frame_client(const frame_client&) = delete;
  frame_client& operator=(const frame_client&) = delete;

  /// Queues one message (a frame, or any bytes: tests send garbage). False
  /// when it could not be queued within `timeout` (the peer is away and
  /// the queue is full): the caller holds on to it, nothing is dropped here.
  bool send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace vigil
