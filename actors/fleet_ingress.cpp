#include "actors/fleet_ingress.hpp"

#include <map>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/remote_source.hpp"
#include "messages/cluster_message.hpp"
#include "parse/timestamp.hpp"
#include "metrics/fleet_tally.hpp"
#include "transport/node_link.hpp"

namespace vigil {

namespace {

struct ingress_state {
  std::map<std::string, uint64_t> next;  // by stream: the sequence expected
  std::set<std::string> ended;
  uint64_t stale = 0;
  bool lost = false;
  static inline const char* name = "fleet_ingress";
};

} // namespace

fleet_ingress_actor spawn_fleet_ingress(caf::actor_system& sys, const fleet_ingress_config& cfg) {
  auto behavior = [cfg](fleet_ingress_actor::stateful_pointer<ingress_state> self)
    -> fleet_ingress_actor::behavior_type {
    for (const auto& s : cfg.streams) self->state.next[s] = 0;
    auto lose = [self, cfg](const std::string& why) {
      if (self->state.lost) return;
      self->state.lost = true;
      cfg.lost(why);
    };
    return {
      [=](ingest_atom, const std::string& agent, const std::string& body) {
        auto& st = self->state;
        if (st.lost) return;
        member_tally* member = cfg.fleet ? cfg.fleet->of(agent) : nullptr;
        if (member_tally* t = member) {
          ++t->batches;
          t->bytes += body.size();
          t->last_batch_ms = wall_clock_ms();
        }
        auto m = decode_events(body);
        if (!m) {
          lose("an events frame from " + agent + " does not decode: " + to_string(m.error()));
          return;
        }
        if (m->epoch != cfg.epoch) {  // sent before this session began
          if (++st.stale == 1) spdlog::debug("aggregator: dropping frames of an earlier session from {}", agent);
          return;
        }
        auto batch = decode_event_batch(m->batch.data(), m->batch.size(), cfg.limits);
        if (!batch) {
          lose("a batch from " + agent + " does not decode: " + to_string(batch.error()));
          return;
        }
        const std::string local = batch->source;
        const std::string stream = stream_name(agent, local);
        auto expected = st.next.find(stream);
        if (expected == st.next.end()) {
          spdlog::warn("aggregator: {} sent source {}, which it does not have in the cluster config: dropped",
                       agent, local);
          return;
        }
        if (batch->sequence != expected->second) {
          lose(stream + ": batch " + std::to_string(expected->second) + " missing (got "
               + std::to_string(batch->sequence) + ")");
          return;
        }
        if (m->last) {
          st.ended.insert(stream);
          spdlog::info("aggregator: {} read to its end ({} batches)", stream, expected->second);
          if (st.ended.size() == st.next.size()) cfg.all_ended();
          return;
        }
        ++expected->second;
        const uint64_t sequence = batch->sequence;
        batch->source = stream;
        batch->barrier = m->barrier;
        batch->quarantined = std::move(m->quarantined);
        batch->partials.assign(m->partials);
        if (batch->events.empty() && batch->records.empty()) batch->summarized = m->events;
        if (member) member->events += m->events;
        self->request(cfg.windows, caf::infinite, ingest_atom_v, std::move(*batch))
          .then(
            [=](uint64_t) {
              cfg.link->send(agent, frame_type::ack, encode(ack_message{cfg.epoch, local, sequence}),
                             std::chrono::milliseconds(100));
            },
            [=](caf::error& err) { lose(stream + ": the window stage failed: " + to_string(err)); });
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
