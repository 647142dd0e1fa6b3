#include "ingest/zmq_ingest.hpp"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "actors/parse_stage.hpp"
#include "messages/errc.hpp"
#include "transport/zap_handler.hpp"

namespace vigil {

namespace {
constexpr auto poll_interval = std::chrono::milliseconds(50);
// How long one hand-over waits before it checks for a stop; the chunk
// stays queued in the source meanwhile.
constexpr auto handover_wait = std::chrono::seconds(1);
constexpr size_t messages_per_chunk = 10000;
} // namespace

struct zmq_ingest::impl {
  zmq::context_t context{1};
  zmq::socket_t socket;
  std::unique_ptr<zap_handler> zap;
  std::atomic<uint64_t> refused{0};  // without a tally
  std::atomic<bool> stop{false};
  std::thread thread;
  impl(bool subscriber) : socket(context, subscriber ? zmq::socket_type::sub : zmq::socket_type::pull) {}
};

namespace {

enum class handover {
  taken,    ///< the pipeline has the lines
  queued,   ///< the source holds them, the pipeline has not taken them in time
  busy,     ///< the source is full: not taken, send them again
  refused,  ///< the source is stopping
};

/// Hands `lines` to the source. While the pipeline keeps up, the lines
/// move (no copy), and the source cannot be full: this thread is its only
/// client and waits for each answer. Once a hand-over was only queued,
/// later ones send copies until one is taken, so a full source loses nothing.
handover hand_over(caf::scoped_actor& self, const push_source_actor& source, std::string& lines, bool stalled,
                   const std::string& name) {
  handover result = handover::refused;
  std::string payload = stalled ? lines : std::move(lines);
  self->request(source, handover_wait, ingest_atom_v, std::move(payload))
    .receive([&](uint64_t) { result = handover::taken; },
             [&](caf::error& err) {
               if (err == errc::busy) result = handover::busy;
               else if (err == caf::sec::request_timeout) result = handover::queued;
               else spdlog::warn("source {}: messages not taken: {}", name, caf::to_string(err));
             });
  return result;
}

} // namespace

zmq_ingest::zmq_ingest(caf::actor_system& sys, push_source_actor source, zmq_ingest_options opts)
  : impl_(std::make_unique<impl>(opts.subscriber)) {
  auto& s = *impl_;
  s.socket.set(zmq::sockopt::linger, 0);
  // Messages up to twice the limit are read and quarantined as too large;
  // ZeroMQ closes the connection of a peer sending more, so nobody makes
  // the node buffer gigabytes.
  s.socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(opts.max_frame_bytes) * 2);
  try {
    // Refusals count straight into the source's tally.
    s.zap = secure_socket(s.context, s.socket, opts.bind, opts.curve, "source " + opts.source,
                          opts.tally ? opts.tally->zmq_refused_peers : s.refused);
    if (opts.subscriber)
      for (const auto& topic : opts.topics) s.socket.set(zmq::sockopt::subscribe, topic);
    if (opts.bind) s.socket.bind(opts.endpoint);
    else s.socket.connect(opts.endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("source " + opts.source + ": cannot " + (opts.bind ? "bind " : "connect to ") +
                             opts.endpoint + ": " + e.what());
  }
  endpoint_ = opts.bind ? s.socket.get(zmq::sockopt::last_endpoint) : opts.endpoint;
  spdlog::info("source {}: taking {} messages ({}) on {} ({})", opts.source, opts.subscriber ? "SUB" : "PULL",
               opts.encoding == frame_encoding::msgpack ? "msgpack" : "NDJSON", endpoint_,
               opts.bind ? "bound" : "connected");
  s.thread = std::thread([this, &sys, source, opts = std::move(opts)] {
    auto& s = *impl_;
    std::vector<zmq::pollitem_t> items = {{s.socket.handle(), 0, ZMQ_POLLIN, 0}};
    if (s.zap) items.push_back({s.zap->socket().handle(), 0, ZMQ_POLLIN, 0});
    caf::scoped_actor self{sys};  // this thread's, for every hand-over
    std::string lines;
    bool stalled = false;
    while (!s.stop) {
      if (lines.empty()) {
        zmq::poll(items.data(), items.size(), poll_interval);
        if (s.zap && (items[1].revents & ZMQ_POLLIN)) s.zap->answer_pending();
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        for (size_t n = 0; n < messages_per_chunk && lines.size() < opts.chunk_bytes; ++n) {
          zmq::message_t part;
          if (!s.socket.recv(part, zmq::recv_flags::dontwait)) break;
          while (part.more()) (void)s.socket.recv(part, zmq::recv_flags::none);  // the last part is the payload
          const auto result = append_frame_lines(std::string_view(static_cast<const char*>(part.data()), part.size()),
                                                 opts.encoding, opts.max_frame_bytes, lines);
          if (opts.tally) ++opts.tally->zmq_messages[static_cast<size_t>(result)];
        }
        if (lines.empty()) continue;
      }
      const handover h = hand_over(self, source, lines, stalled, opts.source);
      if (h == handover::busy) {
        std::this_thread::sleep_for(poll_interval);  // keep the lines: not read from the socket meanwhile
        continue;
      }
      if (h == handover::queued && !stalled)
        spdlog::info("source {}: the pipeline is slow to take messages; the socket is read as it takes them",
                     opts.source);
      stalled = h == handover::queued;
      lines.clear();
    }
  });
}

zmq_ingest::~zmq_ingest() {
  impl_->stop = true;
  if (impl_->thread.joinable()) impl_->thread.join();
}

} // namespace vigil
