#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "metrics/http_endpoint.hpp"
#include "metrics/registry.hpp"

using namespace vigil;

TEST_CASE("the registry renders Prometheus text: help, type, escaped labels, hooks read at scrape time") {
  metrics_registry r;
  r.describe("vigil_peer_up", metrics_registry::kind::gauge, "1 while the peer is heard from.");
  r.describe("vigil_rollbacks_total", metrics_registry::kind::counter, "Rollbacks.");
  r.set("vigil_peer_up", {{"peer", "agent-1"}}, 1);
  r.set("vigil_peer_up", {{"peer", "we\"ird\\name\n"}}, 0);
  r.add("vigil_rollbacks_total", {});
  r.add("vigil_rollbacks_total", {}, 2);
  double scraped = 0;
  r.on_render([&](metrics_registry& m) { m.set("vigil_peer_up", {{"peer", "agent-2"}}, ++scraped); });
  const std::string text = r.render();
  CHECK(text.find("# HELP vigil_peer_up 1 while the peer is heard from.\n# TYPE vigil_peer_up gauge\n") != std::string::npos);
  CHECK(text.find("vigil_peer_up{peer=\"agent-1\"} 1\n") != std::string::npos);
  CHECK(text.find("vigil_peer_up{peer=\"agent-2\"} 1\n") != std::string::npos);
  CHECK(text.find("vigil_peer_up{peer=\"we\\\"ird\\\\name\\n\"} 0\n") != std::string::npos);
  CHECK(text.find("# TYPE vigil_rollbacks_total counter\nvigil_rollbacks_total 3\n") != std::string::npos);
  CHECK(r.render().find("vigil_peer_up{peer=\"agent-2\"} 2\n") != std::string::npos);
}

TEST_CASE("the HTTP endpoint serves /metrics, /healthz and /readyz on loopback, and says where it cannot listen") {
  auto registry = std::make_shared<metrics_registry>();
  registry->describe("vigil_up", metrics_registry::kind::gauge, "Up.");
  registry->set("vigil_up", {}, 1);
  std::atomic<bool> ready{false};
  http_endpoint endpoint("127.0.0.1:0", registry, [&] { return ready ? std::string() : std::string("warming up"); });
  REQUIRE(endpoint.port() > 0);
  httplib::Client client("127.0.0.1", endpoint.port());
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type").find("version=0.0.4") != std::string::npos);
  CHECK(metrics->body.find("vigil_up 1\n") != std::string::npos);
  CHECK(client.Get("/healthz")->status == 200);
  auto not_ready = client.Get("/readyz");
  CHECK(not_ready->status == 503);
  CHECK(not_ready->body == "not ready: warming up\n");
  ready = true;
  CHECK(client.Get("/readyz")->status == 200);
  CHECK(client.Get("/nothing")->status == 404);
  try {
    http_endpoint clash("127.0.0.1:" + std::to_string(endpoint.port()), registry, [] { return std::string(); });
    FAIL("a second endpoint on a port in use started");
  } catch (const std::runtime_error& ex) {
    CHECK(std::string(ex.what()).find("cannot listen there") != std::string::npos);
  }
}

namespace {

/// A TCP connection to 127.0.0.1:port that writes what it is given.
struct raw_connection {
  int fd = -1;
  explicit raw_connection(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ~raw_connection() {
    if (fd >= 0) ::close(fd);
  }
  bool send(const std::string& text) const {
    return fd >= 0 && ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  }
};

} // namespace

TEST_CASE("the HTTP endpoint stays responsive under slowloris headers and refuses a 10 MB header") {
  auto registry = std::make_shared<metrics_registry>();
  registry->describe("vigil_up", metrics_registry::kind::gauge, "Up.");
  http_endpoint endpoint("127.0.0.1:0", registry, [] { return std::string(); });
  REQUIRE(endpoint.port() > 0);
  // More slow clients than httplib has threads by default (8 on a small
  // machine): each sends a header line a second and never ends its request.
  constexpr int slow_clients = 24;
  std::vector<std::unique_ptr<raw_connection>> slow;
  for (int i = 0; i < slow_clients; ++i) {
    slow.push_back(std::make_unique<raw_connection>(endpoint.port()));
    REQUIRE(slow.back()->send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  }
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    for (int s = 0; s < 10 && !done; ++s) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      for (auto& c : slow) c->send("X-Slow-" + std::to_string(s) + ": y\r\n");
    }
  });
  httplib::Client client("127.0.0.1", endpoint.port());
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  int answered = 0;
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    auto r = client.Get("/healthz");
    if (r && r->status == 200) ++answered;
  }
  CHECK(answered == 4);

  // One header of 10 MB: refused (or the connection closed), and the
  // endpoint goes on serving.
  {
    raw_connection big(endpoint.port());
    big.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ");
    const std::string mb(1 << 20, 'a');
    int sent = 0;
    while (sent < 10 && big.send(mb)) ++sent;
    big.send("\r\n\r\n");
    char buf[256] = {};
    ::recv(big.fd, buf, sizeof buf - 1, 0);
    const std::string reply(buf);
    CHECK((reply.empty() || reply.find(" 200 ") == std::string::npos));
  }
  auto after = client.Get("/metrics");
  REQUIRE(after);
  CHECK(after->status == 200);
  done = true;
  trickle.join();
}
