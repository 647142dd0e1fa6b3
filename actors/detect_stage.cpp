#include "actors/detect_stage.hpp"

#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "parse/timestamp.hpp"
#include "rules/rule_engine.hpp"
#include "state/state_codec.hpp"

namespace vigil {

namespace {

struct detect_state {
  std::shared_ptr<rule_engine> rules;
  static inline const char* name = "detect_stage";
};


} // namespace

detect_stage_actor spawn_detect_stage(caf::actor_system& sys, const detect_stage_config& cfg) {
  auto behavior = [cfg](detect_stage_actor::stateful_pointer<detect_state> self)
    -> detect_stage_actor::behavior_type {
    std::string error;
    self->state.rules = cfg.restored ? cfg.restored : rule_engine::make(cfg.rules, cfg.detectors, cfg.node, error);
    if (!self->state.rules) spdlog::error("detect stage: {}", error);  // check-config catches this first
    return {
      [=](ingest_atom, const std::vector<window_delta>& deltas) -> caf::result<uint64_t> {
        auto& st = self->state;
        stage_timer timer(cfg.stage.get(), self);
        const uint64_t n = deltas.size();
        if (cfg.stage) cfg.stage->items_in += n;
        if (!st.rules) return n;
        // Alerts of one batch leave together: one wall-clock reading for all.
        const int64_t now = wall_clock_ms();
        std::vector<alert> alerts;
        try {
          for (const auto& d : deltas) st.rules->on_delta(d, now, alerts);
        } catch (const std::exception& ex) {
          return caf::make_error(caf::sec::runtime_error, std::string("detect stage: ") + ex.what());
        }
        if (cfg.stage) cfg.stage->items_out += alerts.size();
        if (alerts.empty() || !cfg.alerts) return n;
        auto rp = self->make_response_promise<uint64_t>();
        self->request(cfg.alerts, caf::infinite, ingest_atom_v, std::move(alerts))
          .then([rp, n](uint64_t) mutable { rp.deliver(n); },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [=](checkpoint_atom, uint64_t id) {
        state_writer w;
        if (self->state.rules) self->state.rules->save(w);
        self->send(cfg.coordinator, checkpoint_atom_v, state_part{id, state_kind::detector, "detect", w.take()});
        if (cfg.alerts) self->send(cfg.alerts, checkpoint_atom_v, id);
      },
      [=](flush_atom) -> caf::result<bool> {
        if (!cfg.alerts) return true;
        auto rp = self->make_response_promise<bool>();
        self->request(cfg.alerts, caf::infinite, flush_atom_v)
          .then([rp](bool ok) mutable { rp.deliver(ok); },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
