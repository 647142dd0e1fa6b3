#include "actors/webhook_sink.hpp"

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace vigil {

namespace {

struct webhook_state {
  std::unique_ptr<webhook_sender> sender;
  static inline const char* name = "webhook_sink";
};

} // namespace

line_sink_actor spawn_webhook_sink(caf::actor_system& sys, const webhook_sink_config& cfg) {
  auto behavior = [cfg](line_sink_actor::stateful_pointer<webhook_state> self) -> line_sink_actor::behavior_type {
    self->state.sender = std::make_unique<webhook_sender>(cfg.http);
    return {
      [=](write_atom, const std::vector<std::string>& lines) -> uint64_t {
        std::string body = "[";
        for (size_t i = 0; i < lines.size(); ++i) {
          if (i) body += ',';
          body += lines[i];
        }
        body += ']';
        self->state.sender->post(std::move(body));
        return lines.size();
      },
      // Blocks this actor's own thread (it is detached), bounded by the timeout.
      [=](flush_atom) -> bool { return self->state.sender->drain(cfg.http.timeout); },
      // Not a checkpoint participant: what was POSTed cannot be taken back
      // (alerts are at-least-once, with stable ids).
      [=](checkpoint_atom, uint64_t) {},
    };
  };
  return sys.spawn<caf::detached>(behavior);
}

} // namespace vigil
