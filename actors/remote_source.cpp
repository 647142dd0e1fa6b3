#include "actors/remote_source.hpp"

#include <map>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "messages/cluster_message.hpp"
#include "messages/errc.hpp"
#include "transport/node_link.hpp"

namespace vigil {

namespace {

struct remote_state {
  std::map<uint64_t, caf::typed_response_promise<state_part>> pending;  // by checkpoint
  static inline const char* name = "remote_source";
};

} // namespace

std::string stream_name(const std::string& agent, const std::string& source) { return agent + "/" + source; }

remote_source_actor spawn_remote_source(caf::actor_system& sys, const remote_source_config& cfg) {
  auto behavior = [cfg](remote_source_actor::stateful_pointer<remote_state> self)
    -> remote_source_actor::behavior_type {
    const std::string stream = stream_name(cfg.agent, cfg.source);
    return {
      [=](tick_atom) {},
      // The agent reads; the aggregator has nothing to run or stop here.
      [=](run_atom) -> uint64_t { return 0; },
      [=](stop_atom) -> uint64_t { return 0; },
      [=](checkpoint_atom, uint64_t id) -> caf::result<state_part> {
        auto rp = self->make_response_promise<state_part>();
        if (!cfg.link->send(cfg.agent, frame_type::barrier, encode(barrier_message{cfg.epoch, id, cfg.source}))) {
          rp.deliver(caf::make_error(errc::input_failed, "agent " + cfg.agent + " is away: no barrier sent"));
          return rp;
        }
        // Older ones were abandoned by the coordinator.
        self->state.pending.erase(self->state.pending.begin(), self->state.pending.lower_bound(id));
        self->state.pending.emplace(id, rp);
        return rp;
      },
      [=](checkpoint_atom, state_part& part) {
        auto it = self->state.pending.find(part.checkpoint);
        if (it == self->state.pending.end()) return;
        part.participant = "source:" + stream;
        it->second.deliver(std::move(part));
        self->state.pending.erase(it);
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
