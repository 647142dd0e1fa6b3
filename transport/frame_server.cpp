#include "transport/frame_server.hpp"

#include <set>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "messages/errc.hpp"

namespace vigil {

namespace {

// The ZAP endpoint libzmq asks for every Curve handshake (RFC 27).
constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";
constexpr auto poll_interval = std::chrono::milliseconds(50);

std::string z85_to_binary(const std::string& z85) {
  std::string out(32, '\0');
  if (z85.size() != 40 || !zmq_z85_decode(reinterpret_cast<uint8_t*>(out.data()), z85.c_str()))
    throw std::runtime_error("not a Curve key (40 Z85 characters): '" + z85 + "'");
  return out;
}

// Logs the first drop of a kind, then every 1000th: a flood of bad frames
// must not flood the log too.
void log_drop(const std::string& node, const char* what, uint64_t count, const std::string& detail) {
  if (count == 1 || count % 1000 == 0)
    spdlog::warn("node {}: dropped a frame, {}: {} ({} so far)", node, what, detail, count);
}

// The text a decoder put in its error.
std::string reason(const caf::error& e) {
  const caf::message& context = e.context();
  if (context.size() == 1 && context.match_element<std::string>(0)) return context.get_as<std::string>(0);
  return caf::to_string(e);
}

} // namespace

struct frame_server::impl {
  zmq::context_t context{1};
  zmq::socket_t router{context, zmq::socket_type::router};
  zmq::socket_t zap{context, zmq::socket_type::rep};
  std::set<std::string> allowed;  // binary public keys
  std::atomic<bool> stop{false};
  std::thread thread;
};

frame_server::frame_server(frame_server_config cfg, std::function<void(const frame_view&)> on_frame)
  : impl_(std::make_unique<impl>()) {
  auto& s = *impl_;
  s.router.set(zmq::sockopt::linger, 0);
  // Frames over the limit are received, counted and dropped; ZeroMQ cuts
  // off anything over twice the limit itself (closing that connection), so
  // a hostile peer cannot make the node buffer gigabytes.
  s.router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(cfg.limits.max_frame_bytes) * 2);
  const bool curve = cfg.curve.has_value();
  if (curve) {
    for (const auto& k : cfg.allowed_peers) s.allowed.insert(z85_to_binary(k));
    s.zap.set(zmq::sockopt::linger, 0);
    s.zap.bind(zap_endpoint);
    s.router.set(zmq::sockopt::zap_domain, "vigil");
    s.router.set(zmq::sockopt::curve_server, 1);
    s.router.set(zmq::sockopt::curve_secretkey, z85_to_binary(cfg.curve->secret_key));
  }
  try {
    s.router.bind(cfg.endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot listen on " + cfg.endpoint + ": " + e.what());
  }
  bound_ = s.router.get(zmq::sockopt::last_endpoint);
  s.thread = std::thread([this, cfg = std::move(cfg), on_frame = std::move(on_frame), curve] {
    auto& s = *impl_;
    std::vector<zmq::pollitem_t> items = {{s.router.handle(), 0, ZMQ_POLLIN, 0}};
    if (curve) items.push_back({s.zap.handle(), 0, ZMQ_POLLIN, 0});
    while (!s.stop) {
      zmq::poll(items.data(), items.size(), poll_interval);
      if (curve && (items[1].revents & ZMQ_POLLIN)) {
        // version, request id, domain, address, identity, mechanism, key
        std::vector<zmq::message_t> request;
        for (bool more = true; more;) {
          zmq::message_t part;
          if (!s.zap.recv(part, zmq::recv_flags::dontwait)) break;
          more = part.more();
          request.push_back(std::move(part));
        }
        const bool ok = request.size() >= 7 && s.allowed.count(request[6].to_string()) > 0;
        if (!ok) {
          const uint64_t n = ++counters_.refused_peers;
          if (n == 1 || n % 100 == 0)
            spdlog::warn("node {}: refused a peer whose Curve key is not in the config ({} so far)", cfg.node, n);
        }
        const std::string id = request.size() > 1 ? request[1].to_string() : "";
        const char* status = ok ? "200" : "400";
        s.zap.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
        s.zap.send(zmq::buffer(id), zmq::send_flags::sndmore);
        s.zap.send(zmq::buffer(std::string(status)), zmq::send_flags::sndmore);
        s.zap.send(zmq::buffer(std::string(ok ? "OK" : "key not allowed")), zmq::send_flags::sndmore);
        s.zap.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
        s.zap.send(zmq::str_buffer(""), zmq::send_flags::none);
      }
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      for (;;) {
        // The peer's routing id, the frame, and (from a hostile peer) more
        // parts, which make the message malformed.
        zmq::message_t peer, body;
        if (!s.router.recv(peer, zmq::recv_flags::dontwait)) break;
        if (peer.more()) (void)s.router.recv(body, zmq::recv_flags::none);
        bool extra = false;
        for (bool more = body.more(); more; extra = true) {
          zmq::message_t rest;
          (void)s.router.recv(rest, zmq::recv_flags::none);
          more = rest.more();
        }
        auto f = decode_frame(std::string_view(static_cast<const char*>(body.data()), body.size()), cfg.limits);
        if (f && !extra) {
          ++counters_.delivered;
          on_frame(*f);
          continue;
        }
        const auto code = f ? errc::bad_frame : static_cast<errc>(f.error().code());
        const std::string detail = f ? "more than one part" : reason(f.error());
        switch (code) {
          case errc::unsupported_version:
            log_drop(cfg.node, "another protocol version", ++counters_.unsupported_version, detail);
            break;
          case errc::limit_exceeded: log_drop(cfg.node, "too large", ++counters_.too_large, detail); break;
          default: log_drop(cfg.node, "malformed", ++counters_.bad_frame, detail);
        }
      }
    }
  });
}

frame_server::~frame_server() {
  impl_->stop = true;
  if (impl_->thread.joinable()) impl_->thread.join();
}

struct frame_client::impl {
  zmq::context_t context{1};
  zmq::socket_t dealer{context, zmq::socket_type::dealer};
};

frame_client::frame_client(const std::string& endpoint, std::optional<curve_identity> self,
                           const std::string& server_public_key)
  : impl_(std::make_unique<impl>()) {
  auto& s = *impl_;
  s.dealer.set(zmq::sockopt::linger, 0);
  if (self) {
    s.dealer.set(zmq::sockopt::curve_serverkey, z85_to_binary(server_public_key));
    s.dealer.set(zmq::sockopt::curve_publickey, z85_to_binary(self->public_key));
    s.dealer.set(zmq::sockopt::curve_secretkey, z85_to_binary(self->secret_key));
  }
  s.dealer.connect(endpoint);
}

frame_client::~frame_client() = default;

bool frame_client::send(std::string_view bytes, std::chrono::milliseconds timeout) {
  impl_->dealer.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
  return impl_->dealer.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::none).has_value();
}

} // namespace vigil
