#include "actors/checkpoint_coordinator.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "messages/errc.hpp"
#include "parse/timestamp.hpp"
#include "state/checkpoint_writer.hpp"
#include "state/state_store.hpp"

namespace vigil {

namespace {

struct coordinator_state {
  std::unique_ptr<checkpoint_writer> writer;
  std::vector<source_actor> sources;  // empty until run
  uint64_t next_id = 1;
  uint64_t in_progress = 0;  // 0: none
  int64_t started_ms = 0;
  std::vector<state_part> parts;
  // Parts of the one in progress sent in pieces, streamed to the writer.
  std::vector<std::string> streaming;  // participants with pieces in
  size_t streamed_parts = 0;           // of those, the ones whose last piece came
  uint64_t streamed_bytes = 0;
  uint64_t last_complete = 0;
  bool stopped = false;
  uint64_t final_id = 0;        // the final checkpoint of a stop, once begun
  bool final_wanted = false;    // begin it when the one in progress is done
  bool final_failed = false;    // it could not be written: the stop is answered with an error
  std::vector<caf::typed_response_promise<uint64_t>> stop_replies;
  static inline const char* name = "checkpoint_coordinator";
};

} // namespace

checkpoint_coordinator_actor spawn_checkpoint_coordinator(caf::actor_system& sys,
                                                          const checkpoint_coordinator_config& cfg) {
  auto behavior = [cfg](checkpoint_coordinator_actor::stateful_pointer<coordinator_state> self)
    -> checkpoint_coordinator_actor::behavior_type {
    self->state.next_id = cfg.next_id;
    self->state.last_complete = cfg.next_id - 1;
    // The writer reports back by message; a weak handle, so a writer
    // finishing after the actor is gone does not keep it alive.
    caf::weak_actor_ptr me = self->ctrl();
    // The writer's thread counts what it wrote into the tally; one is kept
    // even when nobody reads it: its failures in a row stop the node.
    auto tally = cfg.tally ? cfg.tally : std::make_shared<checkpoint_tally>();
    self->state.writer = std::make_unique<checkpoint_writer>(
      cfg.store, cfg.keep, [me, cfg, tally](uint64_t id, bool ok, const std::string& error) {
        if (!ok) spdlog::error("state dir {}: {}", cfg.store->dir(), error);
        (ok ? tally->written : tally->failed)++;
        tally->failing_in_a_row = ok ? 0 : tally->failing_in_a_row + 1;
        if (ok) tally->last_written_ms = wall_clock_ms();
        // A full disk is waited out: the intake stops (so sinks and
        // windows run no further ahead of the last checkpoint) and every
        // interval tries again, until space comes back.
        const bool no_space = !ok && is_no_space(error);
        if (cfg.intake_paused && no_space) {
          if (!cfg.intake_paused->exchange(true))
            spdlog::error("state dir {}: full: the sources read nothing more until a checkpoint can be written "
                          "(tried again every interval; /readyz says 503 meanwhile)",
                          cfg.store->dir());
          if (auto strong = me.lock())
            caf::anon_send(caf::actor_cast<checkpoint_coordinator_actor>(strong), checkpoint_atom_v, id, ok);
          return;
        }
        if (ok && cfg.intake_paused && cfg.intake_paused->exchange(false))
          spdlog::info("state dir {}: checkpoint {} written: the sources read on", cfg.store->dir(), id);
        if (tally->failing_in_a_row == cfg.failures_to_give_up && cfg.store_failed)
          cfg.store_failed("state dir " + cfg.store->dir() + ": " + std::to_string(tally->failing_in_a_row.load())
                           + " checkpoints in a row could not be written; the last: " + error);
        if (auto strong = me.lock())
          caf::anon_send(caf::actor_cast<checkpoint_coordinator_actor>(strong), checkpoint_atom_v, id, ok);
      });

    auto answer_stops = [self] {
      auto& st = self->state;
      for (auto& rp : st.stop_replies) {
        // A stop whose final checkpoint failed is no clean stop: the next
        // start replays from the one before, and the exit says so.
        if (st.final_failed)
          rp.deliver(caf::make_error(errc::input_failed, "the final checkpoint " + std::to_string(st.final_id)
                                                           + " could not be written (see above); the last complete "
                                                           "one is " + std::to_string(st.last_complete)));
        else
          rp.deliver(st.last_complete);
      }
      st.stop_replies.clear();
    };
    // Defined below; `written` starts a stop's final checkpoint with it.
    auto begin = std::make_shared<std::function<void()>>();
    // Every part is in: the writer thread stores them. The next checkpoint
    // starts only once this one is written (`written` below).
    auto complete = [self, cfg] {
      auto& st = self->state;
      checkpoint_info info;
      info.id = st.in_progress;
      info.time_ms = wall_clock_ms();
      info.parts = static_cast<uint32_t>(st.parts.size() + st.streamed_parts);
      info.bytes = st.streamed_bytes;
      for (const auto& p : st.parts) info.bytes += p.size();
      st.streaming.clear();
      st.streamed_parts = 0;
      st.streamed_bytes = 0;
      spdlog::debug("checkpoint {}: {} parts, {} bytes, all in after {} ms", info.id, info.parts, info.bytes,
                    info.time_ms - st.started_ms);
      if (cfg.tally) cfg.tally->last_bytes = info.bytes;
      st.writer->submit(info, std::move(st.parts));
      st.parts.clear();
    };
    auto written = [self, cfg, answer_stops, begin](uint64_t id, bool ok) {
      auto& st = self->state;
      if (ok && cfg.stored) cfg.stored(id);
      if (id != st.in_progress) return;
      if (ok) st.last_complete = id;
      if (ok && cfg.tally) {
        const int64_t took_ms = wall_clock_ms() - st.started_ms;
        cfg.tally->last_duration_ms = took_ms;
        cfg.tally->duration.observe(static_cast<double>(took_ms) / 1000.0);
        cfg.tally->size.observe(static_cast<double>(cfg.tally->last_bytes.load()));
      }
      spdlog::debug("checkpoint {}: {} {} ms after it started", id, ok ? "written" : "NOT written",
                    wall_clock_ms() - st.started_ms);
      const bool was_final = st.final_id != 0 && st.final_id == st.in_progress;
      if (was_final && !ok) st.final_failed = true;
      st.in_progress = 0;
      if (st.stopped) {
        if (st.final_wanted) {
          st.final_wanted = false;
          (*begin)();
          st.final_id = st.in_progress;
          if (st.in_progress != 0) return;
        }
        if (was_final || st.final_id == 0) answer_stops();
      }
    };
    *begin = [self] {
      auto& st = self->state;
      if (st.sources.empty()) return;
      st.in_progress = st.next_id++;
      st.started_ms = wall_clock_ms();
      const uint64_t id = st.in_progress;
      for (auto& src : st.sources)
        self->request(src, caf::infinite, checkpoint_atom_v, id)
          .then([self](state_part& part) { self->send(self, checkpoint_atom_v, std::move(part)); },
                [self, id](caf::error& err) {
                  spdlog::error("checkpoint {}: a source failed: {}", id, self->system().render(err));
                });
    };
    // The parts of an abandoned checkpoint go, streamed ones too.
    auto forget_parts = [self](uint64_t id) {
      auto& st = self->state;
      st.parts.clear();
      if (!st.streaming.empty()) st.writer->discard(id);
      st.streaming.clear();
      st.streamed_parts = 0;
      st.streamed_bytes = 0;
    };
    auto on_part = [self, cfg, complete, forget_parts](state_part& part) {
      auto& st = self->state;
      if (cfg.follows && part.checkpoint > std::max(st.in_progress, st.last_complete)) {
        if (st.in_progress != 0)
          spdlog::warn("checkpoint {}: abandoned with {} of {} parts: checkpoint {} began", st.in_progress,
                       st.parts.size(), cfg.participants.size(), part.checkpoint);
        forget_parts(st.in_progress);
        st.in_progress = part.checkpoint;
        st.started_ms = wall_clock_ms();
      }
      if (part.checkpoint != st.in_progress || st.in_progress == 0) return;  // abandoned
      if (std::none_of(cfg.participants.begin(), cfg.participants.end(),
                       [&](const std::string& p) { return p == part.participant; })) {
        spdlog::warn("checkpoint {}: part from unexpected participant {}", part.checkpoint, part.participant);
        return;
      }
      spdlog::trace("checkpoint {}: {} in after {} ms", part.checkpoint, part.participant,
                    wall_clock_ms() - st.started_ms);
      const bool streaming = std::find(st.streaming.begin(), st.streaming.end(), part.participant)
                             != st.streaming.end();
      if (part.more || streaming) {  // a piece, or the last of a part sent in pieces
        if (!streaming) st.streaming.push_back(part.participant);
        st.streamed_bytes += part.size();
        if (!part.more) ++st.streamed_parts;
        st.writer->stream(std::move(part));
      } else {
        st.parts.push_back(std::move(part));
      }
      if (st.parts.size() + st.streamed_parts == cfg.participants.size()) complete();
    };

    return {
      [=](run_atom, std::vector<source_actor>& sources) {
        auto& st = self->state;
        st.sources = std::move(sources);
        if (cfg.interval.count() > 0) self->delayed_send(self, cfg.interval, tick_atom_v);
      },
      [=](checkpoint_atom, state_part& part) mutable { on_part(part); },
      [=](checkpoint_atom, uint64_t id, bool ok) { written(id, ok); },
      [=](tick_atom) {
        auto& st = self->state;
        if (st.in_progress != 0 && wall_clock_ms() - st.started_ms > cfg.abandon_after.count()) {
          spdlog::warn("checkpoint {}: abandoned after {} ms with {} of {} parts", st.in_progress,
                       cfg.abandon_after.count(), st.parts.size() + st.streamed_parts, cfg.participants.size());
          forget_parts(st.in_progress);
          // As if it failed to write: a stop waiting on it is answered (or
          // its final checkpoint begins) rather than waiting for ever.
          written(st.in_progress, false);
        } else if (st.in_progress == 0 && !st.stopped) {
          (*begin)();
        }
        // Once stopped, only to abandon what is still in progress.
        if (!st.stopped || st.in_progress != 0) self->delayed_send(self, cfg.interval, tick_atom_v);
      },
      [=](stop_atom, bool final_checkpoint) -> caf::result<uint64_t> {
        auto& st = self->state;
        st.stopped = true;
        auto rp = self->make_response_promise<uint64_t>();
        st.stop_replies.push_back(rp);
        if (final_checkpoint && !st.sources.empty()) {  // sources are known once it runs
          if (st.in_progress == 0) {
            (*begin)();
            st.final_id = st.in_progress;
          } else {
            st.final_wanted = true;
          }
        }
        if (st.in_progress == 0) answer_stops();
        return rp;
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
