#include "actors/file_source.hpp"

#include <thread>

#include <chrono>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "flow/chunk_outbox.hpp"
#include "state/source_state.hpp"
#include "actors/parse_stage.hpp"
#include "tail/source_access.hpp"

namespace vigil {

namespace {

struct source_state {
  std::unique_ptr<file_follower> follower;
  std::unique_ptr<chunk_outbox> outbox;
  std::map<std::string, log_format> formats;  // per file, when sniffed
  uint64_t bytes = 0;
  int quiet_polls = 0;
  bool stopping = false;
  bool once = false;
  bool said_limit = false;  // more files match than may be open: said once
  /// While no file is followed: why, when it was last looked at and said.
  std::string access_problem;
  std::chrono::steady_clock::time_point access_checked, access_said;
  static inline const char* name = "file_source";
};

} // namespace

source_actor spawn_file_source(caf::actor_system& sys, const file_source_config& cfg) {
  auto behavior = [cfg](source_actor::stateful_pointer<source_state> self)
    -> source_actor::behavior_type {
    auto& st = self->state;
    st.follower = std::make_unique<file_follower>(cfg.tail);
    st.outbox = std::make_unique<chunk_outbox>(cfg.name, cfg.credit);
    std::string error;
    for (const auto& pos : cfg.resume)
      spdlog::info("source {}: resuming {} at offset {}", cfg.name, pos.path, pos.offset);
    if (!st.follower->start(error, cfg.resume)) spdlog::error("source {}: {}", cfg.name, error);
    // A source that has nothing to follow says why (a typo in the path, a
    // directory, a FIFO): when that changes, and every minute while it
    // lasts, rather than waiting without a word.
    auto say_access = [self, cfg] {
      using namespace std::chrono;
      auto& st = self->state;
      if (st.follower->files() > 0) {
        if (cfg.tally && !st.access_problem.empty()) cfg.tally->set_access_problem("");
        st.access_problem.clear();
        return;
      }
      const auto now = steady_clock::now();
      if (now - st.access_checked < seconds(1)) return;  // a directory read a second at most
      st.access_checked = now;
      std::string problem = source_access_problem(cfg.tail.pattern);
      if (cfg.tally && problem != st.access_problem) cfg.tally->set_access_problem(problem);
      if (!problem.empty() && (problem != st.access_problem || now - st.access_said >= minutes(1))) {
        spdlog::warn("source {}: {}; waiting", cfg.name, problem);
        st.access_said = now;
      }
      st.access_problem = std::move(problem);
    };
    say_access();

    // Answers run/stop once nothing is left to hand on; a run (--once) also
    // waits for two quiet polls: the files are read to their end.
    auto maybe_finish = [self] {
      auto& st = self->state;
      if (st.once && !st.stopping && st.quiet_polls < 2) return;
      st.outbox->finish_if_drained(st.bytes);
    };
    auto dispatch = [self, cfg, maybe_finish] {
      self->state.outbox->dispatch(self, cfg.next, [self, maybe_finish](bool ok) {
        if (ok) self->send(self, tick_atom_v);
        maybe_finish();
      });
    };
    // A read chunk as the parse stage takes it; the format is sniffed once per file.
    auto to_text_chunk = [self, cfg](tail_chunk& c) {
      auto& st = self->state;
      auto it = st.formats.find(c.path);
      if (it == st.formats.end())
        it = st.formats.emplace(c.path, cfg.format == log_format::auto_detect ? sniff_log_format(c.text)
                                                                              : cfg.format).first;
      text_chunk chunk;
      chunk.offset = c.offset;
      chunk.format = it->second;
      chunk.text = std::move(c.text);
      chunk.origin = c.path;
      return chunk;
    };

    return {
      [=](tick_atom) {
        auto& st = self->state;
        if (st.stopping) {  // read no more; what was read still goes on
          dispatch();
          return;
        }
        if (!st.outbox->has_credit()) return;  // a reply will tick again
        if (cfg.paused && cfg.paused->load()) {
          // Checkpoints cannot be written: read nothing, look again soon.
          std::this_thread::sleep_for(std::chrono::milliseconds(st.once ? 20 : 100));
          self->send(self, tick_atom_v);
          return;
        }
        // Read more only once what was read went on: a poll can read many
        // megabytes, and each reply ticks (this bounds memory to one poll).
        if (st.outbox->has_waiting()) {
          dispatch();
          return;
        }
        std::vector<tail_chunk> chunks;
        size_t n = st.follower->poll(chunks);
        if (cfg.tally) cfg.tally->lag_bytes = st.follower->unread_bytes();
        st.bytes += n;
        for (auto& c : chunks) st.outbox->push(to_text_chunk(c));
        dispatch();
        for (const auto& problem : st.follower->take_problems()) spdlog::error("source {}: {}", cfg.name, problem);
        if (st.follower->unopened() > 0 && !st.said_limit) {
          st.said_limit = true;
          spdlog::warn("source {}: more files match {} than may be open at once ({}): the others wait their turn, "
                       "oldest first", cfg.name, cfg.tail.pattern, cfg.tail.max_open_files);
        }
        if (n == 0 && st.follower->unopened() == 0) {
          say_access();
          ++st.quiet_polls;
          maybe_finish();
          // Nothing new: wait for inotify (this actor has its own thread).
          st.follower->wait(std::chrono::milliseconds(st.once ? 5 : 50));
        } else {
          st.quiet_polls = 0;  // read something, or files still wait to be opened
        }
        if (!st.outbox->has_waiting() && st.outbox->has_credit()) self->send(self, tick_atom_v);
      },
      [=](run_atom) -> caf::result<uint64_t> {
        self->state.once = true;
        auto rp = self->state.outbox->await_drained(self);
        self->send(self, tick_atom_v);
        return rp;
      },
      [=](stop_atom) -> caf::result<uint64_t> {
        auto& st = self->state;
        st.stopping = true;
        // What was read goes on: the final checkpoint's positions count it.
        auto rp = st.outbox->await_drained(self);
        dispatch();
        maybe_finish();
        return rp;
      },
      [=](checkpoint_atom, uint64_t id) -> state_part {
        auto& st = self->state;
        // The positions count every line read, and every line read is
        // queued ahead of the barrier: the part and the barrier agree.
        state_part part{id, state_kind::source, "source:" + cfg.name,
                        encode_tail_positions(st.follower->positions())};
        st.outbox->push_barrier(id, cfg.format);
        dispatch();
        return part;
      },
    };
  };
  return sys.spawn<caf::detached>(behavior);
}

} // namespace vigil
