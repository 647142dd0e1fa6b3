#include "notify/webhook_sender.hpp"

#include <algorithm>
#include <mutex>

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include "parse/timestamp.hpp"

namespace vigil {

namespace {

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

} // namespace

webhook_sender::webhook_sender(webhook_options opts)
  : opts_(std::move(opts)), stats_(opts_.stats ? opts_.stats : std::make_shared<webhook_stats>()) {
  // Not thread-safe, and needed once per process.
  static std::once_flag curl_ready;
  std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  thread_ = std::thread([this] { run(); });
}

webhook_sender::~webhook_sender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (!queue_.empty())
    spdlog::warn("webhook {}: {} notifications not delivered at shutdown", opts_.url, queue_.size());
}

void webhook_sender::post(std::string body) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The head may be in flight: it stays, the oldest waiting one goes.
    const size_t first_waiting = busy_ ? 1 : 0;
    if (queue_.size() >= opts_.queue_limit && queue_.size() > first_waiting) {
      queue_.erase(queue_.begin() + static_cast<long>(first_waiting));
      if (stats_->dropped++ == 0)
        spdlog::warn("webhook {}: queue full ({}), dropping the oldest notifications", opts_.url,
                     opts_.queue_limit);
    }
    queue_.push_back({std::move(body), wall_clock_ms()});
    count_queue();
  }
  wake_.notify_one();
}

bool webhook_sender::drain(std::chrono::milliseconds max_wait) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_.wait_for(lock, max_wait, [this] { return queue_.empty() && !busy_; });
}

bool webhook_sender::attempt(const std::string& body, bool& permanent, std::string& why) {
  CURL* curl = curl_easy_init();
  if (!curl) {
    why = "curl_easy_init failed";
    return false;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, opts_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(opts_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    why = curl_easy_strerror(rc);
    return false;
  }
  if (status >= 200 && status < 300) return true;
  why = "HTTP " + std::to_string(status);
  permanent = status >= 400 && status < 500 && status != 429 && status != 408;
  return false;
}

void webhook_sender::count_queue() {
  stats_->queued = queue_.size();
  stats_->oldest_ms = queue_.empty() ? 0 : queue_.front().posted_ms;
}

void webhook_sender::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::string body = queue_.front().body;
    busy_ = true;
    auto backoff = opts_.first_backoff;
    bool sent = false;
    for (size_t n = 1; n <= opts_.max_attempts && !stopping_; ++n) {
      lock.unlock();
      bool permanent = false;
      std::string why;
      sent = attempt(body, permanent, why);
      lock.lock();
      if (sent) break;
      ++stats_->failed_attempts;
      if (permanent || n == opts_.max_attempts) {
        spdlog::error("webhook {}: giving up on a notification after {} attempt{}: {}", opts_.url, n,
                      n == 1 ? "" : "s", why);
        break;
      }
      spdlog::warn("webhook {}: attempt {} failed ({}), retrying in {} ms", opts_.url, n, why, backoff.count());
      wake_.wait_for(lock, backoff, [this] { return stopping_; });
      backoff = std::min(backoff * 2, opts_.max_backoff);
    }
    if (stopping_) return;
    queue_.pop_front();  // the head was in flight: `post` left it alone
    count_queue();
    if (sent) ++stats_->delivered;
    else ++stats_->dropped;
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

} // namespace vigil
