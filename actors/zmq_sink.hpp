#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "transport/curve_keys.hpp"

namespace vigil {

struct zmq_sink_config {
  std::string name;       ///< the [[sink]]'s name, for logs
  std::string endpoint;   ///< "tcp://HOST:PORT"
  bool bind = false;      ///< bind it (PULL peers connect) instead of connecting
  curve_peers curve;      ///< none: plain TCP
};

/// Spawns a sink that sends each line (a record, a window result, an
/// alert) as one message on a PUSH socket, on a thread of its own. While no
/// peer takes messages (none connected, or its queue at the high-water
/// mark), the write waits and retries: the reply, and with it the credit
/// of the stage that sent the lines, waits too, so the pipeline holds
/// instead of dropping. At-least-once: after a crash, the lines since the
/// last checkpoint are sent again. A clean stop waits up to 5 s for a peer
/// to take what is queued.
line_sink_actor spawn_zmq_sink(caf::actor_system& sys, const zmq_sink_config& cfg);

} // namespace vigil
