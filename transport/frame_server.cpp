#include "transport/frame_server.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "messages/errc.hpp"
#include "transport/zap_handler.hpp"

namespace vigil {

namespace {

constexpr auto poll_interval = std::chrono::milliseconds(50);

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
  std::unique_ptr<zap_handler> zap;  // with Curve
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
    s.zap = std::make_unique<zap_handler>(s.context, cfg.allowed_peers, "node " + cfg.node, counters_.refused_peers,
                                          cfg.peer_names);
    make_curve_server(s.router, cfg.curve->secret_key);
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
    if (curve) items.push_back({s.zap->socket().handle(), 0, ZMQ_POLLIN, 0});
    while (!s.stop) {
      zmq::poll(items.data(), items.size(), poll_interval);
      if (curve && (items[1].revents & ZMQ_POLLIN)) s.zap->answer_pending();
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
        if (f && !extra && curve && !cfg.peer_names.empty()) {
          const char* key_of = zmq_msg_gets(body.handle(), "User-Id");
          if (key_of == nullptr || f->header.sender != key_of) {
            log_drop(cfg.node, "named for another node than its Curve key's", ++counters_.impostors,
                     "says " + f->header.sender + ", its key is " + (key_of && *key_of ? key_of : "no node's"));
            continue;
          }
        }
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
  if (self) make_curve_client(s.dealer, self->public_key, self->secret_key, server_public_key);
  s.dealer.connect(endpoint);
}

frame_client::~frame_client() = default;

bool frame_client::send(std::string_view bytes, std::chrono::milliseconds timeout) {
  impl_->dealer.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
  return impl_->dealer.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::none).has_value();
}

} // namespace vigil
