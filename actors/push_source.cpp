#include "actors/push_source.hpp"

#include <deque>
#include <map>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "flow/chunk_outbox.hpp"
#include "messages/errc.hpp"
#include "state/source_state.hpp"

namespace vigil {

namespace {

struct waiting_ack {
  caf::typed_response_promise<uint64_t> reply;
  uint64_t taken = 0;
  uint64_t after = 0;  // acknowledged once a checkpoint after this one is stored
};

struct push_state {
  std::unique_ptr<chunk_outbox> outbox;
  std::map<uint64_t, caf::typed_response_promise<uint64_t>> replies;  // by chunk sequence
  std::deque<waiting_ack> unacked;   // ack_checkpoint: taken, waiting for a checkpoint
  uint64_t requests = 0, bytes = 0;
  uint64_t last_barrier = 0;         // the newest checkpoint barrier queued
  bool stopping = false;
  static inline const char* name = "push_source";
};

} // namespace

push_source_actor spawn_push_source(caf::actor_system& sys, const push_source_config& cfg) {
  auto behavior = [cfg](push_source_actor::stateful_pointer<push_state> self) -> push_source_actor::behavior_type {
    self->state.outbox = std::make_unique<chunk_outbox>(cfg.name, cfg.credit);
    auto maybe_finish = [self] {
      auto& st = self->state;
      if (st.stopping) st.outbox->finish_if_drained(st.bytes);
    };
    // reply_when_sent: the requests whose chunks went to a parse stage.
    auto answer_sent = [self, cfg] {
      auto& st = self->state;
      if (!cfg.reply_when_sent) return;
      const uint64_t first_waiting = st.outbox->first_waiting();
      for (auto it = st.replies.begin(); it != st.replies.end() && it->first < first_waiting;) {
        it->second.deliver(uint64_t{0});
        it = st.replies.erase(it);
      }
    };
    auto dispatch = [self, cfg, maybe_finish, answer_sent] {
      self->state.outbox->dispatch(self, cfg.next, [self, cfg, maybe_finish](bool ok, uint64_t sequence, uint64_t taken) {
        auto& st = self->state;
        auto it = st.replies.find(sequence);
        if (it != st.replies.end()) {
          if (!ok) {
            it->second.deliver(caf::make_error(errc::unavailable, "the pipeline did not take the events"));
          } else if (cfg.ack_checkpoint) {
            // In the pipeline, before the next barrier: the checkpoint after
            // the newest one queued holds them.
            st.unacked.push_back({it->second, taken, st.last_barrier});
          } else {
            it->second.deliver(taken);
          }
          st.replies.erase(it);
        }
        self->send(self, tick_atom_v);
        maybe_finish();
      });
      answer_sent();
    };
    return {
      [=](tick_atom) { dispatch(); },
      [=](ingest_atom, std::string& lines) -> caf::result<uint64_t> {
        auto& st = self->state;
        if (st.stopping) return caf::make_error(errc::unavailable, "the node is stopping");
        if (cfg.paused && cfg.paused->load())
          return caf::make_error(errc::unavailable, "the node's state dir is full: no checkpoint can be written");
        if (st.outbox->waiting() >= cfg.max_waiting || st.unacked.size() >= cfg.max_unacked)
          return caf::make_error(errc::busy, "the pipeline is busy");
        auto rp = self->make_response_promise<uint64_t>();
        text_chunk chunk;
        chunk.offset = st.bytes;
        chunk.format = log_format::json;
        chunk.origin = cfg.origin;
        st.bytes += lines.size();
        ++st.requests;
        chunk.text = std::move(lines);
        st.replies.emplace(st.outbox->next_sequence(), rp);
        st.outbox->push(std::move(chunk));
        dispatch();
        return rp;
      },
      [=](run_atom) -> caf::result<uint64_t> {
        // Pushed input never ends by itself: run answers at stop.
        return self->state.outbox->await_drained(self);
      },
      [=](stop_atom) -> caf::result<uint64_t> {
        auto& st = self->state;
        st.stopping = true;
        auto rp = st.outbox->await_drained(self);
        dispatch();
        maybe_finish();
        return rp;
      },
      [=](checkpoint_atom, uint64_t id) -> state_part {
        auto& st = self->state;
        st.outbox->push_barrier(id, log_format::json);
        st.last_barrier = id;
        dispatch();
        // Nothing to seek on recovery: the part records how far it went.
        return state_part{id, state_kind::source, "source:" + cfg.name,
                          encode_tail_positions({tail_position{cfg.origin, {}, st.bytes}})};
      },
      [=](checkpoint_atom, uint64_t id, bool stored) {
        auto& st = self->state;
        while (!st.unacked.empty() && st.unacked.front().after < id) {
          if (stored) st.unacked.front().reply.deliver(st.unacked.front().taken);
          else st.unacked.front().reply.deliver(caf::make_error(errc::unavailable, "checkpoint failed: send again"));
          st.unacked.pop_front();
        }
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
