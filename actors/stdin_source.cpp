#include "actors/stdin_source.hpp"

#include <cerrno>
#include <cstring>
#include <deque>

#include <poll.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

struct stdin_state {
  std::string partial;            // bytes after the last newline
  bool cutting = false;           // inside a line past the cap: skip to its newline
  std::deque<std::string> ready;  // whole lines, waiting for credit
  size_t in_flight = 0;
  uint64_t bytes = 0, lines_cut = 0, sequence = 0, offset = 0;
  log_format format = log_format::auto_detect;
  bool closed = false, stopping = false;
  // run and stop requests waiting for everything read to go through
  std::vector<caf::typed_response_promise<uint64_t>> done;
  static inline const char* name = "stdin_source";
};

/// Splits fresh bytes into whole lines (appended to `out`), keeping the
/// partial tail, cutting lines over the cap (plus one byte, so the parser
/// reports them as too long).
void split(stdin_state& st, const char* data, size_t n, size_t cap, std::string& out) {
  for (size_t i = 0; i < n;) {
    const char* nl = static_cast<const char*>(std::memchr(data + i, '\n', n - i));
    size_t end = nl ? static_cast<size_t>(nl - data) : n;
    if (!st.cutting) {
      size_t room = cap + 1 > st.partial.size() ? cap + 1 - st.partial.size() : 0;
      size_t take = std::min(end - i, room);
      st.partial.append(data + i, take);
      if (take < end - i) {
        st.cutting = true;
        ++st.lines_cut;
      }
    }
    if (!nl) break;
    out += st.partial;
    out += '\n';
    st.partial.clear();
    st.cutting = false;
    i = end + 1;
  }
}

} // namespace

source_actor spawn_stdin_source(caf::actor_system& sys, const stdin_source_config& cfg) {
  auto behavior = [cfg](source_actor::stateful_pointer<stdin_state> self) -> source_actor::behavior_type {
    auto maybe_finish = [self] {
      auto& st = self->state;
      if (st.done.empty() || st.in_flight > 0 || !st.ready.empty()) return;
      if (!st.closed && !st.stopping) return;
      for (auto& rp : st.done) rp.deliver(st.bytes);
      st.done.clear();
    };
    auto dispatch = [self, cfg, maybe_finish] {
      auto& st = self->state;
      while (!st.ready.empty() && st.in_flight < cfg.credit) {
        text_chunk chunk;
        chunk.sequence = st.sequence++;
        chunk.offset = st.offset;
        chunk.text = std::move(st.ready.front());
        st.ready.pop_front();
        st.offset += chunk.text.size();
        if (st.format == log_format::auto_detect)
          st.format = cfg.format == log_format::auto_detect ? sniff_log_format(chunk.text) : cfg.format;
        chunk.format = st.format;
        chunk.origin = "-";
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
        if (st.stopping || st.closed || st.in_flight >= cfg.credit) {
          dispatch();  // an ack ticks again
          maybe_finish();
          return;
        }
        pollfd p{cfg.fd, POLLIN, 0};
        int r = ::poll(&p, 1, 50);
        if (r > 0) {
          std::string buf(cfg.chunk_bytes, '\0');
          ssize_t n = ::read(cfg.fd, buf.data(), buf.size());
          if (n < 0 && errno != EINTR && errno != EAGAIN) {
            spdlog::error("source {}: read failed: {}", cfg.name, std::strerror(errno));
            n = 0;
          }
          if (n == 0) {
            st.closed = true;
            if (!st.partial.empty() || st.cutting) {
              std::string last;
              split(st, "\n", 1, cfg.max_line_bytes, last);
              st.ready.push_back(std::move(last));
            }
            spdlog::info("source {}: input closed after {} bytes", cfg.name, st.bytes);
          } else if (n > 0) {
            st.bytes += static_cast<uint64_t>(n);
            std::string lines;
            split(st, buf.data(), static_cast<size_t>(n), cfg.max_line_bytes, lines);
            if (!lines.empty()) st.ready.push_back(std::move(lines));
          }
        }
        dispatch();
        maybe_finish();
        if (!st.closed && st.in_flight < cfg.credit) self->send(self, tick_atom_v);
      },
      [=](run_atom) -> caf::result<uint64_t> {
        auto& st = self->state;
        auto rp = self->make_response_promise<uint64_t>();
        st.done.push_back(rp);
        self->send(self, tick_atom_v);
        return rp;
      },
      [=](stop_atom) -> caf::result<uint64_t> {
        auto& st = self->state;
        st.stopping = true;
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
