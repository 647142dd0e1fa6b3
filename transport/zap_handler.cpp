#include "transport/zap_handler.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

namespace vigil {

namespace {
// The endpoint libzmq asks for every Curve handshake of a context.
constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";
} // namespace

std::string z85_to_binary(const std::string& z85) {
  if (!is_z85_key(z85)) throw std::runtime_error("not a Curve key (40 Z85 characters): '" + z85 + "'");
  std::string out(32, '\0');
  zmq_z85_decode(reinterpret_cast<uint8_t*>(out.data()), z85.c_str());
  return out;
}

zap_handler::zap_handler(zmq::context_t& context, const std::vector<std::string>& allowed, std::string owner,
                         std::atomic<uint64_t>& refused, const std::map<std::string, std::string>& names)
  : socket_(context, zmq::socket_type::rep), owner_(std::move(owner)), refused_(refused) {
  for (const auto& k : allowed) allowed_.insert(z85_to_binary(k));
  for (const auto& [k, name] : names) names_[z85_to_binary(k)] = name;
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(zap_endpoint);
}

void zap_handler::answer_pending() {
  for (;;) {
    // version, request id, domain, address, identity, mechanism, key
    std::vector<zmq::message_t> request;
    for (bool more = true; more;) {
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
      more = part.more();
      request.push_back(std::move(part));
    }
    if (request.empty()) return;
    const bool ok = request.size() >= 7 && allowed_.count(request[6].to_string()) > 0;
    if (!ok) {
      const uint64_t n = ++refused_;
      if (n == 1 || n % 100 == 0)
        spdlog::warn("{}: refused a peer whose Curve key is not in the config ({} so far)", owner_, n);
    }
    const std::string id = request.size() > 1 ? request[1].to_string() : "";
    std::string user;
    if (ok)
      if (auto it = names_.find(request[6].to_string()); it != names_.end()) user = it->second;
    socket_.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(id), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(std::string(ok ? "200" : "400")), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(std::string(ok ? "OK" : "key not allowed")), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(user), zmq::send_flags::sndmore);  // user id
    socket_.send(zmq::str_buffer(""), zmq::send_flags::none);
  }
}

std::unique_ptr<zap_handler> secure_socket(zmq::context_t& context, zmq::socket_t& socket, bool bind,
                                           const curve_peers& keys, std::string owner, std::atomic<uint64_t>& refused) {
  if (!keys.enabled()) return nullptr;
  if (!bind) {
    make_curve_client(socket, keys.public_key, keys.secret_key, keys.server_key);
    return nullptr;
  }
  auto zap = std::make_unique<zap_handler>(context, keys.allowed_keys, std::move(owner), refused);
  make_curve_server(socket, keys.secret_key);
  return zap;
}

void make_curve_server(zmq::socket_t& socket, const std::string& secret_key) {
  socket.set(zmq::sockopt::zap_domain, "vigil");
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, z85_to_binary(secret_key));
}

void make_curve_client(zmq::socket_t& socket, const std::string& public_key, const std::string& secret_key,
                       const std::string& server_key) {
  socket.set(zmq::sockopt::curve_serverkey, z85_to_binary(server_key));
  socket.set(zmq::sockopt::curve_publickey, z85_to_binary(public_key));
  socket.set(zmq::sockopt::curve_secretkey, z85_to_binary(secret_key));
}

} // namespace vigil
