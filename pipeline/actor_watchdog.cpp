#include "pipeline/actor_watchdog.hpp"

#include <cstdlib>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/spawn_options.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

caf::actor watch_actors(caf::actor_system& sys, std::vector<caf::actor> actors, std::string node) {
  // Hidden: the actor system does not wait for it at shutdown.
  return sys.spawn<caf::hidden>([actors = std::move(actors), node = std::move(node)](caf::event_based_actor* self) -> caf::behavior {
    auto left = std::make_shared<size_t>(actors.size());
    for (const auto& a : actors) self->monitor(a);
    self->set_down_handler([left, node](caf::scheduled_actor* self, caf::down_msg& down) {
      const auto& why = down.reason;
      if (why && why != caf::exit_reason::user_shutdown && why != caf::exit_reason::normal) {
        spdlog::critical("node {}: a pipeline actor stopped ({}): stopping with exit 1; a restart resumes from the "
                         "last checkpoint",
                         node, self->system().render(why));
        spdlog::shutdown();  // flushed: _Exit runs no destructors
        std::_Exit(1);
      }
      if (--*left == 0) self->quit();
    });
    return {[](int) {}};
  });
}

} // namespace vigil
