#pragma once

#include <mutex>
#include <vector>

#include "alerting/alert_router.hpp"
#include "messages/alert.hpp"

namespace vigil {

/// The alerts firing now, as the alert stage last saw them, for the HTTP
/// side (`/api/v1/alerts`, the dashboard). Thread-safe: the stage publishes
/// after every change, the HTTP threads take copies.
class alert_board {
public:
  using counts = alert_router::sent_counts;

  void publish(std::vector<alert> firing, counts sent) {
    std::lock_guard<std::mutex> guard(lock_);
    firing_ = std::move(firing);
    sent_ = std::move(sent);
  }
  counts sent() const {
    std::lock_guard<std::mutex> guard(lock_);
    return sent_;
  }
  std::vector<alert> firing() const {
    std::lock_guard<std::mutex> guard(lock_);
    return firing_;
  }

private:
  mutable std::mutex lock_;
  std::vector<alert> firing_;
  counts sent_;
};

} // namespace vigil
