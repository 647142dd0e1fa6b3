#include "actors/zmq_sink.hpp"

#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "actors/line_sink.hpp"
#include "transport/zap_handler.hpp"

namespace vigil {

namespace {

constexpr auto send_wait = std::chrono::milliseconds(200);

struct zmq_sink_state {
  zmq::context_t context{1};
  std::unique_ptr<zmq::socket_t> socket;
  std::unique_ptr<zap_handler> zap;
  std::atomic<uint64_t> refused{0};
  bool open = false;
  static inline const char* name = "zmq_sink";
  ~zmq_sink_state() {
    zap.reset();
    socket.reset();  // lingers (see below) before the context closes
  }
};

/// Sends one message, waiting for a peer as long as it takes (the
/// pipeline waits with it); false only when the node gives up its writes.
bool send_all(zmq_sink_state& st, const zmq_sink_config& cfg, const std::string& line, size_t held) {
  using namespace std::chrono;
  steady_clock::time_point since, last_report;
  for (;;) {
    if (st.zap) st.zap->answer_pending();  // a Curve peer's handshake needs an answer to connect
    if (st.socket->send(zmq::buffer(line), zmq::send_flags::none)) break;
    if (giving_up_writes()) return false;
    const auto now = steady_clock::now();
    if (since == steady_clock::time_point{}) {
      since = last_report = now;
      sink_write_failing(true);
      spdlog::warn("sink {}: no peer takes messages on {}; {} lines held (the pipeline waits, nothing is dropped)",
                   cfg.name, cfg.endpoint, held);
    } else if (now - last_report >= seconds(30)) {
      last_report = now;
      spdlog::warn("sink {}: still no peer taking messages on {} after {} s", cfg.name, cfg.endpoint,
                   duration_cast<seconds>(now - since).count());
    }
  }
  if (since != steady_clock::time_point{}) {
    sink_write_failing(false);
    spdlog::info("sink {}: a peer takes messages on {} again", cfg.name, cfg.endpoint);
  }
  return true;
}

line_sink_actor::behavior_type zmq_sink(line_sink_actor::stateful_pointer<zmq_sink_state> self, zmq_sink_config cfg) {
  auto& st = self->state;
  st.socket = std::make_unique<zmq::socket_t>(st.context, zmq::socket_type::push);
  auto& socket = *st.socket;
  socket.set(zmq::sockopt::linger, 5000);
  socket.set(zmq::sockopt::sndtimeo, static_cast<int>(send_wait.count()));
  try {
    st.zap = secure_socket(st.context, socket, cfg.bind, cfg.curve, "sink " + cfg.name, st.refused);
    if (cfg.bind) socket.bind(cfg.endpoint);
    else socket.connect(cfg.endpoint);
    st.open = true;
  } catch (const std::exception& e) {
    spdlog::error("sink {}: cannot {} {}: {}", cfg.name, cfg.bind ? "bind" : "connect to", cfg.endpoint, e.what());
  }
  return {
    [=](write_atom, const std::vector<std::string>& lines) -> uint64_t {
      auto& st = self->state;
      if (!st.open) {
        spdlog::error("sink {}: {} is not open: {} lines lost", cfg.name, cfg.endpoint, lines.size());
        return lines.size();
      }
      for (size_t i = 0; i < lines.size(); ++i)
        if (!send_all(st, cfg, lines[i], lines.size() - i)) {
          spdlog::error("sink {}: {} lines not sent to {}: the next start sends them again", cfg.name,
                        lines.size() - i, cfg.endpoint);
          break;
        }
      return lines.size();
    },
    [=](checkpoint_atom, uint64_t) {
      // Nothing to cut back: what was sent is the peer's.
    },
    [=](flush_atom) -> bool { return self->state.open; },
  };
}

} // namespace

line_sink_actor spawn_zmq_sink(caf::actor_system& sys, const zmq_sink_config& cfg) {
  return sys.spawn<caf::detached>(zmq_sink, cfg);
}

} // namespace vigil
