#include "actors/alert_stage.hpp"

#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "alerting/alert_board.hpp"
#include "parse/timestamp.hpp"
#include "state/state_codec.hpp"

namespace vigil {

namespace {

struct alert_state {
  std::shared_ptr<alert_router> router;
  static inline const char* name = "alert_stage";
};


/// Due groups and repeats are looked for this often.
constexpr auto tick_interval = std::chrono::milliseconds(250);

} // namespace

alert_stage_actor spawn_alert_stage(caf::actor_system& sys, const alert_stage_config& cfg) {
  auto behavior = [cfg](alert_stage_actor::stateful_pointer<alert_state> self)
    -> alert_stage_actor::behavior_type {
    if (cfg.restored) {
      self->state.router = cfg.restored;
    } else {
      std::vector<alert_output> how;
      for (const auto& o : cfg.outputs) how.push_back(o.how);
      self->state.router = std::make_shared<alert_router>(std::move(how));
    }
    // Alerts are few: sinks are not waited on (a webhook sink queues
    // without blocking), so a slow receiver never holds up detection.
    auto send = [self, cfg](std::vector<alert_router::writes>& out) {
      for (size_t i = 0; i < out.size() && i < cfg.outputs.size(); ++i)
        for (auto& lines : out[i])
          self->request(cfg.outputs[i].sink, caf::infinite, write_atom_v, std::move(lines))
            .then([](uint64_t) {},
                  [self](caf::error& err) { spdlog::error("alert stage: {}", self->system().render(err)); });
    };
    auto show = [self, cfg] {
      if (cfg.board) cfg.board->publish(self->state.router->firing_alerts(), self->state.router->sent());
    };
    show();
    self->delayed_send(self, tick_interval, tick_atom_v);
    return {
      [=](ingest_atom, const std::vector<alert>& alerts) -> uint64_t {
        stage_timer timer(cfg.stage.get(), self);
        if (cfg.stage) cfg.stage->items_in += alerts.size();
        std::vector<alert_router::writes> out;
        self->state.router->take(alerts, wall_clock_ms(), out);
        send(out);
        if (!alerts.empty()) show();
        return alerts.size();
      },
      [=](tick_atom) {
        std::vector<alert_router::writes> out;
        self->state.router->tick(wall_clock_ms(), out);
        send(out);
        self->delayed_send(self, tick_interval, tick_atom_v);
      },
      [=](checkpoint_atom, uint64_t id) {
        state_writer w;
        self->state.router->save(w);
        self->send(cfg.coordinator, checkpoint_atom_v, state_part{id, state_kind::alert, "alerts", w.take()});
        for (const auto& o : cfg.outputs) self->send(o.sink, checkpoint_atom_v, id);
      },
      [=](flush_atom) -> caf::result<bool> {
        std::vector<alert_router::writes> out;
        self->state.router->drain(out);
        send(out);
        auto rp = self->make_response_promise<bool>();
        auto pending = std::make_shared<size_t>(cfg.outputs.size());
        if (*pending == 0) {
          rp.deliver(true);
          return rp;
        }
        for (const auto& o : cfg.outputs)
          self->request(o.sink, caf::infinite, flush_atom_v)
            .then([rp, pending](bool) mutable { if (--*pending == 0) rp.deliver(true); },
                  [rp, pending](caf::error&) mutable { if (--*pending == 0) rp.deliver(false); });
        return rp;
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
