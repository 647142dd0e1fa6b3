#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vigil {

/// What one stage of the pipeline (a parse stage, the window stage, a sink)
/// did, for `/metrics` and the dashboard's stage graph: messages and items
/// in and out, the time its handlers ran (busy: a stage near 1 s/s is the
/// bottleneck), and its mailbox as the last handler found it (messages
/// waiting: backpressure upstream of it). Written by the stage's own
/// thread, read by scrapes.
struct stage_tally {
  explicit stage_tally(std::string stage_name) : stage(std::move(stage_name)) {}
  std::string stage;
  std::atomic<uint64_t> items_in{0}, items_out{0};
  std::atomic<uint64_t> items_dropped{0};  ///< a sink's lines over its max_bytes
  std::atomic<uint64_t> busy_ns{0};
  std::atomic<uint64_t> mailbox{0};
};

/// Times one handler of actor `self` into a tally (null: nothing), and
/// records the messages still in its mailbox when the handler is done.
template <class Self>
class stage_timer {
public:
  stage_timer(stage_tally* t, Self* self)
    : tally_(t), self_(self), start_(t ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{}) {}
  ~stage_timer() {
    if (!tally_) return;
    tally_->busy_ns += static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count());
    tally_->mailbox = self_->mailbox().size();
  }
  stage_timer(const stage_timer&) = delete;
  stage_timer& operator=(const stage_timer&) = delete;

private:
  stage_tally* tally_;
  Self* self_;
  std::chrono::steady_clock::time_point start_;
};

template <class Self>
stage_timer(stage_tally*, Self*) -> stage_timer<Self>;

/// The node's stage tallies by name, in the order they were first asked for.
class stage_tallies {
public:
  std::shared_ptr<stage_tally> of(const std::string& stage) {
    std::lock_guard<std::mutex> guard(lock_);
    auto& t = by_name_[stage];
    if (!t) {
      t = std::make_shared<stage_tally>(stage);
      order_.push_back(t);
    }
    return t;
  }
  std::vector<std::shared_ptr<stage_tally>> all() const {
    std::lock_guard<std::mutex> guard(lock_);
    return order_;
  }

private:
  mutable std::mutex lock_;
  std::map<std::string, std::shared_ptr<stage_tally>> by_name_;
  std::vector<std::shared_ptr<stage_tally>> order_;
};

} // namespace vigil
