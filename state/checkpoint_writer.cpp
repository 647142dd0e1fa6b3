#include "state/checkpoint_writer.hpp"

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

void checkpoint_writer::submit(checkpoint_info info, std::vector<state_part> parts) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back({info, std::move(parts)});
  }
  wake_.notify_one();
}

void checkpoint_writer::run() {
  // Linux: a thread's nice value is its own.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  for (;;) {
    job j;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, all written
      j = std::move(jobs_.front());
      jobs_.pop_front();
    }
    std::string error;
    const bool ok = store_->write_checkpoint(j.info, j.parts, error);
    if (ok) store_->prune(keep_);
    done_(j.info.id, ok, error);
  }
}

} // namespace vigil
