#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "transport/curve_keys.hpp"

namespace vigil {

/// Decodes a Z85 Curve key (40 characters) to its 32 bytes; throws
/// std::runtime_error quoting the text when it is not one.
std::string z85_to_binary(const std::string& z85);

/// Answers libzmq's ZAP requests (RFC 27) for the Curve sockets of one
/// ZeroMQ context: a client gets in when its public key is in `allowed`.
/// It is polled on the thread that owns the context's sockets (the bridge
/// thread), so no socket crosses threads.
class zap_handler {
public:
  /// Binds the context's ZAP endpoint. `allowed` holds Z85 public keys;
  /// `owner` names the node or source in the log line of a refusal;
  /// `refused` counts the handshakes refused (a key not allowed).
  /// `names` (Z85 key -> name): the ZAP user id a client of that key gets,
  /// which the frames it sends then carry (ZMQ's "User-Id" property).
  zap_handler(zmq::context_t& context, const std::vector<std::string>& allowed, std::string owner,
              std::atomic<uint64_t>& refused, const std::map<std::string, std::string>& names = {});

  zmq::socket_t& socket() noexcept { return socket_; }

  /// Answers every request waiting on the socket.
  void answer_pending();

private:
  zmq::socket_t socket_;
  std::set<std::string> allowed_;  // binary keys
  std::map<std::string, std::string> names_;  // binary key -> user id
  std::string owner_;
  std::atomic<uint64_t>& refused_;
};

/// Makes `socket` take part in CurveZMQ as `keys` say, before it binds or
/// connects: bound, a server that lets in `keys.allowed_keys` (the handler
/// returned answers the context's handshakes: poll its socket on the
/// socket's thread); connecting, a client of `keys.server_key` (null
/// returned). Without keys: nothing, null. `owner` and `refused` are the
/// handler's.
std::unique_ptr<zap_handler> secure_socket(zmq::context_t& context, zmq::socket_t& socket, bool bind,
                                           const curve_peers& keys, std::string owner, std::atomic<uint64_t>& refused);

/// Makes `socket` a Curve server with `secret_key` (Z85), checked by the
/// context's zap_handler.
void make_curve_server(zmq::socket_t& socket, const std::string& secret_key);

/// Makes `socket` a Curve client of the server whose public key is
/// `server_key`, with its own key pair (all Z85).
void make_curve_client(zmq::socket_t& socket, const std::string& public_key, const std::string& secret_key,
                       const std::string& server_key);

} // namespace vigil
