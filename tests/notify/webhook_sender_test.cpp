// A real HTTP server (cpp-httplib) on loopback receives the webhooks.

#include <atomic>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "notify/webhook_sender.hpp"
#include "parse/timestamp.hpp"

using namespace vigil;

namespace {

/// An HTTP server on a free loopback port, answering POST /hook with the
/// status `answer` picks for the n-th request (1-based).
struct hook_server {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::vector<std::string> bodies;  // the accepted ones
  std::vector<std::string> content_types;
  std::atomic<int> requests{0};

  explicit hook_server(std::function<int(int)> answer) {
    server.Post("/hook", [this, answer](const httplib::Request& req, httplib::Response& res) {
      const int n = ++requests;
      res.status = answer(n);
      if (res.status == 200) {
        std::lock_guard<std::mutex> lock(mu);
        bodies.push_back(req.body);
        content_types.push_back(req.get_header_value("Content-Type"));
      }
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    // Bound and listening already: connections wait in the backlog until
    // the accept loop runs.
  }
  ~hook_server() {
    server.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/hook"; }
};

webhook_options fast(std::string url) {
  webhook_options o;
  o.url = std::move(url);
  o.first_backoff = std::chrono::milliseconds(10);
  o.timeout = std::chrono::milliseconds(2000);
  return o;
}

} // namespace

TEST_CASE("webhook: failed attempts are retried with backoff and delivery keeps order") {
  hook_server hook{[](int n) { return n <= 2 ? 503 : 200; }};
  {
    webhook_sender sender{fast(hook.url())};
    sender.post(R"([{"id":"1"}])");
    sender.post(R"([{"id":"2"}])");
    sender.post(R"([{"id":"3"}])");
    REQUIRE(sender.drain(std::chrono::seconds(20)));
    CHECK(sender.delivered() == 3);
    CHECK(sender.failed_attempts() == 2);
    CHECK(sender.dropped() == 0);
  }
  std::lock_guard<std::mutex> lock(hook.mu);
  CHECK(hook.bodies == std::vector<std::string>{R"([{"id":"1"}])", R"([{"id":"2"}])", R"([{"id":"3"}])"});
  CHECK(hook.requests == 5);
  CHECK(hook.content_types == std::vector<std::string>(3, "application/json"));
}

TEST_CASE("webhook: a 4xx refusal is not retried") {
  hook_server hook{[](int n) { return n == 1 ? 400 : 200; }};
  webhook_sender sender{fast(hook.url())};
  sender.post("[1]");
  sender.post("[2]");
  REQUIRE(sender.drain(std::chrono::seconds(20)));
  CHECK(sender.dropped() == 1);
  CHECK(sender.delivered() == 1);
  CHECK(hook.requests == 2);
}

TEST_CASE("webhook: a dead endpoint costs a bounded queue, never a blocked caller") {
  // A port nobody listens on: bind a server, note its port, stop it.
  int port = 0;
  {
    httplib::Server s;
    port = s.bind_to_any_port("127.0.0.1");
  }
  auto opts = fast("http://127.0.0.1:" + std::to_string(port) + "/hook");
  opts.queue_limit = 2;
  opts.max_attempts = 1000;
  opts.first_backoff = std::chrono::milliseconds(50);
  auto stats = std::make_shared<webhook_stats>();
  opts.stats = stats;
  const int64_t before = wall_clock_ms();
  webhook_sender sender{opts};
  for (int i = 0; i < 50; ++i) sender.post("[" + std::to_string(i) + "]");
  // At most the one in flight and `queue_limit` waiting survive.
  CHECK(sender.dropped() >= 47);
  CHECK_FALSE(sender.drain(std::chrono::milliseconds(100)));
  CHECK(sender.delivered() == 0);
  // The stuck head's age is there to see: posted before it began failing.
  CHECK(stats->oldest_ms >= before);
  CHECK(stats->oldest_ms <= wall_clock_ms());
}

TEST_CASE("webhook: the oldest waiting time is 0 once everything is delivered") {
  hook_server hook{[](int) { return 200; }};
  auto opts = fast(hook.url());
  auto stats = std::make_shared<webhook_stats>();
  opts.stats = stats;
  webhook_sender sender{opts};
  sender.post("[1]");
  REQUIRE(sender.drain(std::chrono::seconds(20)));
  CHECK(stats->oldest_ms == 0);
  CHECK(stats->queued == 0);
}
