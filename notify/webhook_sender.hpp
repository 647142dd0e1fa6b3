#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace vigil {

struct webhook_options {
  std::string url;
  std::chrono::milliseconds timeout{5000};        ///< per request
  size_t max_attempts = 8;                        ///< per notification
  size_t queue_limit = 10000;                     ///< waiting notifications at most
  std::chrono::milliseconds first_backoff{100};   ///< doubles per failed attempt
  std::chrono::milliseconds max_backoff{30000};
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

  uint64_t delivered() const noexcept { return delivered_; }
  uint64_t failed_attempts() const noexcept { return failed_attempts_; }
  uint64_t dropped() const noexcept { return dropped_; }

private:
  void run();
  /// One POST; `permanent` is set when retrying cannot help.
  bool attempt(const std::string& body, bool& permanent, std::string& why);

  webhook_options opts_;
  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<std::string> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::atomic<uint64_t> delivered_{0}, failed_attempts_{0}, dropped_{0};
  std::thread thread_;
};

} // namespace vigil
