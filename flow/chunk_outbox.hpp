#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "messages/interfaces.hpp"

namespace vigil {

/// What a source has read and not yet handed on, and the credit that
/// bounds it: chunks wait here until fewer than `credit` are in flight to
/// the parse stage. Also holds the run/stop requests that wait for
/// everything read to have gone through. The same for every source type.
class chunk_outbox {
public:
  chunk_outbox(std::string source, size_t credit) : source_(std::move(source)), credit_(credit) {}

  /// Queues a chunk, numbering it in read order.
  void push(text_chunk chunk) {
    chunk.sequence = sequence_++;
    waiting_.push_back(std::move(chunk));
  }

  /// Queues checkpoint `id`'s barrier behind everything read so far. Its
  /// format is the source's (a barrier carries no lines; an undecided
  /// auto-detect reads as combined).
  void push_barrier(uint64_t id, log_format format) {
    text_chunk barrier;
    barrier.barrier = id;
    barrier.format = format == log_format::auto_detect ? log_format::combined : format;
    push(std::move(barrier));
  }

  bool has_waiting() const noexcept { return !waiting_.empty(); }
  /// The sequence number the next chunk pushed gets.
  uint64_t next_sequence() const noexcept { return sequence_; }
  bool has_credit() const noexcept { return in_flight_ < credit_; }
  /// Nothing waiting, nothing in flight.
  bool drained() const noexcept { return waiting_.empty() && in_flight_ == 0; }

  /// Hands waiting chunks to the parse stages while credit lasts, chunk
  /// `sequence` to stage `sequence % n` (the window stage restores the
  /// order); `on_reply(ok)` -- or `on_reply(ok, sequence, events taken)` --
  /// runs once per chunk when its stage answers.
  template <class Self, class F>
  void dispatch(Self* self, const std::vector<parse_stage_actor>& stages, F on_reply) {
    auto reply = [](F& f, bool ok, uint64_t sequence, uint64_t taken) {
      if constexpr (std::is_invocable_v<F, bool>) {
        (void) sequence;
        (void) taken;
        f(ok);
      } else {
        f(ok, sequence, taken);
      }
    };
    while (!waiting_.empty() && in_flight_ < credit_) {
      ++in_flight_;
      const uint64_t sequence = waiting_.front().sequence;
      const auto& next = stages[sequence % stages.size()];
      self->request(next, caf::infinite, parse_atom_v, std::move(waiting_.front()))
        .then(
          [this, on_reply, reply, sequence](uint64_t taken) mutable {
            --in_flight_;
            reply(on_reply, true, sequence, taken);
          },
          [this, on_reply, reply, self, sequence](caf::error& err) mutable {
            --in_flight_;
            spdlog::error("source {}: {}", source_, self->system().render(err));
            reply(on_reply, false, sequence, 0);
          });
      waiting_.pop_front();
    }
  }

  /// Chunks read and not yet handed on.
  size_t waiting() const noexcept { return waiting_.size(); }
  /// The sequence of the first chunk not handed on yet: every one before
  /// it is with a parse stage, or through.
  uint64_t first_waiting() const noexcept { return waiting_.empty() ? sequence_ : waiting_.front().sequence; }

  /// A run or stop request: answered by `finish`.
  template <class Self>
  caf::typed_response_promise<uint64_t> await_drained(Self* self) {
    done_.push_back(self->template make_response_promise<uint64_t>());
    return done_.back();
  }

  /// Answers the waiting run/stop requests with `bytes` once drained.
  void finish_if_drained(uint64_t bytes) {
    if (done_.empty() || !drained()) return;
    for (auto& rp : done_) rp.deliver(bytes);
    done_.clear();
  }

private:
  std::string source_;
  size_t credit_;
  size_t in_flight_ = 0;
  uint64_t sequence_ = 0;
  std::deque<text_chunk> waiting_;
  std::vector<caf::typed_response_promise<uint64_t>> done_;
};

} // namespace vigil
