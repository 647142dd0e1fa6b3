#include "actors/uplink.hpp"

#include <chrono>
#include <deque>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "flow/sequence_order.hpp"
#include "messages/cluster_message.hpp"
#include "messages/event_codec.hpp"
#include "transport/node_link.hpp"
#include "window/window_partials.hpp"

namespace vigil {

namespace {

struct waiting_batch {
  event_batch batch;
  caf::typed_response_promise<uint64_t> reply;
};

/// Sent, not acked by every aggregator yet: the enrich stage's credit waits.
struct unacked_batch {
  caf::typed_response_promise<uint64_t> reply;
  uint64_t events = 0;
  std::vector<bool> acked;  // per aggregator
  size_t missing = 0;
};

/// A source's batches: the enrich stages deliver them out of order (one
/// chain per parse worker); they leave in order, so an aggregator sees a
/// missing one as a gap.
struct source_stream {
  sequence_order<waiting_batch> order;
  std::map<uint64_t, unacked_batch> unacked;
  bool ended = false;  // the end marker waits for the early batches
  bool end_sent = false;
};

/// Frames for one aggregator that its link could not queue yet: they
/// leave in order, so the ones after wait behind them.
struct outbox {
  std::deque<std::string> unsent;
  uint64_t retries = 0;
};

struct uplink_state {
  std::map<std::string, source_stream> streams;
  std::vector<outbox> outboxes;  // per aggregator
  bool retrying = false;
  std::unique_ptr<partial_collector> collector;  // with pre-aggregation
  static inline const char* name = "uplink";
};

constexpr auto retry_interval = std::chrono::milliseconds(200);

} // namespace

uplink_actor spawn_uplink(caf::actor_system& sys, const uplink_config& cfg) {
  auto behavior = [cfg](uplink_actor::stateful_pointer<uplink_state> self) -> uplink_actor::behavior_type {
    const size_t fleet = cfg.aggregators.size();
    self->state.outboxes.resize(fleet);
    auto push = [self, cfg](size_t to, std::string body) {
      auto& st = self->state;
      auto& box = st.outboxes[to];
      if (box.unsent.empty() &&
          cfg.link->send(cfg.aggregators[to], frame_type::events, body, std::chrono::milliseconds(0)))
        return;
      box.unsent.push_back(std::move(body));
      if (!st.retrying) {
        st.retrying = true;
        self->delayed_send(self, retry_interval, tick_atom_v);
      }
    };
    if (cfg.pre_aggregate) self->state.collector = std::make_unique<partial_collector>(cfg.windows, cfg.label_names);
    // Every aggregator gets every batch, even one with nothing of its
    // partition: the batch carries the source's sequence, its barrier and
    // its event time, which each aggregator's windows and checkpoints need.
    auto send_batch = [self, cfg, push, fleet](source_stream& s, waiting_batch& w) {
      const size_t event_count = w.batch.events.size();
      const uint64_t stands_for = event_count + w.batch.records.records();
      std::vector<std::string> partials;
      if (auto& collector = self->state.collector) {
        partials = collector->collect(w.batch, fleet);
        if (!collector->needs_events() && w.batch.records.empty()) {  // records point into the text
          w.batch.events.clear();
          w.batch.text.clear();
          w.batch.labels.clear();
        }
      }
      const std::string encoded = encode_event_batch(w.batch);
      s.unacked.emplace(w.batch.sequence, unacked_batch{w.reply, event_count, std::vector<bool>(fleet), fleet});
      for (size_t to = 0; to < fleet; ++to) {
        events_message m;
        m.epoch = cfg.epoch;
        m.barrier = w.batch.barrier;
        if (!partials.empty()) m.partials = partials[to];
        m.batch = encoded;
        m.events = stands_for;
        if (to == 0) m.quarantined = std::move(w.batch.quarantined);
        push(to, encode(m));
      }
    };
    auto send_end = [self, cfg, push, fleet](const std::string& source, source_stream& s) {
      if (s.end_sent) return;
      s.end_sent = true;
      event_batch marker;
      marker.source = source;
      marker.sequence = s.order.next();
      const std::string encoded = encode_event_batch(marker);
      events_message m;
      m.epoch = cfg.epoch;
      m.batch = encoded;
      m.last = true;
      const std::string body = encode(m);
      for (size_t to = 0; to < fleet; ++to) push(to, body);
      spdlog::info("uplink: source {} read to its end; {} batches sent", source, s.order.next());
    };
    return {
      [=](ingest_atom, event_batch& b) -> caf::result<uint64_t> {
        const std::string source = b.source;
        const uint64_t sequence = b.sequence;
        auto& s = self->state.streams[source];
        auto rp = self->make_response_promise<uint64_t>();
        s.order.take(sequence, waiting_batch{std::move(b), rp}, [&](waiting_batch& w) { send_batch(s, w); });
        if (s.ended && !s.order.holding()) send_end(source, s);
        return rp;
      },
      [=](ack_atom, const std::string& source, uint64_t sequence, const std::string& from) {
        auto& s = self->state.streams[source];
        auto it = s.unacked.find(sequence);
        if (it == s.unacked.end()) return;
        size_t to = 0;
        while (to < fleet && cfg.aggregators[to] != from) ++to;
        auto& u = it->second;
        if (to == fleet || u.acked[to]) return;  // a stranger's, or a repeat
        u.acked[to] = true;
        if (--u.missing > 0) return;
        u.reply.deliver(u.events);
        s.unacked.erase(it);
      },
      [=](end_atom, const std::string& source) {
        auto& s = self->state.streams[source];
        s.ended = true;
        if (!s.order.holding()) send_end(source, s);
      },
      [=](tick_atom) {
        auto& st = self->state;
        st.retrying = false;
        for (size_t to = 0; to < fleet; ++to) {
          auto& box = st.outboxes[to];
          while (!box.unsent.empty()) {
            if (!cfg.link->send(cfg.aggregators[to], frame_type::events, box.unsent.front(),
                                std::chrono::milliseconds(0))) {
              if (++box.retries == 1 || box.retries % 100 == 0)
                spdlog::warn("uplink: {} frames wait for {} to take them (its queue is full or it is away)",
                             box.unsent.size(), cfg.aggregators[to]);
              break;
            }
            box.unsent.pop_front();
          }
          if (!box.unsent.empty() && !st.retrying) {
            st.retrying = true;
            self->delayed_send(self, retry_interval, tick_atom_v);
          }
        }
      },
      [=](flush_atom, bool) -> bool { return true; },
      [=](checkpoint_atom, uint64_t) {},
      [=](close_atom) {},  // an agent's engines collect: they close nothing
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
