#include "actors/checkpoint_relay.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "messages/cluster_message.hpp"
#include "transport/node_link.hpp"

namespace vigil {

namespace {

struct relay_state {
  std::vector<source_actor> sources;
  static inline const char* name = "checkpoint_relay";
};

} // namespace

checkpoint_relay_actor spawn_checkpoint_relay(caf::actor_system& sys, const checkpoint_relay_config& cfg) {
  auto behavior = [cfg](checkpoint_relay_actor::stateful_pointer<relay_state> self)
    -> checkpoint_relay_actor::behavior_type {
    auto forward = [cfg](state_part& part) {
      const uint64_t id = part.checkpoint;
      const std::string who = part.participant;
      // A part that does not get through leaves the checkpoint incomplete;
      // the aggregator abandons it and starts the next one.
      if (!cfg.link->send(cfg.aggregator, frame_type::part, encode(part_message{cfg.epoch, std::move(part)})))
        spdlog::warn("checkpoint relay: checkpoint {}: part {} not sent, {} is away", id, who, cfg.aggregator);
    };
    return {
      [=](run_atom, std::vector<source_actor>& sources) { self->state.sources = std::move(sources); },
      [=](checkpoint_atom, state_part& part) { forward(part); },
      [=](checkpoint_atom, uint64_t, bool) {},
      [=](tick_atom) {},
      [=](stop_atom, bool) -> uint64_t { return 0; },
      [=](barrier_atom, uint64_t id, const std::string& source) {
        auto& st = self->state;
        for (size_t i = 0; i < cfg.sources.size() && i < st.sources.size(); ++i) {
          if (cfg.sources[i] != source) continue;
          self->request(st.sources[i], caf::infinite, checkpoint_atom_v, id)
            .then([forward](state_part& part) mutable { forward(part); },
                  [id, source](caf::error& err) {
                    spdlog::warn("checkpoint relay: checkpoint {}: source {} failed: {}", id, source, to_string(err));
                  });
          return;
        }
        spdlog::warn("checkpoint relay: barrier {} for source {}, which this agent does not have", id, source);
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
