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

/// A source's batches: the enrich stages deliver them out of order (one
/// chain per parse worker); they leave in order, so the aggregator sees a
/// missing one as a gap.
struct source_stream {
  sequence_order<waiting_batch> order;
  /// Sent, not yet acked: the enrich stage's credit waits on these.
  std::map<uint64_t, std::pair<caf::typed_response_promise<uint64_t>, uint64_t>> unacked;
  bool ended = false;  // the end marker waits for the early batches
  bool end_sent = false;
};

struct uplink_state {
  std::map<std::string, source_stream> streams;
  std::deque<std::string> unsent;  // frames the link could not queue yet
  bool retrying = false;
  std::unique_ptr<partial_collector> collector;  // with pre-aggregation
  uint64_t frames = 0, retries = 0;
  static inline const char* name = "uplink";
};

constexpr auto retry_interval = std::chrono::milliseconds(200);

} // namespace

uplink_actor spawn_uplink(caf::actor_system& sys, const uplink_config& cfg) {
  auto behavior = [cfg](uplink_actor::stateful_pointer<uplink_state> self) -> uplink_actor::behavior_type {
    // Frames leave in order: once one could not be queued, the ones after
    // it wait behind it.
    auto push = [self, cfg](std::string body) {
      auto& st = self->state;
      ++st.frames;
      if (st.unsent.empty() && cfg.link->send(cfg.aggregator, frame_type::events, body, std::chrono::milliseconds(0)))
        return;
      st.unsent.push_back(std::move(body));
      if (!st.retrying) {
        st.retrying = true;
        self->delayed_send(self, retry_interval, tick_atom_v);
      }
    };
    if (cfg.pre_aggregate) self->state.collector = std::make_unique<partial_collector>(cfg.windows, cfg.label_names);
    auto send_batch = [self, cfg, push](source_stream& s, waiting_batch& w) {
      const size_t event_count = w.batch.events.size();
      if (auto& collector = self->state.collector) {
        w.batch.partials = collector->collect(w.batch);
        if (!collector->needs_events()) {
          w.batch.events.clear();
          w.batch.text.clear();
          w.batch.labels.clear();
        }
      }
      events_message m;
      m.epoch = cfg.epoch;
      m.barrier = w.batch.barrier;
      m.partials = w.batch.partials;
      const std::string encoded = encode_event_batch(w.batch);
      m.batch = encoded;
      m.quarantined = std::move(w.batch.quarantined);
      s.unacked.emplace(w.batch.sequence, std::make_pair(w.reply, event_count));
      push(encode(m));
    };
    auto send_end = [self, cfg, push](const std::string& source, source_stream& s) {
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
      push(encode(m));
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
      [=](ack_atom, const std::string& source, uint64_t sequence) {
        auto& s = self->state.streams[source];
        auto it = s.unacked.find(sequence);
        if (it == s.unacked.end()) return;  // a repeat: already credited
        it->second.first.deliver(it->second.second);
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
        while (!st.unsent.empty()) {
          if (!cfg.link->send(cfg.aggregator, frame_type::events, st.unsent.front(), std::chrono::milliseconds(0))) {
            if (++st.retries == 1 || st.retries % 100 == 0)
              spdlog::warn("uplink: {} frames wait for {} to take them (its queue is full or it is away)",
                           st.unsent.size(), cfg.aggregator);
            st.retrying = true;
            self->delayed_send(self, retry_interval, tick_atom_v);
            return;
          }
          st.unsent.pop_front();
        }
      },
      [=](flush_atom, bool) -> bool { return true; },
      [=](checkpoint_atom, uint64_t) {},
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
