#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "messages/checkpoint.hpp"
#include "state/state_store.hpp"

namespace vigil {

/// Writes complete checkpoints on a thread of its own, at a lowered CPU
/// priority: a checkpoint of megabytes (sealing, the table files, pruning)
/// then never holds a scheduler thread the pipeline needs, and on a busy
/// machine the pipeline goes first. Measured: writing on an actor thread
/// pushed the append-to-alert p99 from 40 ms to 230 ms.
class checkpoint_writer {
public:
  /// `done(id, ok, error)` runs on the writer thread after each write.
  using callback = std::function<void(uint64_t id, bool ok, const std::string& error)>;

  checkpoint_writer(std::shared_ptr<state_store> store, size_t keep, callback done);
  ~checkpoint_writer();  ///< writes what was submitted, then joins
  checkpoint_writer(const checkpoint_writer&) = delete;
  checkpoint_writer& operator=(const checkpoint_writer&) = delete;

  void submit(checkpoint_info info, std::vector<state_part> parts);
  /// A piece of a part written as it is made (its bytes, then its tail),
  /// appended to the part's table file on the writer's thread; the part
  /// is then stored with the `submit` of its checkpoint.
  void stream(state_part piece);
  /// Drops what was streamed for checkpoint `id` (abandoned).
  void discard(uint64_t id);

private:
  enum class job_kind { checkpoint, piece, discard };
  struct job {
    job_kind kind = job_kind::checkpoint;
    checkpoint_info info;
    std::vector<state_part> parts;
  };
  void push(job j);
  void run();
  void take_piece(state_part& piece);
  /// Drops the streamed parts of checkpoints up to `id` (and moved-out ones).
  void drop_streams_through(uint64_t id);
  void write(job& j);

  std::shared_ptr<state_store> store_;
  size_t keep_;
  callback done_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> jobs_;
  bool stopping_ = false;
  // The writer thread's only: the parts being streamed, and why streaming
  // failed (the checkpoint is then reported failed, with that reason).
  std::vector<std::unique_ptr<part_stream>> streams_;
  uint64_t stream_failed_for_ = 0;
  std::string stream_error_;
  std::thread thread_;
};

} // namespace vigil
