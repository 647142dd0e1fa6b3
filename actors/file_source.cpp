#include "actors/file_source.hpp"

#include <deque>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

struct source_state {
  std::unique_ptr<file_follower> follower;
  std::deque<tail_chunk> pending;       // read, waiting for credit
  std::map<std::string, log_format> formats;  // per file, when sniffed
  size_t in_flight = 0;
  uint64_t bytes = 0;
  uint64_t sequence = 0;
  int quiet_polls = 0;
  bool stopping = false;
  bool once = false;
  // run and stop requests waiting for everything read to go through
  std::vector<caf::typed_response_promise<uint64_t>> done;
  static inline const char* name = "file_source";
};

} // namespace

source_actor spawn_file_source(caf::actor_system& sys, const file_source_config& cfg) {
  auto behavior = [cfg](source_actor::stateful_pointer<source_state> self)
    -> source_actor::behavior_type {
    self->state.follower = std::make_unique<file_follower>(cfg.tail);
    std::string error;
    if (!self->state.follower->start(error)) spdlog::error("source {}: {}", cfg.name, error);

    // Delivers the run/stop reply once nothing is left to hand on.
    auto maybe_finish = [self] {
      auto& st = self->state;
      if (st.done.empty() || st.in_flight > 0 || !st.pending.empty()) return;
      if (st.once && !st.stopping && st.quiet_polls < 2) return;
      for (auto& rp : st.done) rp.deliver(st.bytes);
      st.done.clear();
    };
    // Hands on pending chunks while there is credit.
    auto dispatch = [self, cfg, maybe_finish] {
      auto& st = self->state;
      while (!st.pending.empty() && st.in_flight < cfg.credit) {
        tail_chunk c = std::move(st.pending.front());
        st.pending.pop_front();
        text_chunk chunk;
        chunk.sequence = st.sequence++;
        chunk.offset = c.offset;
        auto it = st.formats.find(c.path);
        if (it == st.formats.end())
          it = st.formats.emplace(c.path, cfg.format == log_format::auto_detect
                                            ? sniff_log_format(c.text) : cfg.format).first;
        chunk.format = it->second;
        chunk.text = std::move(c.text);
        chunk.origin = c.path;
        ++st.in_flight;
        self->request(cfg.next, caf::infinite, parse_atom_v, std::move(chunk))
          .then(
            [self, maybe_finish](uint64_t) {
              --self->state.in_flight;
              self->send(self, tick_atom_v);
              maybe_finish();
            },
            [self, cfg, maybe_finish](caf::error& err) {
              --self->state.in_flight;
              spdlog::error("source {}: {}", cfg.name, self->system().render(err));
              maybe_finish();
            });
      }
    };

    return {
      [=](tick_atom) {
        auto& st = self->state;
        if (st.stopping) return;
        if (st.in_flight >= cfg.credit) return;  // an ack will tick again
        // Read more only once what was read went on: a poll can read many
        // megabytes, and each ack ticks (this bounds memory to one poll).
        if (!st.pending.empty()) {
          dispatch();
          return;
        }
        std::vector<tail_chunk> chunks;
        size_t n = st.follower->poll(chunks);
        st.bytes += n;
        for (auto& c : chunks) st.pending.push_back(std::move(c));
        dispatch();
        if (n == 0) {
          ++st.quiet_polls;
          maybe_finish();
          // Nothing new: wait for inotify (this actor has its own thread).
          st.follower->wait(std::chrono::milliseconds(st.once ? 5 : 50));
        } else {
          st.quiet_polls = 0;
        }
        if (st.pending.empty() && st.in_flight < cfg.credit) self->send(self, tick_atom_v);
      },
      [=](run_atom) -> caf::result<uint64_t> {
        auto& st = self->state;
        st.once = true;
        auto rp = self->make_response_promise<uint64_t>();
        st.done.push_back(rp);
        self->send(self, tick_atom_v);
        return rp;
      },
      [=](stop_atom) -> caf::result<uint64_t> {
        auto& st = self->state;
        st.stopping = true;
        st.pending.clear();  // not handed on: the checkpoint offsets will re-read them
        auto rp = self->make_response_promise<uint64_t>();
        st.done.push_back(rp);
        maybe_finish();
        return rp;
      },
    };
  };
  return sys.spawn<caf::detached>(behavior);
}

} // namespace vigil
