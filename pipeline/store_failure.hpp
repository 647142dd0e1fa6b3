#pragma once

#include <atomic>
#include <mutex>
#include <string>

namespace vigil {

/// Set once the state store gave up writing checkpoints (a full disk), from
/// the checkpoint writer's thread; the node's main loop polls `failed` and
/// stops with exit 1, naming `error()`.
class store_failure {
public:
  void set(const std::string& e) {
    std::lock_guard<std::mutex> guard(lock_);
    error_ = e;
    failed_ = true;
  }
  bool failed() const noexcept { return failed_; }
  std::string error() const {
    std::lock_guard<std::mutex> guard(lock_);
    return error_;
  }

private:
  std::atomic<bool> failed_{false};
  mutable std::mutex lock_;
  std::string error_;
};

/// What a node that stops on a store failure logs: the error, and that the
/// next start resumes exactly.
inline std::string store_failure_message(const std::string& node, const std::string& error) {
  return "node " + node + ": stopping: " + error
         + ". Once the state dir can be written again, start the node: it resumes from its last complete "
           "checkpoint and replays what came after, exactly once.";
}

} // namespace vigil
