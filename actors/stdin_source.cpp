#include "actors/stdin_source.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include <poll.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "flow/chunk_outbox.hpp"
#include "state/source_state.hpp"

namespace vigil {

namespace {

struct stdin_state {
  std::string partial;            // bytes after the last newline
  bool cutting = false;           // inside a line past the cap: skip to its newline
  std::unique_ptr<chunk_outbox> outbox;
  uint64_t bytes = 0, lines_cut = 0, offset = 0;
  log_format format = log_format::auto_detect;
  bool closed = false, stopping = false;
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
    self->state.outbox = std::make_unique<chunk_outbox>(cfg.name, cfg.credit);
    // Answers run/stop once the input ended (or a stop came) and all went on.
    auto maybe_finish = [self] {
      auto& st = self->state;
      if (st.closed || st.stopping) st.outbox->finish_if_drained(st.bytes);
    };
    auto dispatch = [self, cfg, maybe_finish] {
      self->state.outbox->dispatch(self, cfg.next, [self, maybe_finish](bool ok) {
        if (ok) self->send(self, tick_atom_v);
        maybe_finish();
      });
    };
    // Whole lines as the parse stage takes them; the format is sniffed once.
    auto hand_on = [self, cfg](std::string lines) {
      auto& st = self->state;
      if (lines.empty()) return;
      if (st.format == log_format::auto_detect)
        st.format = cfg.format == log_format::auto_detect ? sniff_log_format(lines) : cfg.format;
      text_chunk chunk;
      chunk.offset = st.offset;
      chunk.format = st.format;
      chunk.origin = "-";
      st.offset += lines.size();
      chunk.text = std::move(lines);
      st.outbox->push(std::move(chunk));
    };
    return {
      [=](tick_atom) {
        auto& st = self->state;
        if (st.stopping || st.closed || !st.outbox->has_credit()) {
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
              hand_on(std::move(last));
            }
            spdlog::info("source {}: input closed after {} bytes ({} lines cut at {} bytes)", cfg.name,
                         st.bytes, st.lines_cut, cfg.max_line_bytes);
          } else if (n > 0) {
            st.bytes += static_cast<uint64_t>(n);
            std::string lines;
            split(st, buf.data(), static_cast<size_t>(n), cfg.max_line_bytes, lines);
            hand_on(std::move(lines));
          }
        }
        dispatch();
        maybe_finish();
        if (!st.closed && st.outbox->has_credit()) self->send(self, tick_atom_v);
      },
      [=](run_atom) -> caf::result<uint64_t> {
        auto rp = self->state.outbox->await_drained(self);
        self->send(self, tick_atom_v);
        return rp;
      },
      [=](stop_atom) -> caf::result<uint64_t> {
        self->state.stopping = true;
        auto rp = self->state.outbox->await_drained(self);
        dispatch();
        maybe_finish();
        return rp;
      },
      [=](checkpoint_atom, uint64_t id) -> state_part {
        // Standard input cannot be read again: the part only records how
        // far it went (recovery resumes files only).
        auto& st = self->state;
        st.outbox->push_barrier(id, st.format);
        dispatch();
        return state_part{id, state_kind::source, "source:" + cfg.name,
                          encode_tail_positions({tail_position{"-", {}, st.offset}})};
      },
    };
  };
  return sys.spawn<caf::detached>(behavior);
}

} // namespace vigil
