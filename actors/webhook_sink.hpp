#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"
#include "notify/webhook_sender.hpp"

namespace vigil {

struct webhook_sink_config {
  std::string name;  ///< the [[sink]]'s name, for logs
  webhook_options http;
};

/// Spawns a sink that POSTs each write as one JSON array of its lines (a
/// group of alerts) to a URL, through a `webhook_sender`: a write is queued
/// and acknowledged at once, so a slow or dead receiver never holds up the
/// pipeline. A flush waits (at most the request timeout) for the queue.
line_sink_actor spawn_webhook_sink(caf::actor_system& sys, const webhook_sink_config& cfg);

} // namespace vigil
