#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include <caf/typed_response_promise.hpp>

namespace vigil {

/// Backpressure for a stage that hands work on with requests: it counts
/// requests in flight, and once more than `limit` are, holds back its own
/// replies to its sender (whose credit they are) until enough come back.
/// The stage keeps working on what it already has; its sender waits.
class credit_gate {
public:
  explicit credit_gate(size_t limit) : limit_(limit) {}

  /// A request left.
  void acquire() noexcept { ++in_flight_; }

  /// A request came back: releases held replies while below the limit, and
  /// runs the idle callbacks once nothing is in flight.
  void release() {
    --in_flight_;
    while (in_flight_ <= limit_ && !held_.empty()) {
      auto [rp, n] = std::move(held_.front());
      held_.pop_front();
      rp.deliver(n);
    }
    if (in_flight_ == 0) {
      auto idle = std::move(on_idle_);
      on_idle_.clear();
      for (auto& f : idle) f();
    }
  }

  /// Keeps a reply the stage promised earlier: now, or once the requests
  /// in flight are back under the limit.
  void deliver(caf::typed_response_promise<uint64_t> rp, uint64_t n) {
    if (in_flight_ <= limit_) rp.deliver(n);
    else held_.emplace_back(std::move(rp), n);
  }

  /// Runs `f` once nothing is in flight (now, if nothing is).
  void when_idle(std::function<void()> f) {
    if (in_flight_ == 0) f();
    else on_idle_.push_back(std::move(f));
  }

  size_t in_flight() const noexcept { return in_flight_; }

private:
  size_t limit_;
  size_t in_flight_ = 0;
  std::deque<std::pair<caf::typed_response_promise<uint64_t>, uint64_t>> held_;
  std::vector<std::function<void()>> on_idle_;
};

} // namespace vigil
