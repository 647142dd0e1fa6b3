#include "state/checkpoint_writer.hpp"

#include <algorithm>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vigil {

checkpoint_writer::checkpoint_writer(std::shared_ptr<state_store> store, size_t keep, callback done)
  : store_(std::move(store)), keep_(keep), done_(std::move(done)), thread_([this] { run(); }) {}

checkpoint_writer::~checkpoint_writer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void checkpoint_writer::push(job j) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(j));
  }
  wake_.notify_one();
}

void checkpoint_writer::submit(checkpoint_info info, std::vector<state_part> parts) {
  push({job_kind::checkpoint, info, std::move(parts)});
}

void checkpoint_writer::stream(state_part piece) {
  job j{job_kind::piece, {}, {}};
  j.parts.push_back(std::move(piece));
  push(std::move(j));
}

void checkpoint_writer::discard(uint64_t id) {
  job j{job_kind::discard, {}, {}};
  j.info.id = id;
  push(std::move(j));
}

void checkpoint_writer::run() {
  // Linux: a thread's nice value is its own.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  for (;;) {
    job j;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, all written (streams not submitted go, with their files)
      j = std::move(jobs_.front());
      jobs_.pop_front();
    }
    switch (j.kind) {
      case job_kind::piece: take_piece(j.parts.front()); break;
      case job_kind::discard: drop_streams_through(j.info.id); break;
      case job_kind::checkpoint: write(j); break;
    }
  }
}

void checkpoint_writer::drop_streams_through(uint64_t id) {
  streams_.erase(std::remove_if(streams_.begin(), streams_.end(),
                                [&](const auto& s) { return !s || s->checkpoint() <= id; }),
                 streams_.end());
}

void checkpoint_writer::take_piece(state_part& piece) {
  if (stream_failed_for_ == piece.checkpoint) return;  // the rest of a failed part goes nowhere
  if (piece.checkpoint > 0) drop_streams_through(piece.checkpoint - 1);  // an older checkpoint's were abandoned with it
  auto it = std::find_if(streams_.begin(), streams_.end(), [&](const auto& s) {
    return s->checkpoint() == piece.checkpoint && s->participant() == piece.participant;
  });
  std::string error;
  auto fail = [&] {
    stream_failed_for_ = piece.checkpoint;
    stream_error_ = error;
    streams_.clear();
  };
  if (it == streams_.end()) {
    auto s = store_->begin_part(piece.checkpoint, piece.kind, piece.participant, error);
    if (!s) return fail();
    streams_.push_back(std::move(s));
    it = streams_.end() - 1;
  }
  if (!store_->append_part(**it, piece.bytes, error)) return fail();
  for (const auto& p : piece.tail)
    if (!store_->append_part(**it, p, error)) return fail();
}

void checkpoint_writer::write(job& j) {
  std::string error;
  bool ok = false;
  if (stream_failed_for_ == j.info.id) {
    error = stream_error_;
  } else {
    std::vector<std::unique_ptr<part_stream>> mine;
    for (auto& s : streams_)
      if (s->checkpoint() == j.info.id) mine.push_back(std::move(s));
    drop_streams_through(j.info.id);  // an older checkpoint's leftovers go too; a newer one's stay
    ok = store_->write_checkpoint(j.info, j.parts, error, std::move(mine));
  }
  if (ok) store_->prune(keep_);
  done_(j.info.id, ok, error);
}

} // namespace vigil
