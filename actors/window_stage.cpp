#include "actors/window_stage.hpp"

#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "messages/alert.hpp"
#include "parse/timestamp.hpp"
#include "rules/rule_engine.hpp"
#include "window/window_engine.hpp"

namespace vigil {

namespace {

struct stage_state {
  std::vector<window_engine> engines;
  std::unique_ptr<rule_engine> rules;
  std::vector<alert> alerts;                 // reused per batch
  std::vector<window_result> closed;         // reused per batch
  static inline const char* name = "window_stage";
};

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string readable(const alert& a) {
  std::string key;
  for (const auto& [k, v] : a.key) key += " " + k + "=" + v;
  char buf[160];
  std::snprintf(buf, sizeof(buf), " value=%g threshold=%g window=%s", a.value, a.threshold,
                format_rfc3339_utc(a.window_start_ms).c_str());
  return "[" + a.status + "] " + a.severity + " " + a.rule + key + buf;
}

} // namespace

window_stage_actor spawn_window_stage(caf::actor_system& sys, const window_stage_config& cfg) {
  auto behavior = [cfg](window_stage_actor::stateful_pointer<stage_state> self)
    -> window_stage_actor::behavior_type {
    auto& st = self->state;
    for (const auto& w : cfg.windows) st.engines.emplace_back(w);
    std::string error;
    st.rules = rule_engine::make(cfg.rules, cfg.node, error);
    if (!st.rules) spdlog::error("window stage: {}", error);  // check-config catches this first

    // Closed results go to their sinks; each closed window instance is
    // shown to the rules once, with all its groups.
    auto publish = [self, cfg](size_t engine, int64_t now) {
      auto& st = self->state;
      const std::string& name = cfg.windows[engine].name;
      std::vector<std::string> lines;
      for (size_t i = 0; i < st.closed.size();) {
        size_t j = i;
        std::vector<const window_result*> same;
        while (j < st.closed.size() && st.closed[j].start_ms == st.closed[i].start_ms)
          same.push_back(&st.closed[j++]);
        if (st.rules) st.rules->on_close(name, st.closed[i].start_ms, same, now, st.alerts);
        i = j;
      }
      // JSON only for windows a sink reads.
      for (const auto& [window, out] : cfg.window_sinks) {
        if (window != name || st.closed.empty()) continue;
        if (lines.empty())
          for (const auto& r : st.closed) lines.push_back(to_json(r));
        self->send(out.sink, write_atom_v, lines);
      }
      st.closed.clear();
    };
    auto send_alerts = [self, cfg] {
      auto& st = self->state;
      if (st.alerts.empty()) return;
      for (const auto& out : cfg.alert_sinks) {
        std::vector<std::string> lines;
        for (const auto& a : st.alerts) lines.push_back(out.readable ? readable(a) : to_json(a));
        self->send(out.sink, write_atom_v, std::move(lines));
      }
      st.alerts.clear();
    };

    return {
      [=](ingest_atom, const event_batch& b) -> caf::result<uint64_t> {
        auto& st = self->state;
        try {
          // Alerts of one batch leave together: one wall-clock reading for all.
          const int64_t now = wall_ms();
          for (const log_event& ev : b.events) {
            window_event e;
            e.time_ms = ev.time_ms;
            e.status = ev.status;
            e.bytes = ev.bytes;
            e.request_time_us = ev.has(event_flags::has_request_time) ? ev.request_time_us : -1;
            e.ip = b.view(ev.client);
            e.path = b.path(ev);
            e.method = b.view(ev.method);
            e.host = b.view(ev.vhost);
            e.protocol = b.view(ev.protocol);
            e.user_agent = b.view(ev.user_agent);
            e.referer = b.view(ev.referer);
            e.classes = ev.classes;
            for (size_t i = 0; i < st.engines.size(); ++i) {
              st.engines[i].add(e, st.closed);
              if (!st.closed.empty()) publish(i, now);
              if (st.rules)
                for (const auto& g : st.engines[i].touched())
                  st.rules->on_change(cfg.windows[i].name, g.start_ms, g.end_ms, *g.group, *g.metrics,
                                      e.time_ms, now, st.alerts);
            }
          }
          send_alerts();
        } catch (const std::exception& ex) {
          return caf::make_error(caf::sec::runtime_error, std::string("window stage: ") + ex.what());
        }
        return static_cast<uint64_t>(b.events.size());
      },
      [=](flush_atom, bool close_windows) -> caf::result<bool> {
        auto& st = self->state;
        if (close_windows) {
          const int64_t now = wall_ms();
          for (size_t i = 0; i < st.engines.size(); ++i) {
            st.engines[i].flush(st.closed);
            publish(i, now);
          }
          send_alerts();
        }
        // Sinks handle messages in order: a flush reply means all lines sent
        // before it are written.
        auto rp = self->make_response_promise<bool>();
        auto pending = std::make_shared<size_t>(cfg.alert_sinks.size() + cfg.window_sinks.size());
        if (*pending == 0) {
          rp.deliver(true);
          return rp;
        }
        auto done = [rp, pending](bool) mutable {
          if (--*pending == 0) rp.deliver(true);
        };
        for (const auto& out : cfg.alert_sinks)
          self->request(out.sink, caf::infinite, flush_atom_v).then(done, [done](caf::error&) mutable { done(false); });
        for (const auto& [w, out] : cfg.window_sinks)
          self->request(out.sink, caf::infinite, flush_atom_v).then(done, [done](caf::error&) mutable { done(false); });
        return rp;
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
