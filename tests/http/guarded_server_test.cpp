#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "http/guarded_server.hpp"
#include "support/raw_connection.hpp"

using namespace vigil;
using vigil::test::raw_connection;

namespace {

/// A guarded server on a free loopback port, serving `GET /ok`.
struct running_server {
  guarded_server server;
  std::thread thread;
  int port = 0;

  explicit running_server(guarded_server::limits limits) : server(limits) {
    server.new_task_queue = [] { return new httplib::ThreadPool(32); };
    server.set_read_timeout(std::chrono::seconds(2));
    server.Get("/ok", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
  }
  ~running_server() {
    server.stop();
    thread.join();
  }
};

/// What `c` is sent until the body of /ok (headers and body may come in
/// separate segments), within 5 s.
std::string ok_response(const raw_connection& c) {
  std::string r;
  for (int i = 0; i < 50 && r.find("\r\n\r\nok\n") == std::string::npos; ++i)
    r += c.reply(std::chrono::milliseconds(100));
  return r;
}

} // namespace

TEST_CASE("guarded_server: a client address holds its share of connections, no more, and others are served") {
  running_server s(guarded_server::limits{4, std::chrono::seconds(30)});
  REQUIRE(s.port > 0);
  // Ten half-sent requests from one address: four are held, six are told
  // 503 and closed at once.
  std::vector<std::unique_ptr<raw_connection>> half;
  for (int i = 0; i < 10; ++i) {
    half.push_back(std::make_unique<raw_connection>(s.port, "127.0.0.2"));
    REQUIRE(half.back()->send("GET /ok HTTP/1.1\r\nHost: x\r\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // most likely in order
  }
  int refused = 0, held = 0;
  raw_connection* first_held = nullptr;
  for (size_t i = 0; i < half.size(); ++i) {
    bool closed = false;
    const std::string r = half[i]->reply(std::chrono::milliseconds(i < 4 ? 100 : 2000), &closed);
    if (r.rfind("HTTP/1.1 503", 0) == 0) {
      ++refused;
      CHECK(r.find("Retry-After: 1") != std::string::npos);
      if (!closed) half[i]->reply(std::chrono::seconds(2), &closed);
      CHECK(closed);
    } else {
      CHECK(r.empty());
      CHECK_FALSE(closed);
      ++held;
      if (!first_held) first_held = half[i].get();
    }
  }
  CHECK(held == 4);
  CHECK(refused == 6);
  CHECK(s.server.turned_away()->refused == 6);

  // Another address is served while the first one is at its share.
  raw_connection other(s.port, "127.0.0.3");
  REQUIRE(other.send("GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  CHECK(other.reply(std::chrono::seconds(5)).rfind("HTTP/1.1 200", 0) == 0);

  // Ending a held request gives its slot back: the next connection of the
  // first address is served.
  REQUIRE(first_held);
  REQUIRE(first_held->send("Connection: close\r\n\r\n"));
  CHECK(ok_response(*first_held).rfind("HTTP/1.1 200", 0) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  raw_connection again(s.port, "127.0.0.2");
  REQUIRE(again.send("GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  CHECK(again.reply(std::chrono::seconds(5)).rfind("HTTP/1.1 200", 0) == 0);
  CHECK(s.server.turned_away()->refused == 6);
  CHECK(s.server.turned_away()->timed_out == 0);
}

TEST_CASE("guarded_server: a request trickled past the deadline is answered 400 and closed, keep-alive goes on") {
  running_server s(guarded_server::limits{4, std::chrono::milliseconds(1500)});
  REQUIRE(s.port > 0);
  raw_connection slow(s.port);
  REQUIRE(slow.send("GET /ok HTTP/1.1\r\nHost: x\r\n"));
  // A header line every 300 ms: each read comes well within the read
  // timeout, so only the deadline ends it.
  bool closed = false;
  std::string reply;
  for (int i = 0; i < 30 && !closed; ++i) {
    slow.send("X-Slow-" + std::to_string(i) + ": y\r\n");
    reply += slow.reply(std::chrono::milliseconds(300), &closed);
  }
  CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(closed);
  CHECK(s.server.turned_away()->timed_out == 1);

  // Requests that arrive whole share one connection as httplib's do.
  raw_connection fast(s.port);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(fast.send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string r = ok_response(fast);
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(r.find("\r\n\r\nok\n") != std::string::npos);
  }
  CHECK(s.server.turned_away()->timed_out == 1);
}
