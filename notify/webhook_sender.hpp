#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace vigil {

/// What a sender did, readable from other threads (`/metrics`).
struct webhook_stats {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed_attempts{0};  ///< each retried, up to max_attempts
  std::atomic<uint64_t> dropped{0};          ///< given up on, or pushed out of a full queue
  std::atomic<uint64_t> queued{0};           ///< waiting or in flight now
  /// When the oldest notification waiting or in flight was posted (wall
  /// clock ms; 0: none): a stuck endpoint shows as an age that grows.
  std::atomic<int64_t> oldest_ms{0};
};

struct webhook_options {
  std::string url;
  std::chrono::milliseconds timeout{5000};        ///< per request
  size_t max_attempts = 8;                        ///< per notification
  size_t queue_limit = 10000;                     ///< waiting notifications at most
  std::chrono::milliseconds first_backoff{100};   ///< doubles per failed attempt
  std::chrono::milliseconds max_backoff{30000};
  /// Where the counts go (null: the sender's own).
  std::shared_ptr<webhook_stats> stats;
};

/// Delivers JSON bodies by HTTP POST (libcurl) from a thread of its own, in
/// order, so the caller never waits on the network. A failed attempt
/// (connection error, timeout, 5xx, 429) is retried with exponential
/// backoff; any other 4xx is a permanent refusal and not retried. Beyond
/// `max_attempts` a notification is dropped, and when the queue is full the
/// oldest waiting one is: both counted and logged, so a dead endpoint costs
/// bounded memory and never stops the node.
class webhook_sender {
public:
  explicit webhook_sender(webhook_options opts);
  ~webhook_sender();
  webhook_sender(const webhook_sender&) = delete;
  webhook_sender& operator=(const webhook_sender&) = delete;

  /// Queues one POST body; never blocks.
  void post(std::string body);

  /// Waits until nothing is queued or in flight, at most `max_wait`; true
  /// when everything was delivered or given up on.
  bool drain(std::chrono::milliseconds max_wait);

  uint64_t delivered() const noexcept { return stats_->delivered; }
  uint64_t failed_attempts() const noexcept { return stats_->failed_attempts; }
  uint64_t dropped() const noexcept { return stats_->dropped; }

private:
  void run();
  /// One POST; `permanent` is set when retrying cannot help.
  bool attempt(const std::string& body, bool& permanent, std::string& why);

  webhook_options opts_;
  std::mutex mu_;
  std::condition_variable wake_, idle_;
  struct queued_body {
    std::string body;
    int64_t posted_ms = 0;
  };
  std::deque<queued_body> queue_;
  void count_queue();  // stats_->queued and oldest_ms; under mu_
  bool busy_ = false;
  bool stopping_ = false;
  std::shared_ptr<webhook_stats> stats_;
  std::thread thread_;
};

} // namespace vigil
