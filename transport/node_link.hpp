#pragma once

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/frame.hpp"
#include "transport/frame_server.hpp"

namespace vigil {

/// A node's connections to its peers: a `frame_server` at its own endpoint
/// for what they send, and a `frame_client` to each peer's endpoint for
/// what it sends them. Each direction is its own ZeroMQ connection.
struct node_link_config {
  std::string node;       ///< this node's name: the sender of every frame
  std::string endpoint;   ///< where it listens
  frame_limits limits;
  std::optional<curve_identity> curve;  ///< with keys: Curve both ways
  struct peer {
    std::string name;
    std::string endpoint;
    std::string public_key;  ///< "" without keys
  };
  std::vector<peer> peers;
};

/// A frame as received, owning its body.
struct received_frame {
  frame_type type = frame_type::heartbeat;
  std::string sender;
  uint64_t sequence = 0;
  std::string body;
};

/// Thread-safe: actors send from their threads, one thread takes what
/// arrives (`next`). What arrives waits in an in-memory queue; the senders'
/// credit bounds it (data frames need an ack before more follow).
class node_link {
public:
  /// Binds and connects. Throws `std::runtime_error` naming the endpoint
  /// or key when it cannot.
  explicit node_link(node_link_config cfg);
  ~node_link();
  node_link(const node_link&) = delete;
  node_link& operator=(const node_link&) = delete;

  /// Queues a frame to `peer`. False when the peer is unknown or its queue
  /// stayed full for `timeout` (the peer is away): the caller keeps it.
  bool send(const std::string& peer, frame_type type, std::string_view body,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

  /// The next frame received, waiting up to `wait`; nullopt if none came.
  /// Frames from names that are not peers are counted and dropped.
  std::optional<received_frame> next(std::chrono::milliseconds wait);

  const frame_counters& counters() const noexcept { return server_->counters(); }
  uint64_t unknown_senders() const noexcept { return unknown_senders_; }
  const std::string& endpoint() const noexcept { return server_->endpoint(); }

private:
  struct outbound {
    std::unique_ptr<frame_client> client;
    uint64_t sequence = 0;
    std::mutex lock;
  };

  node_link_config cfg_;
  std::map<std::string, std::unique_ptr<outbound>> peers_;
  std::mutex inbox_lock_;
  std::condition_variable inbox_ready_;
  std::deque<received_frame> inbox_;
  /// Bytes of frame bodies in `inbox_`. Past `max_inbox_bytes` the
  /// receiving thread waits (and with it the socket: the peers' sends
  /// block), so frames queue in bounded memory.
  size_t inbox_bytes_ = 0;
  std::condition_variable inbox_room_;
  static constexpr size_t max_inbox_bytes = 256u << 20;
  bool closing_ = false;
  std::atomic<uint64_t> unknown_senders_{0};
  std::unique_ptr<frame_server> server_;  // last: its thread stops first
};

/// The key pair in `node`'s secret key file, or nullopt for a node
/// without keys. Throws `std::runtime_error` naming the file.
std::optional<curve_identity> read_curve_identity(const std::string& public_key, const std::string& secret_key_file);

} // namespace vigil
